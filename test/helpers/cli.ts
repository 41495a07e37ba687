import { spawn } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const binPath = path.join(repoRoot, "bin", "avsctl.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws when it is not exactly one JSON document). */
  json<T = any>(): T;
}

export interface RunCliOptions {
  cwd?: string;
  /** Replaces the inherited environment's keys given here; `undefined` removes a key. */
  env?: Record<string, string | undefined>;
  input?: string;
  timeoutMs?: number;
}

/**
 * Runs the built CLI (`node bin/avsctl.js`) as a child process, as a user or a CI script
 * would, and collects its output and exit code.
 */
export function runCli(args: string[], opts: RunCliOptions = {}): Promise<CliResult> {
  return run(process.execPath, [binPath, ...args], opts);
}

/**
 * Runs a command line exactly as avsctl printed it for a user to paste, in `sh`, where `avsctl`
 * is the built CLI. Proves a hint works as written, quoting included.
 */
export function runPasted(commandLine: string, opts: RunCliOptions = {}): Promise<CliResult> {
  return run("sh", ["-c", `avsctl() { "${process.execPath}" "${binPath}" "$@"; }\n${commandLine}\n`], opts);
}

/** Settings of the developer's shell that would change what a command does. */
export const SHELL_SETTINGS = [
  "AVSCTL_RPC_URL",
  "AVSCTL_PRIVATE_KEY",
  "AVSCTL_ATTESTATION_CENTER",
  "L2_RPC",
  "PRIVATE_KEY",
  "ATTESTATION_CENTER_ADDRESS",
  "DEBUG",
];

/** `env` without SHELL_SETTINGS (and any `extra` names), so they cannot leak into what a test asserts. */
export function withoutShellSettings(env: NodeJS.ProcessEnv, extra: string[] = []): NodeJS.ProcessEnv {
  for (const name of [...SHELL_SETTINGS, ...extra]) delete env[name];
  return env;
}

/**
 * The environment of an in-process CLI run no variable of the developer's shell decides: no
 * target, no keys, never a prompt (CI).
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true", NO_COLOR: "1" };
  for (const name of Object.keys(env)) {
    if (/^(AVSCTL_|L2_RPC$|L1_RPC$|PRIVATE_KEY|ATTESTATION_CENTER|DEBUG$|OTHENTIC_)/.test(name))
      delete env[name];
  }
  return env;
}

function run(command: string, args: string[], opts: RunCliOptions): Promise<CliResult> {
  const env = withoutShellSettings({ ...process.env, NO_COLOR: "1" });
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: opts.cwd ?? repoRoot,
      env,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timeoutMs = opts.timeoutMs ?? 120_000;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      // a failed assertion then says why there is no exit code, and what the command was
      const ended = timedOut
        ? `\n[test helper: killed after ${timeoutMs} ms: ${args.join(" ")}]`
        : signal
          ? `\n[test helper: ended by ${signal}]`
          : "";
      resolve({
        code: code ?? -1,
        stdout,
        stderr: stderr + ended,
        json: () => JSON.parse(stdout),
      });
    });
    child.stdin.end(opts.input ?? "");
  });
}

/** `task send` of a raw proof as the performer, waiting for the verdict, as JSON. */
export function rpcSendArgs(proof: string, data: string): string[] {
  return [
    "task",
    "send",
    "--via",
    "rpc",
    "--proof",
    proof,
    "--data",
    data,
    "--wait",
    "--timeout",
    "120",
    "--json",
  ];
}
