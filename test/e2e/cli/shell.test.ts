import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot, runCli } from "../../helpers/cli.js";

const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as { version: string };

describe("avsctl shell (built binary)", () => {
  it("--version prints the package version", async () => {
    const r = await runCli(["--version"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it("--help lists every command group", async () => {
    const r = await runCli(["--help"]);
    expect(r.code).toBe(0);
    for (const group of ["init", "task-def", "devnet", "task", "node", "workflow", "keys", "quickstart"]) {
      expect(r.stdout).toMatch(new RegExp(`^\\s+${group}\\b`, "m"));
    }
  });

  it("an unknown flag exits 2 and names the flag", async () => {
    const r = await runCli(["devnet", "up", "--no-such-flag"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--no-such-flag");
    expect(r.stdout).toBe("");
  });

  it("an unknown flag with --json prints only the error object on stdout", async () => {
    const r = await runCli(["--json", "task-def", "list", "--bogus"]);
    expect(r.code).toBe(2);
    const body = r.json();
    expect(body).toEqual({
      error: expect.objectContaining({ code: "UNKNOWN_OPTION", message: expect.stringContaining("--bogus") }),
    });
  });

  it("an unknown command exits 2", async () => {
    const r = await runCli(["frobnicate", "--json"]);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("UNKNOWN_COMMAND");
  });

  it("`workflow validate` of a missing file exits 2", async () => {
    const r = await runCli(["workflow", "validate", "no-such-workflow.json", "--json"]);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("INVALID_ARGUMENT");
  });

  it("a missing argument exits 2", async () => {
    const r = await runCli(["task-def", "show", "--json"]);
    expect(r.code).toBe(2);
    expect(r.json().error.code).toBe("MISSING_ARGUMENT");
  });
});
