/**
 * The one catalog of avsctl errors. Every failure a user can see has a stable code from this
 * table; the code decides the exit code, and `src/cli/render-error.ts` is the only place that
 * turns an error into output. Scripts match on `code`, never on message wording.
 */

/** Exit codes of docs/cli.md: 0 ok, 1 operation failed, 2 bad input, 3 timed out, 4 environment. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  TIMEOUT: 3,
  ENVIRONMENT: 4,
  /** Stopped by Ctrl-C (SIGINT) or SIGTERM before it finished: 128 + SIGINT, as shells report it. */
  INTERRUPTED: 130,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const ERROR_CODES = {
  // usage and input (2): nothing was sent or written
  INVALID_ARGUMENT: EXIT.USAGE,
  UNKNOWN_OPTION: EXIT.USAGE,
  UNKNOWN_COMMAND: EXIT.USAGE,
  MISSING_ARGUMENT: EXIT.USAGE,
  CONFIG_INVALID: EXIT.USAGE,
  CONFIG_NOT_FOUND: EXIT.USAGE,
  INVALID_ADDRESS: EXIT.USAGE,
  INVALID_KEY: EXIT.USAGE,
  WRONG_PASSWORD: EXIT.USAGE,
  DIRECTORY_NOT_EMPTY: EXIT.USAGE,
  DEV_KEY_REFUSED: EXIT.USAGE,
  TASK_DEF_NOT_FOUND: EXIT.USAGE,
  WORKFLOW_INVALID: EXIT.USAGE,
  // the operation failed (1)
  TX_REVERTED: EXIT.FAILED,
  TX_FAILED: EXIT.FAILED,
  TASK_REJECTED: EXIT.FAILED,
  DEVNET_UNHEALTHY: EXIT.FAILED,
  DEVNET_START_FAILED: EXIT.FAILED,
  COMMAND_FAILED: EXIT.FAILED,
  EXECUTION_FAILED: EXIT.FAILED,
  NOT_FOUND: EXIT.FAILED,
  WORKFLOW_FAILED: EXIT.FAILED,
  ACCESS_DENIED: EXIT.FAILED,
  INTERNAL: EXIT.FAILED,
  // timed out (3)
  TIMEOUT: EXIT.TIMEOUT,
  // environment unavailable (4)
  NO_DEVNET: EXIT.ENVIRONMENT,
  RPC_UNREACHABLE: EXIT.ENVIRONMENT,
  DOCKER_UNAVAILABLE: EXIT.ENVIRONMENT,
  PORT_IN_USE: EXIT.ENVIRONMENT,
  TOOLCHAIN_MISSING: EXIT.ENVIRONMENT,
  NODE_VERSION: EXIT.ENVIRONMENT,
  ENGINE_UNREACHABLE: EXIT.ENVIRONMENT,
  // interrupted (130)
  INTERRUPTED: EXIT.INTERRUPTED,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

/**
 * A sub-catalog: codes answered on another surface than the CLI's exit, declared beside the code
 * that answers them (workflow validation problems, the aggregator's JSON-RPC errors). A list
 * holds names only; a record maps each name to its number on the wire.
 */
export type CatalogCodes = readonly string[] | Readonly<Record<string, number>>;

const catalogs = new Map<string, Readonly<Record<string, number | null>>>();

/**
 * Registers a sub-catalog into this one, so that one listing holds every code a user or a client
 * can match on. Refuses (INTERNAL, at load time) a name that another catalog already uses and a
 * wire number already taken; registering the same catalog again is a no-op.
 */
export function registerCatalog(name: string, codes: CatalogCodes): void {
  const entries: Record<string, number | null> = Array.isArray(codes)
    ? Object.fromEntries(codes.map((code: string) => [code, null]))
    : { ...(codes as Readonly<Record<string, number>>) };
  const known = catalogs.get(name);
  if (known !== undefined && JSON.stringify(known) === JSON.stringify(entries)) return;
  const clashes: string[] = known === undefined ? [] : [`catalog "${name}" is already registered`];
  if (Object.keys(entries).length !== Object.keys(codes).length) clashes.push("a code is listed twice");
  const names = new Map<string, string>(Object.keys(ERROR_CODES).map((code) => [code, "avsctl"]));
  const numbers = new Map<number, string>();
  for (const [other, otherCodes] of catalogs) {
    for (const [code, wire] of Object.entries(otherCodes)) {
      names.set(code, other);
      if (wire !== null) numbers.set(wire, `${other}.${code}`);
    }
  }
  const own = new Set<number>();
  for (const [code, wire] of Object.entries(entries)) {
    if (names.has(code)) clashes.push(`${code} is also in catalog "${names.get(code)}"`);
    if (wire === null) continue;
    if (numbers.has(wire) || own.has(wire)) clashes.push(`${code}: number ${wire} is taken`);
    own.add(wire);
  }
  if (clashes.length > 0) {
    throw new AvsctlError("INTERNAL", `error catalog "${name}" clashes: ${clashes.join("; ")}`, {
      details: { catalog: name, clashes },
    });
  }
  catalogs.set(name, entries);
}

/**
 * Every code by catalog: "avsctl" (this file's codes, numbered by exit code) and each registered
 * sub-catalog (wire numbers, or null for name-only codes). Only catalogs whose modules are loaded
 * have registered.
 */
export function errorCatalogs(): Record<string, Readonly<Record<string, number | null>>> {
  return { avsctl: { ...ERROR_CODES }, ...Object.fromEntries(catalogs) };
}

/** What the CLI knows when it renders an error: the command that ran ("task send"), if any. */
export interface HintContext {
  command?: string;
}

const usageHint = (c: HintContext) =>
  c.command
    ? `run \`avsctl ${c.command} --help\` for its flags and arguments`
    : "run `avsctl --help` for usage";

/**
 * What to do about each code, for an error whose thrower gave no hint of its own, so every
 * error a user sees (and every `--json` error) says what to do. A hint must work when pasted:
 * name only commands and flags that exist wherever the code can be thrown.
 */
export const DEFAULT_HINTS: Record<ErrorCode, string | ((c: HintContext) => string)> = {
  INVALID_ARGUMENT: usageHint,
  UNKNOWN_OPTION: usageHint,
  UNKNOWN_COMMAND: "run `avsctl --help` for the commands",
  MISSING_ARGUMENT: usageHint,
  CONFIG_INVALID: "fix the file and key named above; the README's Configuration section lists every key",
  CONFIG_NOT_FOUND: "check the --config path (a relative path starts at --cwd)",
  INVALID_ADDRESS: "pass 0x and 40 hex digits (mixed case only with a valid EIP-55 checksum)",
  INVALID_KEY: "pass a 0x-prefixed 32-byte hex private key",
  WRONG_PASSWORD: "check the keystore password (prompt, AVSCTL_KEYSTORE_PASSWORD or --password-stdin)",
  DIRECTORY_NOT_EMPTY: "pick a new or empty directory, or pass --force to write into this one",
  DEV_KEY_REFUSED: "sign with a key of your own, or pass --allow-dev-keys when this chain is a test chain",
  TASK_DEF_NOT_FOUND: "`avsctl task-def list` shows the task definitions that exist",
  WORKFLOW_INVALID:
    "fix each problem at the path named; `avsctl workflow validate <file>` checks a file offline",
  TX_REVERTED: "the revert's name and arguments say which check of the contract failed",
  TX_FAILED: "rerun with --verbose to see the node's whole answer",
  TASK_REJECTED: "the attesters' validation service refused the task; `avsctl devnet logs` shows why",
  EXECUTION_FAILED: "the execution service answered an error; `avsctl devnet logs execution` shows its log",
  DEVNET_UNHEALTHY: "`avsctl devnet status` shows which component is down",
  DEVNET_START_FAILED:
    "rerun with --verbose for details; `avsctl devnet up --fresh` starts again from scratch",
  COMMAND_FAILED: "rerun with --verbose for details",
  NOT_FOUND: "check the name or number given",
  ACCESS_DENIED:
    "sign in with the key that owns the task (AVSCTL_PRIVATE_KEY or --keystore); another owner's tasks and secrets are not yours",
  WORKFLOW_FAILED: "the failed step and its error are in the execution record; rerun with --verbose for more",
  INTERNAL: "this is a bug in avsctl; rerun with --verbose and report the stack trace",
  TIMEOUT: "retry; rerun with --verbose to see what was awaited",
  NO_DEVNET: "start one with `avsctl devnet up`",
  RPC_UNREACHABLE: "check that the chain's node runs and that its URL is right",
  DOCKER_UNAVAILABLE: "start the Docker engine, or set DOCKER_HOST to one that answers",
  PORT_IN_USE: "stop whatever listens on that port",
  TOOLCHAIN_MISSING: "install the missing tool and put it on PATH",
  NODE_VERSION: "install Node.js 24 LTS (at least 22.13) and put it first on PATH",
  ENGINE_UNREACHABLE:
    "start the devnet (`avsctl devnet up`), or pass --engine <url> of a running task engine",
  INTERRUPTED: "run the command again to finish",
};

/** The thrower's hint, else the catalog's default for the code: never empty. */
export function hintOf(error: AvsctlError, context: HintContext = {}): string {
  if (error.hint) return error.hint;
  const hint = DEFAULT_HINTS[error.code] ?? DEFAULT_HINTS.INTERNAL;
  return typeof hint === "function" ? hint(context) : hint;
}

export interface AvsctlErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  /** Extra machine-readable facts (decoded revert arguments, the flag name, ...). */
  details?: Record<string, unknown>;
  cause?: unknown;
}

/**
 * An error a user is meant to read. Recognised by the `isAvsctlError` marker rather than
 * `instanceof`, so errors crossing module copies (dist vs. tests) still render properly.
 */
export class AvsctlError extends Error {
  readonly isAvsctlError = true as const;
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: AvsctlErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AvsctlError";
    this.code = code;
    this.hint = options.hint;
    this.details = options.details;
  }

  get exitCode(): ExitCode {
    return ERROR_CODES[this.code];
  }
}

export function isAvsctlError(value: unknown): value is AvsctlError {
  return (
    typeof value === "object" &&
    value !== null &&
    (value as { isAvsctlError?: unknown }).isAvsctlError === true
  );
}

/** Shorthand for the most common failure: a bad flag, argument or config value. */
export function invalidArgument(name: string, problem: string, hint?: string): AvsctlError {
  return new AvsctlError("INVALID_ARGUMENT", `${name}: ${problem}`, { hint, details: { argument: name } });
}

/** A required flag, argument or variable that was not given (`name: problem`). */
export function missingArgument(name: string, problem: string, hint?: string): AvsctlError {
  return new AvsctlError("MISSING_ARGUMENT", `${name}: ${problem}`, { hint, details: { argument: name } });
}

export function exitCodeOf(error: unknown): ExitCode {
  return isAvsctlError(error) ? error.exitCode : EXIT.FAILED;
}
