/**
 * The gas of a task whose submission reverted: the dashboard reads the receipt of the
 * transaction the aggregator's `task submission failed` line names. Real anvil; the reverted
 * transaction is a call to code that reverts.
 */
import { JsonRpcProvider } from "ethers";
import { afterAll, describe, expect, it } from "vitest";
import { failedGasReader } from "../../../src/dashboard/feed.js";
import { TaskBook, type TaskChange } from "../../../src/dashboard/tasks.js";
import { parseLogLine } from "../../../src/devnet/logs.js";
import { ANVIL_DEV_ADDRESSES, rpc, useAnvil } from "../../helpers/anvil.js";

const HASH = `0x${"c3".repeat(32)}`;
const REVERTER = `0x${"42".repeat(20)}`;
const line = (msg: string, fields: Record<string, unknown>) =>
  parseLogLine(
    "aggregator",
    JSON.stringify({ time: new Date().toISOString(), level: "info", msg, ...fields }),
    undefined,
  ).entry;

describe("a failed submission's gas on the dashboard", () => {
  const chain = useAnvil({ chainId: 31338 });
  const providers: JsonRpcProvider[] = [];
  afterAll(() => {
    for (const p of providers) p.destroy();
  });

  it("is read from the reverted transaction's receipt, once", async () => {
    const { rpcUrl } = chain();
    // PUSH1 0 PUSH1 0 REVERT
    await rpc(rpcUrl, "anvil_setCode", [REVERTER, "0x60006000fd"]);
    const txHash = await rpc<string>(rpcUrl, "eth_sendTransaction", [
      { from: ANVIL_DEV_ADDRESSES[0], to: REVERTER, gas: "0x186a0", data: "0x2117" },
    ]);
    // anvil answers with the hash before it mines: the receipt can lag a moment on a busy machine
    let receipt: { status: string; gasUsed: string } | null = null;
    for (let i = 0; i < 100 && !receipt; i++) {
      receipt = await rpc<{ status: string; gasUsed: string } | null>(rpcUrl, "eth_getTransactionReceipt", [
        txHash,
      ]);
      if (!receipt) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(receipt?.status).toBe("0x0");
    if (!receipt) return;

    const book = new TaskBook(new Map());
    book.apply(line("task accepted", { taskHash: HASH, taskDefinitionId: 1, performer: "0xP" }));
    book.apply(
      line("task submission failed", {
        taskHash: HASH,
        error: `submitTask ${txHash} reverted: InvalidTaskDefinition`,
        txHash,
      }),
    );
    expect(book.get(HASH)).toMatchObject({ verdict: "failed", submission: { txHash, gasUsed: null } });

    const provider = new JsonRpcProvider(rpcUrl, 31338, { staticNetwork: true });
    providers.push(provider);
    const changes: TaskChange[] = [];
    const read = failedGasReader(book, [provider], (c) => c && changes.push(c));
    await read(HASH);
    await read(HASH);
    expect(book.get(HASH)?.submission?.gasUsed).toBe(BigInt(receipt.gasUsed).toString());
    expect(changes).toHaveLength(1);
    expect(changes[0]).toMatchObject({ kind: "task", task: { verdict: "failed" } });
  });
});
