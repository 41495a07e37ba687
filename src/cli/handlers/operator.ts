/**
 * `avsctl operator add|remove|set-stake`: scenarios on the running devnet of the project
 * (src/operator/operators.ts). Rendering only here.
 */

import { formatEther } from "ethers";
import { loadConfig } from "../../config/load.js";
import type { OperatorResult, OperatorTarget } from "../../operator/operators.js";
import type { CommandContext } from "../context.js";
import { withProgress } from "../progress.js";
import type { CommandResult } from "../runner.js";

async function target(ctx: CommandContext, step: (m: string) => void): Promise<OperatorTarget> {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  return {
    projectDir: loaded.root,
    mnemonic: loaded.config.devnet.mnemonic,
    progress: step,
    signal: ctx.signal,
  };
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
    await withProgress(ctx, `operator add ${name}`, async (step) =>
      addOperator(await target(ctx, step), name, flags.stake),
    ),
  );
}

export async function operatorRemove(
  ctx: CommandContext,
  name: string,
  flags: { wait: boolean },
): Promise<CommandResult> {
  const { removeOperator } = await import("../../operator/operators.js");
  return result(
    await withProgress(ctx, `operator remove ${name}`, async (step) =>
      removeOperator(await target(ctx, step), name, flags.wait !== false),
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
    await withProgress(ctx, `operator set-stake ${name}`, async (step) =>
      setOperatorStake(await target(ctx, step), name, stake, flags.wait !== false),
    ),
  );
}
