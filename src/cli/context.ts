import type { Command } from "commander";
import { isInteractive } from "./interactive.js";

/** The global options of docs/cli.md, as every command sees them. */
export interface GlobalOptions {
  json: boolean;
  config: string | undefined;
  cwd: string;
  yes: boolean;
  verbose: boolean;
  color: boolean;
}

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

/**
 * What a command handler receives: the global options, the environment, the output streams
 * and lazy access to the project configuration. Handlers return data; they never print.
 */
export interface CommandContext extends GlobalOptions {
  env: NodeJS.ProcessEnv;
  out: Output;
  /** True when we may ask the user a question (TTY, not --yes/--json/CI). */
  interactive: boolean;
  /** A progress line for humans: stderr, and nothing at all under --json. */
  progress(message: string): void;
}

export const processOutput: Output = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
};

export function globalOptionsOf(command: Command): GlobalOptions {
  const o = command.optsWithGlobals() as Record<string, unknown>;
  return {
    json: o.json === true,
    config: typeof o.config === "string" ? o.config : undefined,
    cwd: typeof o.cwd === "string" ? o.cwd : process.cwd(),
    yes: o.yes === true,
    verbose: o.verbose === true,
    color: o.color !== false,
  };
}

export function createContext(
  globals: GlobalOptions,
  out: Output = processOutput,
  env: NodeJS.ProcessEnv = process.env,
): CommandContext {
  const interactive = isInteractive({ json: globals.json, yes: globals.yes, env });
  return {
    ...globals,
    env,
    out,
    interactive,
    progress(message) {
      if (!globals.json) out.stderr(`${message}\n`);
    },
  };
}
