import { readFileSync } from "node:fs";
import { Command } from "commander";
import { registerConfig } from "./commands/config.js";
import { registerDevnet } from "./commands/devnet.js";
import { registerInit } from "./commands/init.js";
import { registerKeys } from "./commands/keys.js";
import { registerNode } from "./commands/node.js";
import { registerOperator } from "./commands/operator.js";
import { registerQuickstart } from "./commands/quickstart.js";
import { registerSecret } from "./commands/secret.js";
import { registerTask } from "./commands/task.js";
import { registerTaskDef } from "./commands/task-def.js";
import { registerWorkflow } from "./commands/workflow.js";
import type { Output } from "./context.js";
import type { Runner } from "./runner.js";

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return pkg.version;
}

/**
 * The commander tree. Only declarations live here and in `commands/*`: every action imports
 * its implementation on demand, so `--help` and `--version` load nothing heavy.
 */
export function buildProgram(runner: Runner, out: Output): Command {
  const program = new AvsctlCommand("avsctl")
    .description(
      "Build, run and test an Othentic/EigenLayer AVS locally: scaffold, devnet, task definitions, tasks.",
    )
    .version(packageVersion(), "-V, --version", "print the avsctl version")
    .option("--json", "machine-readable output on stdout (nothing else is printed there)")
    .option("-c, --config <file>", "configuration file (default: searched from --cwd upwards)")
    .option("--cwd <dir>", "project directory (default: the current directory)")
    .option("-y, --yes", "never prompt; use defaults or fail naming the missing flag")
    .option("--verbose", "debug logging on stderr (same as DEBUG=avsctl:*)")
    .option("--no-color", "disable colours (NO_COLOR and FORCE_COLOR are honoured too)")
    .showHelpAfterError(false)
    .exitOverride()
    .configureOutput(outputConfig(out));

  registerInit(program, runner);
  registerTaskDef(program, runner);
  registerDevnet(program, runner);
  registerTask(program, runner);
  registerNode(program, runner);
  registerOperator(program, runner);
  registerWorkflow(program, runner);
  registerSecret(program, runner);
  registerKeys(program, runner);
  registerQuickstart(program, runner);
  registerConfig(program, runner);

  // Subcommands inherit the exit override and output configuration.
  for (const command of allCommands(program)) {
    command.exitOverride().configureOutput(outputConfig(out));
  }
  return program;
}

/** A word such as `-1eth` or `-0.5gwei`: no avsctl flag starts with a digit. */
const NEGATIVE_LOOKING = /^-\d/;

/**
 * Commander takes `-1eth` for an unknown option (it lets only bare numbers like `-1` through),
 * so `operator set-stake attester-2 -1eth` said UNKNOWN_OPTION. In a leaf command such words
 * are its arguments, and their parser says what is wrong with the value.
 */
class AvsctlCommand extends Command {
  override createCommand(name?: string): Command {
    return new AvsctlCommand(name);
  }

  override parseOptions(argv: string[]): { operands: string[]; unknown: string[] } {
    const parsed = super.parseOptions(argv);
    if (this.commands.length > 0) return parsed;
    // After the first unknown option commander puts every remaining word in `unknown`, in order.
    const end = parsed.unknown.findIndex(
      (w) => w === "--" || (w.startsWith("-") && !NEGATIVE_LOOKING.test(w)),
    );
    const leading = end === -1 ? parsed.unknown.length : end;
    if (leading === 0) return parsed;
    return {
      operands: [...parsed.operands, ...parsed.unknown.slice(0, leading)],
      unknown: parsed.unknown.slice(leading),
    };
  }
}

/**
 * Commander's own error lines are replaced by our rendering in main.ts, so the only thing it
 * still writes to its error stream is the help it shows for `avsctl` or a command group given
 * without a subcommand. That help goes to stdout, as `gh`, `docker` and `kubectl` do, and
 * main.ts exits 0 for it.
 */
function outputConfig(out: Output) {
  return {
    writeOut: (text: string) => out.stdout(text),
    writeErr: (text: string) => out.stdout(text),
    outputError: () => {},
  };
}

function* allCommands(command: Command): Generator<Command> {
  for (const sub of command.commands) {
    yield sub;
    yield* allCommands(sub);
  }
}
