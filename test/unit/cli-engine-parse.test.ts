import { describe, expect, it } from "vitest";
import { identifier, ulidId } from "../../src/cli/parse.js";

const refused = (fn: () => unknown) => {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string; details?: Record<string, unknown> }) ?? {};
  }
  throw new Error("not refused");
};

describe("task engine flag parsers", () => {
  it("takes a ULID id (any case) and refuses anything else naming the argument", () => {
    expect(ulidId("<id>")("01jg2fe5mdvkbpheg0peysdkac")).toBe("01JG2FE5MDVKBPHEG0PEYSDKAC");
    for (const bad of ["", "1", "01JG2FE5MDVKBPHEG0PEYSDKAU", "01JG2FE5MDVKBPHEG0PEYSDKAC0"]) {
      expect(refused(() => ulidId("<id>")(bad))).toMatchObject({
        code: "INVALID_ARGUMENT",
        details: { argument: "<id>" },
      });
    }
  });

  it("takes a JavaScript identifier as a secret name", () => {
    expect(identifier("<name>")("apiKey_2")).toBe("apiKey_2");
    for (const bad of ["2x", "a-b", "a.b", ""]) {
      expect(refused(() => identifier("<name>")(bad))).toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });
});

describe("engine commands refuse bad flags before sending anything", () => {
  const run = async (args: string[]) => {
    const { main } = await import("../../src/cli/main.js");
    let stdout = "";
    const out = { stdout: (t: string) => void (stdout += t), stderr: () => {} };
    // port 1 answers nothing: an attempt to send would exit 4, not 2
    const code = await main(["node", "avsctl", ...args, "--engine", "http://127.0.0.1:1", "--json"], out, {
      CI: "true",
      AVSCTL_PRIVATE_KEY: `0x${"11".repeat(32)}`,
    });
    return { code, error: JSON.parse(stdout).error };
  };

  it("exits 2 naming the flag or argument", async () => {
    for (const [args, argument] of [
      [["workflow", "list", "--status", "sleeping"], "--status"],
      [["workflow", "list", "--limit", "0"], "--limit"],
      [["workflow", "get", "42"], "<id>"],
      [["workflow", "execution", "01JG2FE5MDVKBPHEG0PEYSDKAC", "x"], "<execId>"],
      [["workflow", "trigger", "01JG2FE5MDVKBPHEG0PEYSDKAC", "--trigger-data", "{nope"], "--trigger-data"],
      [["secret", "set", "not-a-name", "--value", "v"], "<name>"],
      [["secret", "list", "--workflow", "abc"], "--workflow"],
    ] as const) {
      const r = await run([...args]);
      expect(r.code, args.join(" ")).toBe(2);
      expect(r.error).toMatchObject({ code: "INVALID_ARGUMENT", details: { argument } });
    }
  });
});
