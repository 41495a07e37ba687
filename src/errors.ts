/**
 * The one catalog of avsctl errors. Every failure a user can see has a stable code from this
 * table; the code decides the exit code, and `src/cli/render-error.ts` is the only place that
 * turns an error into output. Scripts match on `code`, never on message wording.
 */

/** Exit codes of CLI.md: 0 ok, 1 operation failed, 2 bad input, 3 timed out, 4 environment. */
export const EXIT = {
  OK: 0,
  FAILED: 1,
  USAGE: 2,
  TIMEOUT: 3,
  ENVIRONMENT: 4,
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
  // the operation failed (1)
  NOT_IMPLEMENTED: EXIT.FAILED,
  TX_REVERTED: EXIT.FAILED,
  TX_FAILED: EXIT.FAILED,
  TASK_REJECTED: EXIT.FAILED,
  NO_DEVNET: EXIT.FAILED,
  DEVNET_UNHEALTHY: EXIT.FAILED,
  DEVNET_START_FAILED: EXIT.FAILED,
  COMMAND_FAILED: EXIT.FAILED,
  NOT_FOUND: EXIT.FAILED,
  WORKFLOW_FAILED: EXIT.FAILED,
  INTERNAL: EXIT.FAILED,
  // timed out (3)
  TIMEOUT: EXIT.TIMEOUT,
  // environment unavailable (4)
  RPC_UNREACHABLE: EXIT.ENVIRONMENT,
  DOCKER_UNAVAILABLE: EXIT.ENVIRONMENT,
  PORT_IN_USE: EXIT.ENVIRONMENT,
  TOOLCHAIN_MISSING: EXIT.ENVIRONMENT,
  NODE_VERSION: EXIT.ENVIRONMENT,
} as const satisfies Record<string, ExitCode>;

export type ErrorCode = keyof typeof ERROR_CODES;

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

export function exitCodeOf(error: unknown): ExitCode {
  return isAvsctlError(error) ? error.exitCode : EXIT.FAILED;
}
