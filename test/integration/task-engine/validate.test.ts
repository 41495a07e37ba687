/**
 * The engine's `POST /task/validate` (Othentic's validation shape) over real HTTP, reading
 * execution records from a real IPFS node: a record re-run from its inputs gives its digest
 * (true), anything else is false, and a gateway that does not answer is an abstention (500).
 * A record with a sent write and transfer (real anvil) validates from its recorded receipts
 * only once each transaction is found on that chain as recorded: a made-up one, even with a
 * digest to match, is refused, and so is any sent transaction by an engine that cannot read
 * its chain.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { type JsonRpcProvider, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRpc } from "../../../src/chain/rpc.js";
import { toDataHex } from "../../../src/crypto/bytes.js";
import { type IpfsServer, startIpfsServer } from "../../../src/ipfs/server.js";
import { pinJson } from "../../../src/task-engine/attest.js";
import { executionDigest, executionDocument, replayExecution } from "../../../src/task-engine/record.js";
import { chainLookup } from "../../../src/task-engine/settings.js";
import type { Execution } from "../../../src/task-engine/types.js";
import type { WorkflowChain } from "../../../src/workflow/context.js";
import { InputTape, runWorkflow, validateWorkflow } from "../../../src/workflow/index.js";
import { ANVIL_DEV_PRIVATE_KEYS, useAnvil } from "../../helpers/anvil.js";
import { pingWriteNode, transferNode } from "../../helpers/workflow-nodes.js";
import { call, flow, type Harness, startHarness } from "./helpers.js";

let ipfs: IpfsServer;
let engine: Harness;
let offline: Harness;
let blind: Harness;
let provider: JsonRpcProvider;
let chain: WorkflowChain;
const dir = mkdtempSync(path.join(tmpdir(), "avsctl-validate-"));
const anvil = useAnvil();

beforeAll(async () => {
  ({ provider } = await connectRpc(anvil().rpcUrl));
  chain = { provider, signer: new Wallet(ANVIL_DEV_PRIVATE_KEYS[2], provider) };
  ipfs = await startIpfsServer({ dataDir: dir });
  engine = await startHarness({
    ipfsGatewayUrl: ipfs.gatewayUrl,
    validationChains: chainLookup([{ chainId: 31337, rpcUrl: anvil().rpcUrl }]),
  });
  blind = await startHarness({ ipfsGatewayUrl: ipfs.gatewayUrl });
  // a gateway nothing listens on: the IPFS node's port once it is closed
  const closed = await startIpfsServer({ dataDir: path.join(dir, "closed") });
  await closed.close();
  offline = await startHarness({ ipfsGatewayUrl: closed.gatewayUrl });
});
afterAll(async () => {
  await engine?.close();
  await offline?.close();
  await blind?.close();
  await ipfs?.close();
  provider?.destroy();
  rmSync(dir, { recursive: true, force: true });
});

/** What a performer pins for one run of `raw`, and its digest. */
async function record(raw: unknown, options: { mode?: "simulate" | "run"; chain?: WorkflowChain } = {}) {
  const checked = await validateWorkflow(raw);
  const workflow = checked.workflow!;
  const execution = {
    id: "01JEXEC0000000000000000000",
    taskId: "01JTASK0000000000000000000",
    index: 0,
    triggerReason: { type: "manual" },
  } as Execution;
  const tape = InputTape.recording();
  const run = await runWorkflow(workflow, { mode: "simulate", ...options, tape, id: execution.id });
  const digest = executionDigest(execution, run);
  return { doc: executionDocument(execution, workflow, run, tape.inputs(), [], digest), digest };
}

const validate = (h: Harness, body: unknown) => call(h.engine.url, "POST", "/task/validate", undefined, body);
const task = (proofOfTask: string, data: string) => ({
  proofOfTask,
  data,
  taskDefinitionId: 2,
  performer: "0x0",
});

describe("POST /task/validate", () => {
  it("approves a record whose replay gives its digest; refuses another digest or an altered record", async () => {
    const { doc, digest } = await record(flow({}, "return trig.data.n * 10"));
    const cid = await pinJson(ipfs.pinataUrl, doc);
    const ok = await validate(engine, task(digest, toDataHex(cid)));
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ data: true, error: false, message: expect.any(String) });
    // the CID as text works too
    expect((await validate(engine, task(digest, cid))).body.data).toBe(true);

    const wrong = await validate(engine, task(`0x${"ab".repeat(32)}`, toDataHex(cid)));
    expect(wrong.body).toMatchObject({ data: false, error: false, message: expect.stringMatching(/digest/) });

    const altered = { ...doc, triggerData: { n: 2 } };
    const alteredCid = await pinJson(ipfs.pinataUrl, altered);
    expect((await validate(engine, task(digest, toDataHex(alteredCid)))).body.data).toBe(false);
  });

  it("approves a record whose write and transfer were sent and are on-chain as recorded; refuses a made-up one", async () => {
    const raw = {
      name: "pay",
      trigger: { id: "trigger", name: "trig", type: "manual", config: { data: { n: 3 } } },
      nodes: [pingWriteNode(), transferNode("1")],
      edges: [
        { id: "e0", source: "trigger", target: "w" },
        { id: "e1", source: "w", target: "t" },
      ],
    };
    const { doc, digest } = await record(raw, { mode: "run", chain });
    expect(doc.status).toBe("success");
    const cid = await pinJson(ipfs.pinataUrl, doc);
    expect((await validate(engine, task(digest, toDataHex(cid)))).body).toMatchObject({ data: true });

    const forged = structuredClone(doc);
    const sent = forged.inputs.find((i) => i.kind === "tx" && !("data" in (i.request as object)))!;
    (sent.value as { txHash: string }).txHash = `0x${"34".repeat(32)}`;
    const forgedCid = await pinJson(ipfs.pinataUrl, forged);
    expect((await validate(engine, task(digest, toDataHex(forgedCid)))).body.data).toBe(false);

    // made up but consistent: the digest is the one its replay gives, the transaction is not on-chain
    const { digest: forgedDigest } = (await replayExecution(forged, "0x")) as { digest: string };
    const consistent = await validate(engine, task(forgedDigest, toDataHex(forgedCid)));
    expect(consistent.body).toMatchObject({
      data: false,
      error: false,
      message: expect.stringMatching(/^the recorded transaction 0x(34){32} is not on chain 31337$/),
    });
    // an engine that cannot read the chain vouches for no sent transaction
    expect((await validate(blind, task(digest, toDataHex(cid)))).body).toMatchObject({
      data: false,
      message: expect.stringMatching(/on chain 31337, which this validator cannot read/),
    });
  });

  it("refuses data that names no record, and a record that is not one", async () => {
    const notCid = await validate(engine, task("0x00", toDataHex("not a cid!")));
    expect(notCid.body).toMatchObject({ data: false, message: expect.stringMatching(/not the CID/) });
    const missing = await validate(
      engine,
      task("0x00", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"),
    );
    expect(missing.body.data).toBe(false);
    const junk = await pinJson(ipfs.pinataUrl, { hello: "world" });
    const notRecord = await validate(engine, task("0x00", junk));
    expect(notRecord.body).toMatchObject({
      data: false,
      message: expect.stringMatching(/not an execution record/),
    });
    const bad = await validate(engine, { data: 1 });
    expect(bad.status).toBe(400);
  });

  it("abstains (500, error true) when its IPFS gateway does not answer", async () => {
    const r = await validate(
      offline,
      task("0x00", "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"),
    );
    expect(r.status).toBe(500);
    expect(r.body).toMatchObject({ data: null, error: true, message: expect.stringMatching(/unreachable/) });
  });
});
