import { AvsctlError } from "../errors.js";

export interface InteractivityInput {
  json: boolean;
  yes: boolean;
  env: NodeJS.ProcessEnv;
  stdinIsTTY?: boolean;
  stdoutIsTTY?: boolean;
}

/** `CI` counts as set unless it is empty, "0" or "false" (the values CI systems use to mean off). */
export function isCI(env: NodeJS.ProcessEnv): boolean {
  const ci = env.CI;
  return ci !== undefined && ci !== "" && ci !== "0" && ci.toLowerCase() !== "false";
}

/**
 * The one place that decides whether avsctl may prompt (docs/cli.md: only when stdin and stdout
 * are TTYs and none of --yes, --json or CI is set). Spinners follow a separate, weaker rule
 * (a TTY on stderr), see `useFancyProgress`.
 */
export function isInteractive(input: InteractivityInput): boolean {
  const stdinTTY = input.stdinIsTTY ?? process.stdin.isTTY === true;
  const stdoutTTY = input.stdoutIsTTY ?? process.stdout.isTTY === true;
  return stdinTTY && stdoutTTY && !input.yes && !input.json && !isCI(input.env);
}

export function useFancyProgress(json: boolean, env: NodeJS.ProcessEnv): boolean {
  return !json && process.stderr.isTTY === true && !isCI(env);
}

/**
 * Returns `value` when given; otherwise asks (when allowed) or fails naming the flag, so a
 * script never hangs on a hidden prompt.
 */
export async function valueOrPrompt(
  value: string | undefined,
  flag: string,
  interactive: boolean,
  ask: () => Promise<string>,
): Promise<string> {
  if (value !== undefined && value !== "") return value;
  if (!interactive) {
    throw new AvsctlError("MISSING_ARGUMENT", `missing required option ${flag}`, {
      hint: `pass ${flag} <value> (prompts are disabled with --yes, --json, CI or without a terminal)`,
      details: { argument: flag },
    });
  }
  return ask();
}
