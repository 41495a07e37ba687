import { describe, expect, it } from "vitest";
import { isCI, isInteractive } from "../../src/cli/interactive.js";
import { errorJson, renderError } from "../../src/cli/render-error.js";
import {
  AvsctlError,
  DEFAULT_HINTS,
  ERROR_CODES,
  type ErrorCode,
  EXIT,
  exitCodeOf,
  hintOf,
  isAvsctlError,
} from "../../src/errors.js";

describe("error catalog", () => {
  it("maps every code to one of the exit codes of docs/cli.md", () => {
    const allowed = new Set<number>(Object.values(EXIT));
    for (const [code, exit] of Object.entries(ERROR_CODES)) {
      expect(allowed.has(exit), code).toBe(true);
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
  });

  it("maps the categories as docs/cli.md says", () => {
    expect(new AvsctlError("INVALID_ARGUMENT", "x").exitCode).toBe(2);
    expect(new AvsctlError("CONFIG_INVALID", "x").exitCode).toBe(2);
    expect(new AvsctlError("TX_REVERTED", "x").exitCode).toBe(1);
    expect(new AvsctlError("TIMEOUT", "x").exitCode).toBe(3);
    expect(new AvsctlError("DOCKER_UNAVAILABLE", "x").exitCode).toBe(4);
    expect(new AvsctlError("RPC_UNREACHABLE", "x").exitCode).toBe(4);
    expect(exitCodeOf(new Error("bug"))).toBe(1);
  });

  it("recognises its errors by marker, not by class identity", () => {
    const foreign = Object.assign(new Error("m"), { isAvsctlError: true, code: "TIMEOUT" });
    expect(isAvsctlError(foreign)).toBe(true);
    expect(isAvsctlError(new Error("m"))).toBe(false);
  });

  it("renders JSON with code, message and hint, and nothing on stderr", () => {
    let stdout = "";
    let stderr = "";
    const out = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
    const code = renderError(
      new AvsctlError("TX_REVERTED", "reverted: InvalidBlockExpiry()", { hint: "h" }),
      {
        json: true,
        verbose: false,
        out,
      },
    );
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({
      error: { code: "TX_REVERTED", message: "reverted: InvalidBlockExpiry()", hint: "h" },
    });
    expect(stderr).toBe("");
  });

  it("turns an unexpected exception into INTERNAL with the stack on stderr", () => {
    let stderr = "";
    const out = { stdout: () => {}, stderr: (t: string) => void (stderr += t) };
    expect(renderError(new TypeError("boom"), { json: false, verbose: false, out })).toBe(1);
    expect(stderr).toContain("INTERNAL");
    expect(stderr).toContain("TypeError");
    expect(errorJson(new AvsctlError("TIMEOUT", "t")).error).toEqual({
      code: "TIMEOUT",
      message: "t",
      hint: hintOf(new AvsctlError("TIMEOUT", "t")),
    });
  });

  it("gives every error a hint: the thrower's, else the catalog's default for its code", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      expect(typeof DEFAULT_HINTS[code], code).toMatch(/string|function/);
      expect(errorJson(new AvsctlError(code, "m")).error.hint.trim(), code).not.toBe("");
    }
    expect(errorJson(new AvsctlError("TIMEOUT", "t", { hint: "mine" })).error.hint).toBe("mine");
    // a usage error points at the help of the command that failed
    expect(errorJson(new AvsctlError("INVALID_ARGUMENT", "x"), "task list").error.hint).toContain(
      "`avsctl task list --help`",
    );
  });

  it("exits 4 without a devnet, 2 for an unknown task definition, 1 when the execution service fails", () => {
    expect(new AvsctlError("NO_DEVNET", "x").exitCode).toBe(4);
    expect(new AvsctlError("TASK_DEF_NOT_FOUND", "x").exitCode).toBe(2);
    expect(new AvsctlError("EXECUTION_FAILED", "x").exitCode).toBe(1);
  });
});

describe("non-interactive detection", () => {
  const tty = { stdinIsTTY: true, stdoutIsTTY: true };
  it("prompts only on a TTY without --yes, --json or CI", () => {
    expect(isInteractive({ json: false, yes: false, env: {}, ...tty })).toBe(true);
    expect(isInteractive({ json: true, yes: false, env: {}, ...tty })).toBe(false);
    expect(isInteractive({ json: false, yes: true, env: {}, ...tty })).toBe(false);
    expect(isInteractive({ json: false, yes: false, env: { CI: "true" }, ...tty })).toBe(false);
    expect(isInteractive({ json: false, yes: false, env: {}, stdinIsTTY: false, stdoutIsTTY: true })).toBe(
      false,
    );
    expect(isInteractive({ json: false, yes: false, env: {}, stdinIsTTY: true, stdoutIsTTY: false })).toBe(
      false,
    );
  });
  it("reads CI the way CI systems set it", () => {
    expect(isCI({ CI: "1" })).toBe(true);
    expect(isCI({ CI: "true" })).toBe(true);
    expect(isCI({ CI: "false" })).toBe(false);
    expect(isCI({ CI: "0" })).toBe(false);
    expect(isCI({})).toBe(false);
  });
});
