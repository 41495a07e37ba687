import type { Command } from "commander";
import type { LoadedConfig } from "../config/load.js";
import { problemText } from "../config/problem.js";
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

/** Something a command opened and the runner closes when the command ends (an ethers provider). */
export interface Disposable {
  destroy(): void;
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
  /**
   * The project configuration, loaded on first use and then shared. Its warnings are shown
   * once: on stderr for humans, as `warnings` in the --json result.
   */
  loadConfig(): Promise<LoadedConfig>;
  /** For a command whose own result shows the config warnings (`config show`): not shown again. */
  reportsConfigWarnings(): void;
  /**
   * Aborted on SIGINT/SIGTERM. The signal handlers are installed only when a command asks for
   * the signal, so a command that does not watch it still ends on Ctrl-C the usual way.
   */
  readonly signal: AbortSignal;
  /** Closes `resource` when the command ends, whatever the outcome; returns it. */
  own<T extends Disposable>(resource: T): T;
}

/** The runner's side of a context: what it collects and releases after the handler. */
export interface OwnedContext extends CommandContext {
  /** Config warnings of a --json run, to join the result's `warnings`. */
  readonly pendingWarnings: string[];
  /** Set by `config show`, whose result already holds the warnings. */
  warningsReported: boolean;
  dispose(): void;
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
): OwnedContext {
  const interactive = isInteractive({ json: globals.json, yes: globals.yes, env });
  const owned: Disposable[] = [];
  let loading: Promise<LoadedConfig> | undefined;
  let controller: AbortController | undefined;
  const abort = () => controller?.abort();
  const ctx: OwnedContext = {
    ...globals,
    env,
    out,
    interactive,
    pendingWarnings: [],
    warningsReported: false,
    progress(message) {
      if (!globals.json) out.stderr(`${message}\n`);
    },
    loadConfig() {
      loading ??= import("../config/load.js").then(async ({ loadConfig }) => {
        const loaded = await loadConfig({ cwd: globals.cwd, configFile: globals.config, env });
        for (const w of loaded.warnings) {
          const text = problemText(w);
          if (ctx.warningsReported) continue;
          // for humans at once, before a long command's output; under --json with the result
          if (globals.json) ctx.pendingWarnings.push(text);
          else out.stderr(`warning: ${text}\n`);
        }
        return loaded;
      });
      return loading;
    },
    reportsConfigWarnings() {
      ctx.warningsReported = true;
    },
    get signal() {
      if (!controller) {
        controller = new AbortController();
        process.once("SIGINT", abort);
        process.once("SIGTERM", abort);
      }
      return controller.signal;
    },
    own(resource) {
      owned.push(resource);
      return resource;
    },
    dispose() {
      process.off("SIGINT", abort);
      process.off("SIGTERM", abort);
      for (const r of owned.splice(0).reverse()) {
        try {
          r.destroy();
        } catch {
          // a provider already destroyed by its user: nothing left to release
        }
      }
    },
  };
  return ctx;
}
