import { AvsctlError, type ErrorCode, EXIT, type ExitCode, hintOf, isAvsctlError } from "../errors.js";
import type { Output } from "./context.js";

export interface ErrorJson {
  error: { code: ErrorCode; message: string; hint: string; details?: Record<string, unknown> };
}

export interface RenderOptions {
  json: boolean;
  verbose: boolean;
  out: Output;
  /** The command that failed ("task send"), so a default hint can name its `--help`. */
  command?: string;
}

/**
 * The values a library quotes in its own errors (ethers: `value="0x.."`), taken out of an
 * unexpected error before it is shown: one may be a private key that reached it unchecked.
 */
function withoutQuotedValues(text: string): string {
  return text.replace(/\bvalue=("(?:[^"\\]|\\.)*"|[^,\s)]+)/g, "value=[hidden]");
}

/** Anything thrown becomes an AvsctlError; an unexpected one is a bug and keeps its stack. */
export function toAvsctlError(error: unknown): AvsctlError {
  if (isAvsctlError(error)) return error;
  const message = withoutQuotedValues(error instanceof Error ? error.message : String(error));
  return new AvsctlError("INTERNAL", `unexpected error: ${message}`, {
    hint: "this is a bug in avsctl; rerun with --verbose and report the stack trace",
    cause: error,
  });
}

/** `{"error": {code, message, hint, details?}}`: the hint falls back to the catalog's, so it is never missing. */
export function errorJson(error: AvsctlError, command?: string): ErrorJson {
  const body: ErrorJson["error"] = {
    code: error.code,
    message: error.message,
    hint: hintOf(error, { command }),
  };
  if (error.details && Object.keys(error.details).length > 0) body.details = error.details;
  return { error: body };
}

/**
 * The only place errors reach the user: JSON on stdout under --json, otherwise one message
 * (plus what to do) on stderr. Returns the exit code the error maps to.
 */
export function renderError(thrown: unknown, opts: RenderOptions): ExitCode {
  const error = toAvsctlError(thrown);
  const stack = () => {
    const text = (error.cause instanceof Error ? error.cause.stack : undefined) ?? error.stack;
    return text ? `${error.code === "INTERNAL" ? withoutQuotedValues(text) : text}\n` : "";
  };
  if (opts.json) {
    opts.out.stdout(`${JSON.stringify(errorJson(error, opts.command))}\n`);
    // stdout holds the JSON alone; the stack INTERNAL's hint asks for goes where --verbose logs
    if (opts.verbose) opts.out.stderr(stack());
  } else {
    let text = `Error [${error.code}]: ${error.message}\n`;
    text += `  ${hintOf(error, { command: opts.command })}\n`;
    if (opts.verbose || error.code === "INTERNAL") text += stack();
    opts.out.stderr(text);
  }
  return error.exitCode ?? EXIT.FAILED;
}
