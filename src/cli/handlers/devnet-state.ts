import { loadConfig } from "../../config/load.js";
import type { SnapshotInfo } from "../../devnet/snapshot.js";
import type { CommandContext } from "../context.js";
import { lockedDevnet } from "../devnet-lock.js";
import { table } from "../format.js";
import { withProgress } from "../progress.js";
import type { CommandResult } from "../runner.js";

async function root(ctx: CommandContext): Promise<string> {
  return (await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env })).root;
}

const blocks = (s: SnapshotInfo) =>
  Object.entries(s.blocks)
    .map(([chainId, n]) => `${chainId}@${n}`)
    .join(" ");

export async function snapshotSaveCommand(ctx: CommandContext, name: string): Promise<CommandResult> {
  const projectDir = await root(ctx);
  const { saveSnapshot } = await import("../../devnet/snapshot.js");
  const saved = await saveSnapshot(projectDir, name);
  return { data: saved, human: () => `saved snapshot "${saved.name}" (blocks ${blocks(saved)})` };
}

export async function snapshotListCommand(ctx: CommandContext): Promise<CommandResult> {
  const projectDir = await root(ctx);
  const { listSnapshots } = await import("../../devnet/snapshot.js");
  const snapshots = listSnapshots(projectDir);
  return {
    data: { snapshots },
    human: () =>
      snapshots.length === 0
        ? "no snapshots; save one with `avsctl devnet snapshot save <name>`"
        : table(
            ["NAME", "CREATED", "BLOCKS (chain@block)"],
            snapshots.map((s) => [s.name, s.createdAt, blocks(s)]),
          ),
  };
}

export async function snapshotRestoreCommand(ctx: CommandContext, name: string): Promise<CommandResult> {
  const projectDir = await root(ctx);
  const { restoreSnapshot } = await import("../../devnet/snapshot.js");
  const restored = await lockedDevnet(ctx, projectDir, "devnet snapshot restore", () =>
    withProgress(ctx, `snapshot restore ${name}`, (step) => restoreSnapshot(projectDir, name, step)),
  );
  return {
    data: restored,
    human: () =>
      `restored snapshot "${restored.name}" (blocks ${blocks(restored)}); restarted ${restored.restarted.join(", ") || "nothing"}`,
  };
}

export async function snapshotDeleteCommand(ctx: CommandContext, name: string): Promise<CommandResult> {
  const projectDir = await root(ctx);
  const { deleteSnapshot } = await import("../../devnet/snapshot.js");
  const deleted = deleteSnapshot(projectDir, name);
  return { data: { deleted: deleted.name }, human: () => `deleted snapshot "${deleted.name}"` };
}

export async function devnetAdvanceCommand(
  ctx: CommandContext,
  flags: { blocks?: number; time?: number },
): Promise<CommandResult> {
  const projectDir = await root(ctx);
  const { devnetAdvance } = await import("../../devnet/advance.js");
  const result = await devnetAdvance(projectDir, { blocks: flags.blocks, timeMs: flags.time });
  return {
    data: result,
    human: () =>
      result.chains
        .map(
          (c) => `chain ${c.chainId}: block ${c.block}, time ${new Date(c.timestamp * 1000).toISOString()}`,
        )
        .join("\n"),
  };
}
