import type { Command } from "commander";
import { EXIT, type ExitCode } from "../errors.js";
import { type CommandContext, createContext, globalOptionsOf, type Output } from "./context.js";
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
  args: string[],
  options: Record<string, unknown>,
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
      const args = raw
        .slice(0, -2)
        .flatMap((a) => (Array.isArray(a) ? a : a === undefined ? [] : [String(a)]));
      const globals = globalOptionsOf(command);
      const ctx = createContext(globals, this.out, this.env);
      try {
        const result = await handler(ctx, args, options);
        this.print(result, globals.json);
        this.exitCode = result.exitCode ?? EXIT.OK;
      } catch (error) {
        this.exitCode = renderError(error, {
          json: globals.json,
          verbose: globals.verbose,
          out: this.out,
          command: commandPath(command),
        });
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
