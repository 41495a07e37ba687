import http from "node:http";
import type { AddressInfo } from "node:net";
import { getAddress, Interface, type JsonRpcProvider, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRpc } from "../../../src/chain/rpc.js";
import { executionDigest, executionDocument, replayExecution } from "../../../src/task-engine/record.js";
import type { Execution } from "../../../src/task-engine/types.js";
import type { WorkflowChain } from "../../../src/workflow/context.js";
import { comparableRecord, runWorkflow } from "../../../src/workflow/engine.js";
import { InputTape, type RecordedInput } from "../../../src/workflow/replay.js";
import { ANVIL_DEV_ADDRESSES, ANVIL_DEV_PRIVATE_KEYS, rpc, useAnvil } from "../../helpers/anvil.js";
import { PING_ABI, pingWriteNode, transferNode } from "../../helpers/workflow-nodes.js";
import { code, doc, edges, valid } from "./build.js";

// A feed on 127.0.0.1 whose answer changes with every request: a replay must not ask it.
let server: http.Server;
let url: string;
let hits = 0;
beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits++;
    if (req.url?.startsWith("/missing")) return void res.writeHead(404).end("gone");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ price: 3000 + hits }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const AC = "0x00000000000000000000000000000000000000aa";
const ABI = ["function numOfTaskDefinitions() view returns (uint16)"];

function workflowDoc() {
  return doc(
    [
      { id: "p", name: "p", type: "restApi", config: { url: `${url}/price`, method: "GET" } },
      { id: "m", name: "m", type: "restApi", config: { url: `${url}/missing`, method: "GET" } },
      {
        id: "c",
        name: "c",
        type: "contractRead",
        config: {
          contractAddress: AC,
          contractAbi: ABI,
          methodCalls: [{ methodName: "numOfTaskDefinitions" }],
        },
      },
      code("k", "return p.data.price * 2 + Number(c.data[0].value)"),
    ],
    edges("trigger->p", "trigger->m", "trigger->c", "p->k", "c->k"),
  );
}

/** A contractRead answer as it would be recorded: the eth_call's return data. */
function recordedCall(value: number) {
  const iface = new Interface(ABI);
  return {
    kind: "call" as const,
    request: { to: getAddress(AC), data: iface.encodeFunctionData("numOfTaskDefinitions") },
    value: iface.encodeFunctionResult("numOfTaskDefinitions", [value]),
  };
}

describe("recorded inputs and replay", () => {
  it("records every HTTP answer (a failure too) and replays the same steps without the network", async () => {
    const workflow = await valid(workflowDoc());
    const tape = InputTape.recording();
    // no chain: the contract read is answered from a tape that already has its answer
    const first = await runWorkflow(workflow, { mode: "simulate", tape });
    expect(first.steps.find((s) => s.name === "c")!.success).toBe(false); // no chain when recording
    const inputs = [...tape.inputs(), recordedCall(2)];
    expect(inputs.filter((i) => i.kind === "http")).toHaveLength(2);
    expect(inputs.find((i) => String((i.request as { url: string }).url).endsWith("/missing"))).toMatchObject(
      {
        value: { status: 404, text: "gone" },
      },
    );

    const before = hits;
    const replay = await runWorkflow(workflow, { mode: "simulate", tape: InputTape.replaying(inputs) });
    expect(hits).toBe(before);
    const steps = Object.fromEntries(replay.steps.map((s) => [s.name, s]));
    expect(steps.p!.output).toEqual(first.steps.find((s) => s.name === "p")!.output);
    expect(steps.m!.error).toMatch(/answered HTTP 404/);
    expect(steps.c!.output).toEqual([{ methodName: "numOfTaskDefinitions", value: "2" }]);
    expect(steps.k!.output).toBe((3000 + before - 1) * 2 + 2);
    // and twice the same
    const again = await runWorkflow(workflow, { mode: "simulate", tape: InputTape.replaying(inputs) });
    expect(comparableRecord(again)).toEqual(comparableRecord(replay));
  });

  it("a request nobody recorded fails its node; a malformed input is refused", async () => {
    const workflow = await valid(workflowDoc());
    const replay = await runWorkflow(workflow, { mode: "simulate", tape: InputTape.replaying([]) });
    expect(replay.steps.find((s) => s.name === "p")!.error).toMatch(
      /no recorded answer for this http request/,
    );
    expect(hits).toBeGreaterThan(0);
    expect(() => InputTape.replaying([{ kind: "smtp", request: {} } as never])).toThrow(/inputs\[0\]/);
  });

  it("replayExecution approves the record it was made from and refuses an altered input", async () => {
    const workflow = await valid(workflowDoc());
    const tape = InputTape.recording();
    await runWorkflow(workflow, { mode: "simulate", tape, id: "x" });
    const inputs = [...tape.inputs(), recordedCall(3)];
    // the performer's run: from the same inputs, as the engine records it
    const record = await runWorkflow(workflow, {
      mode: "simulate",
      tape: InputTape.replaying(inputs),
      id: "x",
    });
    expect(record.steps.find((s) => s.name === "k")!.output).toEqual(expect.any(Number));
    const execution = {
      id: "01JEXEC",
      taskId: "01JTASK",
      index: 4,
      triggerReason: { type: "manual" as const },
    };
    const digest = executionDigest(execution, record);
    const docOf = (ins: typeof inputs) => ({
      version: 1,
      executionId: execution.id,
      workflowId: execution.taskId,
      index: execution.index,
      triggerReason: execution.triggerReason,
      triggerData: record.steps[0]!.output,
      workflow,
      configVars: [],
      inputs: ins,
      digest,
    });
    expect(await replayExecution(docOf(inputs), digest)).toEqual({ valid: true, digest });

    const altered = structuredClone(inputs);
    const price = altered.find((i) => String((i.request as { url: string }).url).endsWith("/price"))!;
    (price.value as { text: string }).text = JSON.stringify({ price: 1 });
    const outcome = await replayExecution(docOf(altered), digest);
    expect(outcome).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/^the replay gives digest 0x/),
    });
    expect(await replayExecution(docOf(inputs), `0x${"00".repeat(32)}`)).toMatchObject({ valid: false });
    expect(await replayExecution({ version: 9 }, digest)).toMatchObject({ valid: false });
    expect(await replayExecution({ ...docOf(inputs), workflow: { name: "x" } }, digest)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/workflow is invalid/),
    });
  });
});

describe("contractWrite and ethTransfer in a record", () => {
  const chain = useAnvil();
  let provider: JsonRpcProvider;
  let workflowChain: WorkflowChain;
  beforeAll(async () => {
    ({ provider } = await connectRpc(chain().rpcUrl));
    workflowChain = { provider, signer: new Wallet(ANVIL_DEV_PRIVATE_KEYS[1], provider) };
  });
  afterAll(() => provider?.destroy());

  const sender = ANVIL_DEV_ADDRESSES[1];
  const nonceOf = async (address: string) =>
    Number(BigInt(await rpc<string>(chain().rpcUrl, "eth_getTransactionCount", [address, "latest"])));
  const execution = {
    id: "01JEXECWRITE",
    taskId: "01JTASKWRITE",
    index: 1,
    triggerReason: { type: "manual" },
  } as Execution;

  const writeDoc = () =>
    doc(
      [
        pingWriteNode(),
        transferNode("0.5eth"),
        code("k", "return [w.data[0].txHash ?? w.data[0].gasEstimate, t.data.txHash ?? t.data.gasEstimate]"),
      ],
      edges("trigger->w", "w->t", "t->k"),
    );

  async function performed(mode: "run" | "simulate") {
    const workflow = await valid(writeDoc());
    const tape = InputTape.recording();
    const record = await runWorkflow(workflow, { mode, chain: workflowChain, tape, id: execution.id });
    expect(record.status, JSON.stringify(record.steps)).toBe("success");
    const digest = executionDigest(execution, record);
    return { record, digest, doc: executionDocument(execution, workflow, record, tape.inputs(), [], digest) };
  }

  it("a sent write and transfer replay to the same digest without sending; a tampered answer does not", async () => {
    const { record, digest, doc: recorded } = await performed("run");
    const steps = Object.fromEntries(record.steps.map((s) => [s.name, s]));
    const [write] = steps.w!.output as Array<Record<string, unknown>>;
    expect(write).toMatchObject({ methodName: "ping", chainId: "31337", status: "success" });
    expect(steps.t!.output).toMatchObject({ amount: "500000000000000000", chainId: "31337" });
    const txs = recorded.inputs.filter((i) => i.kind === "tx");
    expect(txs).toHaveLength(2);
    expect(txs[0]!.request).toEqual({
      to: getAddress(ANVIL_DEV_ADDRESSES[5]!),
      data: new Interface(PING_ABI).encodeFunctionData("ping", [7]),
      value: "0",
    });
    // the receipt is on the chain the answer names
    const receipt = await rpc<{ status: string }>(chain().rpcUrl, "eth_getTransactionReceipt", [
      write!.txHash,
    ]);
    expect(receipt.status).toBe("0x1");

    const nonce = await nonceOf(sender);
    expect(await replayExecution(recorded, digest)).toEqual({ valid: true, digest });
    expect(await replayExecution(structuredClone(recorded), digest)).toEqual({ valid: true, digest });
    expect(await nonceOf(sender)).toBe(nonce);

    const tampered = structuredClone(recorded);
    const answer = tampered.inputs.find((i: RecordedInput) => i.kind === "tx")!;
    (answer.value as { txHash: string }).txHash = `0x${"12".repeat(32)}`;
    expect(await replayExecution(tampered, digest)).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/^the replay gives digest 0x/),
    });
    const dropped = { ...structuredClone(recorded), inputs: recorded.inputs.filter((i) => i.kind !== "tx") };
    expect(await replayExecution(dropped, digest)).toMatchObject({ valid: false });
    const malformed = structuredClone(recorded);
    malformed.inputs.find((i: RecordedInput) => i.kind === "tx")!.value = { txHash: 1 };
    expect(await replayExecution(malformed, digest)).toMatchObject({ valid: false });
  });

  it("with the chains to check on, a record's sent transactions must be on-chain as recorded", async () => {
    const { digest, doc: recorded } = await performed("run");
    const chains = (chainId: string) => (chainId === "31337" ? chain().rpcUrl : undefined);
    expect(await replayExecution(recorded, digest, { chains })).toEqual({ valid: true, digest });

    /** A record changed by `edit`, with the digest its replay gives: consistent, but made up. */
    const fabricated = async (edit: (answers: Array<Record<string, unknown>>) => void) => {
      const d = structuredClone(recorded);
      edit(
        d.inputs.filter((i: RecordedInput) => i.kind === "tx").map((i) => i.value as Record<string, unknown>),
      );
      const { digest: own } = (await replayExecution(d, "0x")) as { digest: string };
      expect(await replayExecution(d, own)).toEqual({ valid: true, digest: own });
      return replayExecution(d, own, { chains });
    };
    // a hash the chain never saw
    expect(
      await fabricated((a) => {
        a[0]!.txHash = `0x${"12".repeat(32)}`;
      }),
    ).toMatchObject({ valid: false, reason: expect.stringMatching(/is not on chain 31337$/) });
    // a real transaction, but another one (the transfer's, claimed for the write)
    expect(
      await fabricated((a) => {
        a[0]!.txHash = a[1]!.txHash;
        a[0]!.gasUsed = a[1]!.gasUsed;
      }),
    ).toMatchObject({ valid: false, reason: expect.stringMatching(/differs: .*sent to .*other calldata/) });
    // the right transaction in another block, or with other gas
    expect(
      await fabricated((a) => {
        a[0]!.blockNumber = (a[0]!.blockNumber as number) + 1;
      }),
    ).toMatchObject({ valid: false, reason: expect.stringMatching(/differs: block /) });
    expect(
      await fabricated((a) => {
        a[1]!.gasUsed = "20999";
      }),
    ).toMatchObject({ valid: false, reason: expect.stringMatching(/differs: gas used 21000, not 20999/) });
    // on a chain the validator cannot read
    expect(
      await fabricated((a) => {
        a[0]!.chainId = "999";
      }),
    ).toMatchObject({
      valid: false,
      reason: expect.stringMatching(/chain 999, which this validator cannot read/),
    });
    // a simulated run sends nothing: nothing to look up
    const simulated = await performed("simulate");
    expect(await replayExecution(simulated.doc, simulated.digest, { chains: () => undefined })).toEqual({
      valid: true,
      digest: simulated.digest,
    });
  });

  it("a simulated write and transfer replay to the same digest", async () => {
    const nonce = await nonceOf(sender);
    const { record, digest, doc: recorded } = await performed("simulate");
    expect(await nonceOf(sender)).toBe(nonce);
    expect(record.steps.find((s) => s.name === "t")!.output).toMatchObject({
      simulated: true,
      gasEstimate: "21000",
    });
    expect(await replayExecution(recorded, digest)).toEqual({ valid: true, digest });
    const tampered = structuredClone(recorded);
    (
      tampered.inputs.find((i: RecordedInput) => i.kind === "tx")!.value as { gasEstimate: string }
    ).gasEstimate = "1";
    expect(await replayExecution(tampered, digest)).toMatchObject({ valid: false });
  });
});
