/** The node's JSON-lines logger: record shape, redaction of secret-looking fields, plain values. */

import { describe, expect, it } from "vitest";
import { createLogger, jsonLinesSink } from "../../../src/node/log.js";

function capture(verbose = false) {
  const lines: Array<Record<string, unknown>> = [];
  const log = createLogger((r) => lines.push(r), { role: "attester", address: "0xabc" }, verbose);
  return { log, lines };
}

describe("node logger", () => {
  it("writes time, level, the base fields, msg, then the line's fields, in that order", () => {
    const { log, lines } = capture();
    log.info("voted approve", { taskHash: "0x01", chainId: 31337 });
    expect(Object.keys(lines[0]!)).toEqual([
      "time",
      "level",
      "role",
      "address",
      "msg",
      "taskHash",
      "chainId",
    ]);
    expect(lines[0]).toMatchObject({ level: "info", role: "attester", msg: "voted approve", chainId: 31337 });
    expect(Number.isNaN(Date.parse(lines[0]!.time as string))).toBe(false);
  });

  it("redacts secret-looking fields at any depth, and writes bigints and errors as text", () => {
    const { log, lines } = capture();
    log.warn("x", {
      privateKey: "0xdead",
      nested: { blsSecret: 1n, ok: 2n, list: [{ password: "p", fine: new Error("boom") }] },
      attester: 7n,
      error: new Error("bad"),
    });
    expect(lines[0]).toMatchObject({
      privateKey: "[redacted]",
      nested: { blsSecret: "[redacted]", ok: "2", list: [{ password: "[redacted]", fine: "boom" }] },
      attester: "7",
      error: "bad",
    });
    const child = createLogger((r) => lines.push(r), { sessionKey: "k", role: "aggregator" });
    child.error("y");
    expect(lines[1]).toMatchObject({ sessionKey: "[redacted]", role: "aggregator", level: "error" });
  });

  it("lets a line's fields override the base ones, and writes debug lines only when verbose", () => {
    const quiet = capture();
    quiet.log.debug("hidden");
    quiet.log.info("shown", { role: "override" });
    expect(quiet.lines.map((l) => l.msg)).toEqual(["shown"]);
    expect(quiet.lines[0]!.role).toBe("override");
    const loud = capture(true);
    loud.log.child({ peer: "0x1" }).debug("seen");
    expect(loud.lines[0]).toMatchObject({ msg: "seen", peer: "0x1", role: "attester", level: "debug" });
  });

  it("writes the JSON lines of one event-loop turn in one write, and what is pending on flush", async () => {
    const writes: string[] = [];
    const { sink, flush } = jsonLinesSink((text) => writes.push(text));
    sink({ msg: "a" });
    sink({ msg: "b" });
    expect(writes).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toEqual(['{"msg":"a"}\n{"msg":"b"}\n']);
    sink({ msg: "c" });
    flush();
    expect(writes[1]).toBe('{"msg":"c"}\n');
    flush();
    await new Promise((resolve) => setImmediate(resolve));
    expect(writes).toHaveLength(2);
  });
});
