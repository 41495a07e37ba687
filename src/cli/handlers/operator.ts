/**
 * `avsctl operator add|remove|set-stake`: scenarios on the running devnet of the project
 * (src/operator/operators.ts). Rendering only here.
 */

import { formatEther } from "ethers";
import { loadConfig } from "../../config/load.js";
import type { OperatorResult, OperatorTarget } from "../../operator/operators.js";
import type { CommandContext } from "../context.js";
import { lockedDevnet } from "../devnet-lock.js";
import { withProgress } from "../progress.js";
import type { CommandResult } from "../runner.js";

/**
 * Runs one of them on the project's devnet, holding its lock: each changes the devnet (a node,
 * the state file), so it waits for a `devnet up` or `down` under way, and they for it.
 */
async function onDevnet<T>(
  ctx: CommandContext,
  command: string,
  name: string,
  fn: (target: OperatorTarget) => Promise<T>,
): Promise<T> {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  return lockedDevnet(ctx, loaded.root, command, () =>
    withProgress(ctx, `${command} ${name}`, (step) =>
      fn({
        projectDir: loaded.root,
        mnemonic: loaded.config.devnet.mnemonic,
        progress: step,
        signal: ctx.signal,
      }),
    ),
  );
}

const eth = (wei: string): string => `${formatEther(BigInt(wei))} ETH`;

function render(r: OperatorResult): string {
  const verb = { add: "added", remove: "removed", "set-stake": "set the stake of" }[r.action];
  const lines = [`${verb} ${r.name} (${r.address})`];
  lines.push(
    `  L1: stake ${eth(r.l1.stake)}, voting power ${eth(r.l1.votingPower)}${r.l1.registered ? "" : " (not registered)"}`,
  );
  for (const o of r.l2) {
    const id = o.operatorId ? `operator ${o.operatorId}` : "never registered";
    lines.push(
      `  L2 ${o.chainId}: ${id}, ${o.active ? "active" : "inactive"}, voting power ${eth(o.votingPower)}`,
    );
  }
  for (const s of r.syncs) {
    lines.push(
      `  sync on ${s.chainId}: ${s.status}${s.txHash ? ` (tx ${s.txHash})` : ""}${s.error ? `: ${s.error}` : ""}`,
    );
  }
  if (r.action === "set-stake" && !r.synced)
    lines.push("  not synced: L2 keeps the old voting power until the next sync");
  if (r.node) lines.push(`  node ${r.node.name}: ${r.node.state}${r.node.pid ? ` (pid ${r.node.pid})` : ""}`);
  return lines.join("\n");
}

function result(r: OperatorResult): CommandResult {
  return { data: r, human: () => render(r) };
}

export async function operatorAdd(
  ctx: CommandContext,
  name: string,
  flags: { stake: bigint },
): Promise<CommandResult> {
  const { addOperator } = await import("../../operator/operators.js");
  return result(
    await onDevnet(ctx, "operator add", name, (target) => addOperator(target, name, flags.stake)),
  );
}

export async function operatorRemove(
  ctx: CommandContext,
  name: string,
  flags: { wait: boolean },
): Promise<CommandResult> {
  const { removeOperator } = await import("../../operator/operators.js");
  return result(
    await onDevnet(ctx, "operator remove", name, (target) =>
      removeOperator(target, name, flags.wait !== false),
    ),
  );
}

export async function operatorSetStake(
  ctx: CommandContext,
  name: string,
  stake: bigint,
  flags: { wait: boolean },
): Promise<CommandResult> {
  const { setOperatorStake } = await import("../../operator/operators.js");
  return result(
    await onDevnet(ctx, "operator set-stake", name, (target) =>
      setOperatorStake(target, name, stake, flags.wait !== false),
    ),
  );
}
