/**
 * A task-def write whose chain freezes (SIGSTOP: its connections are taken, nothing answers)
 * after avsctl signed the transaction: as it is sent (its fate unknown), or once the chain took
 * it, while avsctl waits for its receipt. The error names the transaction (its hash, the one the
 * chain has, and its signed bytes in --json), says it may have been or was sent, and hints a
 * command that, pasted once the chain answers, shows whether it took effect; a create's hint
 * warns that running it again may create a second definition. Each test runs its own anvil,
 * frozen by the relay of test/helpers/freezing-relay.ts, woken however the test ends.
 */
import { keccak256 } from "ethers";
import { afterAll, describe, expect, it } from "vitest";
import { type AnvilInstance, startAnvil } from "../../../src/chain/anvil.js";
import { rpc } from "../../helpers/anvil.js";
import { type FreezingRelay, freezeOn, type RpcCall } from "../../helpers/freezing-relay.js";
import { until } from "../../helpers/until.js";
import {
  avsctl,
  DEPLOYER,
  DEPLOYER_KEY,
  deployAttestationCenter,
  expectError,
  expectOk,
  nonceOf,
  useProjectDir,
} from "./fixture.js";

const project = useProjectDir("task-def-frozen-write");
const run = (args: string[]) => avsctl(args, { cwd: project() });

const GEN2_CREATE =
  "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))";

describe.concurrent("a task-def write whose chain freezes after the transaction was signed", () => {
  const chains = new Set<{ anvil: AnvilInstance; relay?: FreezingRelay }>();

  afterAll(async () => {
    for (const c of chains) {
      await c.relay?.close();
      await c.anvil.stop();
    }
  });

  /**
   * A chain of its own with our AttestationCenter (and `definition`: task definition 1), behind a
   * relay that freezes it at the first `method` request made after a transaction was sent (at the
   * send itself for eth_sendRawTransaction), and keeps the signed bytes of every send it saw.
   */
  async function chainFrozenAt(
    method: "eth_sendRawTransaction" | "eth_getTransactionReceipt",
    opts: { definition?: boolean } = {},
  ) {
    const anvil = await startAnvil({ chainId: 31338 });
    const held: { anvil: AnvilInstance; relay?: FreezingRelay } = { anvil };
    chains.add(held);
    const ac = await deployAttestationCenter(anvil);
    if (opts.definition) {
      expectOk(
        await run([
          "task-def",
          "create",
          "--name",
          "existing",
          "--rpc-url",
          anvil.rpcUrl,
          "--attestation-center",
          ac,
          "--private-key",
          DEPLOYER_KEY,
        ]),
      );
    }
    const sends: string[] = [];
    held.relay = await freezeOn(anvil, (c: RpcCall) => {
      if (c.method === "eth_sendRawTransaction") {
        sends.push(c.params[0] as string);
        return method === c.method;
      }
      return sends.length > 0 && c.method === method;
    });
    const relay = held.relay;
    return {
      anvil,
      relay,
      sends,
      /** The target flags through the relay, as the hint names them. */
      target: ["--rpc-url", relay.url, "--attestation-center", ac],
      nonce: await nonceOf(anvil, DEPLOYER),
    };
  }

  /** The `avsctl ...` command a hint quotes, run as pasted. */
  function pasted(hint: string | undefined) {
    const command = /`avsctl ([^`]*)`/.exec(hint ?? "")?.[1];
    expect(command, hint).toBeDefined();
    return run(command!.split(" "));
  }

  const receipt = (anvil: AnvilInstance, hash: string) =>
    rpc<{ status: string } | null>(anvil.rpcUrl, "eth_getTransactionReceipt", [hash]);

  it("create, frozen as the transaction is sent: its hash, fate unknown, how to find out", async () => {
    const { anvil, relay, sends, target, nonce } = await chainFrozenAt("eth_sendRawTransaction");
    const r = await run([
      "task-def",
      "create",
      "--name",
      "frozen-send",
      ...target,
      "--private-key",
      DEPLOYER_KEY,
    ]);
    expect(relay.frozen).toBe(true);
    // signed once: the one send the relay saw, whose hash the error names
    expect(sends).toHaveLength(1);
    const [raw] = sends as [string];
    const hash = keccak256(raw);
    const e = expectError(r, 4, "RPC_UNREACHABLE");
    expect(e.message).toBe(
      `the chain at ${relay.url} did not answer within 30 s when avsctl sent transaction ${hash} (createNewTaskDefinition, nonce ${nonce}): it may have reached the chain and be mined`,
    );
    expect(e.details).toEqual({
      rpcUrl: relay.url,
      timeoutMs: 30_000,
      method: GEN2_CREATE,
      txHash: hash,
      nonce,
      sent: "unknown",
      rawTransaction: raw,
    });
    expect(e.hint).toBe(
      `once the chain answers, \`avsctl task-def list ${target.join(" ")}\` shows whether "frozen-send" was created (once that transaction is mined); running \`task-def create\` again before then may create a second definition`,
    );

    relay.thaw();
    // sending the signed bytes again lands that very transaction, once, whether or not the
    // frozen send reached the chain (then the chain refuses the copy)
    await rpc(anvil.rpcUrl, "eth_sendRawTransaction", [raw]).catch(() => undefined);
    expect(await until(() => receipt(anvil, hash), `the receipt of ${hash}`)).toMatchObject({
      status: "0x1",
    });
    const list = expectOk(await pasted(e.hint));
    expect(list.taskDefinitions.filter((d: { name: string }) => d.name === "frozen-send")).toHaveLength(1);
    expect(await nonceOf(anvil, DEPLOYER)).toBe(nonce + 1);
  }, 90_000);

  it("create, frozen while it waits for the receipt: sent, its hash, how to find out", async () => {
    const { anvil, relay, sends, target, nonce } = await chainFrozenAt("eth_getTransactionReceipt");
    const r = await run([
      "task-def",
      "create",
      "--name",
      "frozen-receipt",
      ...target,
      "--private-key",
      DEPLOYER_KEY,
    ]);
    expect(relay.frozen).toBe(true);
    expect(sends).toHaveLength(1);
    const hash = keccak256(sends[0]!);
    const e = expectError(r, 4, "RPC_UNREACHABLE");
    expect(e.message).toBe(
      `transaction ${hash} (createNewTaskDefinition, nonce ${nonce}) was sent, then the chain at ${relay.url} did not answer within 30 s while avsctl waited for its receipt: it may be mined`,
    );
    expect(e.details).toMatchObject({ method: GEN2_CREATE, txHash: hash, nonce, sent: "yes" });
    expect(e.hint).toBe(
      `once the chain answers, \`avsctl task-def list ${target.join(" ")}\` shows whether "frozen-receipt" was created (once that transaction is mined); running \`task-def create\` again before then may create a second definition`,
    );

    relay.thaw();
    // the chain has the very transaction the error names
    expect(await receipt(anvil, hash)).toMatchObject({ status: "0x1" });
    const list = expectOk(await pasted(e.hint));
    expect(list.taskDefinitions.filter((d: { name: string }) => d.name === "frozen-receipt")).toHaveLength(1);
  }, 90_000);

  it("set-min-voting-power, frozen while it waits for the receipt: sent, its hash, show tells", async () => {
    const { anvil, relay, sends, target, nonce } = await chainFrozenAt("eth_getTransactionReceipt", {
      definition: true,
    });
    const r = await run([
      "task-def",
      "set-min-voting-power",
      "1",
      "5",
      ...target,
      "--private-key",
      DEPLOYER_KEY,
    ]);
    expect(relay.frozen).toBe(true);
    expect(sends).toHaveLength(1);
    const hash = keccak256(sends[0]!);
    const e = expectError(r, 4, "RPC_UNREACHABLE");
    expect(e.message).toBe(
      `transaction ${hash} (setTaskDefinitionMinVotingPower, nonce ${nonce}) was sent, then the chain at ${relay.url} did not answer within 30 s while avsctl waited for its receipt: it may be mined`,
    );
    expect(e.details).toMatchObject({ txHash: hash, sent: "yes" });
    expect(e.hint).toBe(
      `once the chain answers, \`avsctl task-def show 1 ${target.join(" ")}\` shows whether the change took effect (once that transaction is mined)`,
    );

    relay.thaw();
    expect(await receipt(anvil, hash)).toMatchObject({ status: "0x1" });
    expect(expectOk(await pasted(e.hint))).toMatchObject({ taskDefinitionId: 1, minimumVotingPower: "5" });
  }, 90_000);
});
