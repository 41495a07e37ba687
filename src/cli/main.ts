import { type Command, CommanderError } from "commander";
import { AvsctlError, EXIT, type ExitCode } from "../errors.js";
import { type Output, processOutput } from "./context.js";
import { buildProgram } from "./program.js";
import { renderError } from "./render-error.js";
import { Runner } from "./runner.js";

/**
 * Runs avsctl with `argv` (as `process.argv`) and returns the exit code. Never calls
 * `process.exit`, so tests can run it in-process.
 */
export async function main(
  argv: string[],
  out: Output = processOutput,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ExitCode> {
  const json = argv.includes("--json");
  const verbose = argv.includes("--verbose");
  if (verbose && !env.DEBUG) {
    const { default: debug } = await import("debug");
    debug.enable("avsctl:*");
  }
  const runner = new Runner(out, env);
  const program = buildProgram(runner, out);
  try {
    await program.parseAsync(argv);
    return runner.exitCode;
  } catch (error) {
    const command = commandPathOf(program, argv.slice(2));
    if (error instanceof CommanderError) return commanderExit(error, { json, verbose, out, command });
    // a flag's argParser (src/cli/parse.ts) throws before any action runs
    return renderError(error, { json, verbose, out, command });
  }
}

/**
 * The subcommand words of `args` ("task send"), so a usage error can point at that command's
 * help. Words that name no subcommand (option values, arguments) are skipped.
 */
function commandPathOf(program: Command, args: string[]): string {
  const names: string[] = [];
  let current = program;
  for (const word of args) {
    if (word === "--") break;
    if (word.startsWith("-")) continue;
    const sub = current.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) continue;
    names.push(sub.name());
    current = sub;
  }
  return names.join(" ");
}

function commanderExit(
  error: CommanderError,
  opts: { json: boolean; verbose: boolean; out: Output; command: string },
): ExitCode {
  switch (error.code) {
    case "commander.helpDisplayed":
    case "commander.version":
    case "commander.help":
      return EXIT.OK;
    case "commander.executeSubCommandAsync":
      return error.exitCode as ExitCode;
  }
  const message = error.message.replace(/^error:\s*/i, "");
  const code =
    error.code === "commander.unknownOption"
      ? "UNKNOWN_OPTION"
      : error.code === "commander.unknownCommand"
        ? "UNKNOWN_COMMAND"
        : error.code === "commander.missingArgument" ||
            error.code === "commander.optionMissingArgument" ||
            error.code === "commander.missingMandatoryOptionValue"
          ? "MISSING_ARGUMENT"
          : "INVALID_ARGUMENT";
  const flag = /'([^']+)'/.exec(message)?.[1];
  const help = opts.command ? `avsctl ${opts.command} --help` : "avsctl --help";
  return renderError(
    new AvsctlError(code, message, {
      hint: code === "UNKNOWN_COMMAND" ? `run \`${help}\` for the commands` : `run \`${help}\` for usage`,
      details: flag ? { argument: flag } : undefined,
    }),
    opts,
  ) as typeof EXIT.USAGE;
}
