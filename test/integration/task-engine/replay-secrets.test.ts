/**
 * A run that reads a secret, replayed as attesters replay it: the engine masks each secret as
 * "***" in what it records, and the replay renders "***" for it. A URL made of a secret (the
 * workflow template's PRICE_SOURCE_URL) is no URL in the replay; it used to be checked there
 * before the recorded answer was looked up, so every such run was rejected on-chain. Against a
 * real HTTP server on 127.0.0.1, with the workflow the template ships.
 */
import { readFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayExecution } from "../../../src/task-engine/record.js";
import { sealRun } from "../../../src/task-engine/worker.js";
import { InputTape, runWorkflow, validateWorkflow } from "../../../src/workflow/index.js";
import { sampleExecution } from "./helpers.js";

const template = JSON.parse(
  readFileSync(
    path.resolve(import.meta.dirname, "../../../templates/workflow/typescript/workflow.json"),
    "utf8",
  ),
);

let server: http.Server;
let base: string;
const asked: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    asked.push(req.url ?? "");
    res.setHeader("content-type", "application/json");
    res.end(JSON.stringify({ symbol: "ETHUSDT", price: "3120.25" }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** One run of the template's workflow as the engine's worker seals it for attesters. */
async function attestedRun(priceSourceUrl: string, raw: unknown = template) {
  const workflow = (await validateWorkflow(raw)).workflow!;
  const execution = sampleExecution();
  const configVars = { PRICE_SOURCE_URL: priceSourceUrl };
  const tape = InputTape.recording();
  const record = await runWorkflow(workflow, {
    mode: "simulate",
    tape,
    configVars,
    id: execution.id,
    index: 0,
  });
  const { result, doc } = sealRun(execution, workflow, record, {
    configVars,
    inputs: tape.inputs(),
    attest: true,
  });
  return { result, doc: JSON.parse(JSON.stringify(doc)) };
}

describe("replaying a run whose URL is a secret", () => {
  it("approves a run that fetched through the secret URL, and the record never holds the URL", async () => {
    const { result, doc } = await attestedRun(`${base}/price`);
    expect(result.status).toBe("success");
    expect(asked).toContain("/price?symbol=ETHUSDT");
    expect(JSON.stringify(doc)).not.toContain(base);
    expect(doc.inputs[0].request.url).toBe("***?symbol=ETHUSDT");
    expect(await replayExecution(doc, result.digest)).toEqual({ valid: true, digest: result.digest });
  });

  it("approves a run whose secret URL the request had to complete (no path)", async () => {
    // parsed, `http://host:port?symbol=..` gains a "/": the record keeps the URL as rendered
    const { result, doc } = await attestedRun(base);
    expect(result.status).toBe("success");
    expect(await replayExecution(doc, result.digest)).toEqual({ valid: true, digest: result.digest });
  });

  it("approves a failed run as failed: a secret that is no URL, and one nothing answers", async () => {
    for (const secret of ["not a url", "http://127.0.0.1:1/price"]) {
      const { result, doc } = await attestedRun(secret);
      expect(result.status, secret).toBe("failed");
      expect(JSON.stringify(result)).not.toContain(secret);
      expect(await replayExecution(doc, result.digest), secret).toEqual({
        valid: true,
        digest: result.digest,
      });
    }
  });

  it("approves a workflow whose literal URL holds another workflow's secret", async () => {
    // the owner's secret is `${base}/price`; this workflow names that URL itself
    const literal = structuredClone(template);
    literal.nodes[0].config.url = `${base}/price?symbol={{ symbol }}`;
    const { result, doc } = await attestedRun(`${base}/price`, literal);
    expect(result.status).toBe("success");
    expect(await replayExecution(doc, result.digest)).toEqual({ valid: true, digest: result.digest });
  });

  it("still refuses a replay whose recorded answer was altered", async () => {
    const { result, doc } = await attestedRun(`${base}/price`);
    doc.inputs[0].value.text = JSON.stringify({ symbol: "ETHUSDT", price: "1.00" });
    const replay = await replayExecution(doc, result.digest);
    expect(replay.valid).toBe(false);
  });
});
