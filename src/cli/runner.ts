import type { Command } from "commander";
import { EXIT, type ExitCode } from "../errors.js";
import {
  type CommandContext,
  createContext,
  globalOptionsOf,
  type Output,
  type OwnedContext,
} from "./context.js";
import { renderError } from "./render-error.js";

/** What a command returns: the data (printed as-is under --json) and how a human sees it. */
export interface CommandResult<T = unknown> {
  data: T;
  human?: (data: T) => string;
  /** Non-zero when the command ran but its verdict is a failure (rejected task, unhealthy devnet). */
  exitCode?: ExitCode;
}

export type Handler = (
  ctx: CommandContext,
  // positional arguments as their argParser made them (strings unless a parser is declared)
  args: any[],
  // typed by each handler: the flags as their argParsers made them
  options: any,
) => Promise<CommandResult<any>>;

/**
 * The cross-cutting wrapper around every command: builds the context from the global flags,
 * runs the handler, prints its data as JSON or text, and turns any throw into the one error
 * rendering. It records the exit code instead of exiting, so `main()` can run in-process.
 */
export class Runner {
  exitCode: ExitCode = EXIT.OK;

  constructor(
    readonly out: Output,
    readonly env: NodeJS.ProcessEnv,
  ) {}

  action(handler: Handler): (...args: unknown[]) => Promise<void> {
    return async (...raw: unknown[]) => {
      const command = raw[raw.length - 1] as Command;
      const options = (raw[raw.length - 2] ?? {}) as Record<string, unknown>;
      const args = raw.slice(0, -2).flatMap((a) => (Array.isArray(a) ? a : a === undefined ? [] : [a]));
      const globals = globalOptionsOf(command);
      const ctx = createContext(globals, this.out, this.env);
      try {
        const result = await handler(ctx, args, options);
        this.print(withWarnings(result, ctx), globals.json);
        this.exitCode = result.exitCode ?? EXIT.OK;
      } catch (error) {
        this.exitCode = renderError(error, {
          json: globals.json,
          verbose: globals.verbose,
          out: this.out,
          command: commandPath(command),
        });
      } finally {
        ctx.dispose();
      }
    };
  }

  private print(result: CommandResult, json: boolean): void {
    if (json) {
      // a streaming command (task watch) has already printed its JSON lines
      if (result.data !== undefined) this.out.stdout(`${JSON.stringify(result.data, jsonReplacer, 2)}\n`);
      return;
    }
    const text = result.human ? result.human(result.data) : defaultHuman(result.data);
    if (text) this.out.stdout(text.endsWith("\n") ? text : `${text}\n`);
  }
}

/** Config warnings of a --json run join the result's `warnings` (after the command's own). */
function withWarnings(result: CommandResult, ctx: OwnedContext): CommandResult {
  const data = result.data as Record<string, unknown> | undefined;
  if (ctx.pendingWarnings.length === 0 || ctx.warningsReported) return result;
  if (typeof data !== "object" || data === null || Array.isArray(data)) return result;
  const own = Array.isArray(data.warnings) ? data.warnings : [];
  return { ...result, data: { ...data, warnings: [...own, ...ctx.pendingWarnings] } };
}

/** "task send" for the `send` command under `task`: the words a user types after `avsctl`. */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** bigint values become decimal strings, as docs/cli.md promises for uint256 values. */
export function jsonReplacer(_key: string, value: unknown): unknown {
  return typeof value === "bigint" ? value.toString() : value;
}

function defaultHuman(data: unknown): string {
  if (data === undefined || data === null) return "";
  if (typeof data === "string") return data;
  return JSON.stringify(data, jsonReplacer, 2);
}
