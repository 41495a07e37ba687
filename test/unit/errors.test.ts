import { describe, expect, it } from "vitest";
import { isCI, isInteractive } from "../../src/cli/interactive.js";
import { errorJson, renderError } from "../../src/cli/render-error.js";
import {
  AvsctlError,
  DEFAULT_HINTS,
  ERROR_CODES,
  type ErrorCode,
  errorCatalogs,
  exitCodeOf,
  hintOf,
  isAvsctlError,
  registerCatalog,
} from "../../src/errors.js";
import { RPC_ERRORS } from "../../src/node/json-rpc.js";
import { ENGINE_ERROR_CODES } from "../../src/task-engine/http.js";
import { WORKFLOW_ERROR_CODES } from "../../src/workflow/types.js";

describe("error catalog", () => {
  it("holds every catalog, with each code name used once and each JSON-RPC number once", () => {
    const catalogs = errorCatalogs();
    expect(Object.keys(catalogs).sort()).toEqual(["avsctl", "json-rpc", "task-engine", "workflow"]);
    expect(Object.keys(catalogs.workflow!)).toEqual([...WORKFLOW_ERROR_CODES]);
    expect(Object.keys(catalogs["task-engine"]!)).toEqual([...ENGINE_ERROR_CODES]);
    expect(catalogs["json-rpc"]).toEqual(RPC_ERRORS);
    const names = Object.values(catalogs).flatMap((codes) => Object.keys(codes));
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
    for (const name of names) expect(name).toMatch(/^[A-Z][A-Z0-9_]+$/);
    const wire = Object.values(RPC_ERRORS);
    expect(new Set(wire).size).toBe(wire.length);
  });

  it("refuses a catalog that reuses a code name or a wire number, and changes nothing then", () => {
    const before = errorCatalogs();
    const clash = (codes: Record<string, number> | string[]) => () => registerCatalog("clash", codes);
    const internal = expect.objectContaining({ code: "INTERNAL" });
    expect(clash(["TIMEOUT"])).toThrow(internal);
    expect(clash(["WF_CYCLE"])).toThrow(internal);
    expect(clash({ NEW_CODE: RPC_ERRORS.TASK_KNOWN })).toThrow(internal);
    expect(clash({ ONE: -1, TWO: -1 })).toThrow(internal);
    expect(clash(["NEW_CODE", "NEW_CODE"])).toThrow(internal);
    expect(() => registerCatalog("workflow", ["WF_SOMETHING_ELSE"])).toThrow(internal);
    registerCatalog("workflow", WORKFLOW_ERROR_CODES);
    expect(errorCatalogs()).toEqual(before);
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

  it("--json --verbose: the stack INTERNAL's hint asks for goes to stderr, stdout keeps the JSON alone", () => {
    for (const verbose of [true, false]) {
      let stdout = "";
      let stderr = "";
      const out = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
      expect(renderError(new TypeError("boom"), { json: true, verbose, out })).toBe(1);
      const { error } = JSON.parse(stdout);
      expect(error).toMatchObject({ code: "INTERNAL", message: "unexpected error: boom" });
      expect(error.hint).toContain("rerun with --verbose and report the stack trace");
      if (verbose) {
        expect(stderr).toMatch(/^TypeError: boom\n\s+at /);
      } else {
        expect(stderr).toBe("");
      }
    }
  });

  it("hides the values a library quotes in an unexpected error, in the message and the stack", () => {
    const key = `0x${"5de4".repeat(15)}365a `;
    const thrown = new TypeError(
      `invalid BytesLike value (argument="value", value="${key}", code=INVALID_ARGUMENT)`,
    );
    for (const json of [true, false]) {
      let text = "";
      const out = { stdout: (t: string) => void (text += t), stderr: (t: string) => void (text += t) };
      expect(renderError(thrown, { json, verbose: true, out })).toBe(1);
      expect(text).toContain("INTERNAL");
      expect(text).toContain("value=[hidden], code=INVALID_ARGUMENT");
      expect(text).not.toContain("5de4");
    }
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
