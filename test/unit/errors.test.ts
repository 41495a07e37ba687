import { describe, expect, it } from "vitest";
import { isCI, isInteractive } from "../../src/cli/interactive.js";
import { errorJson, renderError } from "../../src/cli/render-error.js";
import { AvsctlError, ERROR_CODES, EXIT, exitCodeOf, isAvsctlError } from "../../src/errors.js";

describe("error catalog", () => {
  it("maps every code to one of the exit codes of CLI.md", () => {
    const allowed = new Set<number>(Object.values(EXIT));
    for (const [code, exit] of Object.entries(ERROR_CODES)) {
      expect(allowed.has(exit), code).toBe(true);
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
  });

  it("maps the categories as CLI.md says", () => {
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
    expect(errorJson(new AvsctlError("TIMEOUT", "t")).error).toEqual({ code: "TIMEOUT", message: "t" });
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
