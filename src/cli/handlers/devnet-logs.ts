/**
 * `devnet logs` over the merged stream (no component, or `--since` / `--task`): each line
 * prefixed by its component and coloured by it on a terminal, or one JSON record per line.
 */
import type { LogEntry } from "../../devnet/logs.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";

const PALETTE = [36, 33, 35, 32, 34, 91, 96, 93, 95, 92, 94, 31];
const PREFIX_WIDTH = 12;

/** Colour only on a terminal, never with --no-color or NO_COLOR; FORCE_COLOR forces it. */
export function useColor(ctx: Pick<CommandContext, "color" | "env">, isTTY: boolean): boolean {
  if (!ctx.color || (ctx.env.NO_COLOR ?? "") !== "") return false;
  const force = ctx.env.FORCE_COLOR;
  if (force !== undefined && force !== "" && force !== "0" && force !== "false") return true;
  return isTTY;
}

/** Turns entries into output lines: `component | line` (coloured by component), or one JSON record. */
export function logLineRenderer(
  json: boolean,
  color: boolean,
  width = PREFIX_WIDTH,
): (entry: LogEntry) => string {
  const colours = new Map<string, number>();
  return (entry) => {
    if (json) return `${JSON.stringify(entry.record)}\n`;
    const name = entry.record.component;
    const prefix = `${name.padEnd(width)} |`;
    if (!color) return `${prefix} ${entry.line}\n`;
    let code = colours.get(name);
    if (code === undefined) {
      code = PALETTE[colours.size % PALETTE.length]!;
      colours.set(name, code);
    }
    return `\u001b[${code}m${prefix}\u001b[0m ${entry.line}\n`;
  };
}

/** Every component's lines (or one's, filtered) as one stream in time order, printed as they come. */
export async function mergedLogsCommand(
  ctx: CommandContext,
  root: string,
  component: string | undefined,
  flags: { follow?: boolean; tail?: number; since?: number; task?: string },
  printed: () => void = () => {},
): Promise<CommandResult> {
  const { devnetLogStream } = await import("../../devnet/logs.js");
  const render = logLineRenderer(ctx.json, useColor(ctx, process.stdout.isTTY === true));
  for await (const entry of devnetLogStream(root, {
    components: component === undefined ? undefined : [component],
    follow: flags.follow,
    tail: flags.tail,
    since: flags.since,
    task: flags.task,
    signal: ctx.signal,
  })) {
    ctx.out.stdout(render(entry));
    printed();
  }
  // Streamed above, under --json too: nothing more to print.
  return { data: undefined, human: () => "" };
}
