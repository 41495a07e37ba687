import { AvsctlError, type ErrorCode, EXIT, type ExitCode, isAvsctlError } from "../errors.js";
import type { Output } from "./context.js";

export interface ErrorJson {
  error: { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown> };
}

/** Anything thrown becomes an AvsctlError; an unexpected one is a bug and keeps its stack. */
export function toAvsctlError(error: unknown): AvsctlError {
  if (isAvsctlError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new AvsctlError("INTERNAL", `unexpected error: ${message}`, {
    hint: "this is a bug in avsctl; rerun with --verbose and report the stack trace",
    cause: error,
  });
}

export function errorJson(error: AvsctlError): ErrorJson {
  const body: ErrorJson["error"] = { code: error.code, message: error.message };
  if (error.hint) body.hint = error.hint;
  if (error.details && Object.keys(error.details).length > 0) body.details = error.details;
  return { error: body };
}

/**
 * The only place errors reach the user: JSON on stdout under --json, otherwise one message
 * (plus what to do) on stderr. Returns the exit code the error maps to.
 */
export function renderError(
  thrown: unknown,
  opts: { json: boolean; verbose: boolean; out: Output },
): ExitCode {
  const error = toAvsctlError(thrown);
  if (opts.json) {
    opts.out.stdout(`${JSON.stringify(errorJson(error))}\n`);
  } else {
    let text = `Error [${error.code}]: ${error.message}\n`;
    if (error.hint) text += `  ${error.hint}\n`;
    if (opts.verbose || error.code === "INTERNAL") {
      const stack = (error.cause instanceof Error ? error.cause.stack : undefined) ?? error.stack;
      if (stack) text += `${stack}\n`;
    }
    opts.out.stderr(text);
  }
  return error.exitCode ?? EXIT.FAILED;
}
