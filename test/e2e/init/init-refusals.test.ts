/**
 * `avsctl init` refuses before it writes: a non-empty directory without --force, a bad name, an
 * unknown language or template all exit 2 and leave the disk as it was. The built CLI runs as a
 * child process; nothing is installed (--no-install), so this file takes seconds.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";

let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-e2e-init-refuse-"));
});

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

/** Every file and folder under dir (relative, forward slashes), so "writes nothing" covers the whole tree. */
function tree(dir: string, filesOnly = false): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !filesOnly || e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"))
    .sort();
}

const init = (args: string[]) => runCli(["init", ...args, "--yes", "--no-install", "--json"], { cwd: tmp });

describe("avsctl init refusals", () => {
  it("refuses a non-empty directory without --force (exit 2, DIRECTORY_NOT_EMPTY) and writes nothing", async () => {
    const dir = path.join(tmp, "occupied");
    mkdirSync(path.join(dir, "notes"), { recursive: true });
    writeFileSync(path.join(dir, "keep.txt"), "mine\n");
    writeFileSync(path.join(dir, "notes", "README.md"), "my readme\n");
    const before = tree(dir);

    const r = await init([dir, "--language", "go"]);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.json().error.code).toBe("DIRECTORY_NOT_EMPTY");
    expect(tree(dir)).toEqual(before);
    expect(readFileSync(path.join(dir, "keep.txt"), "utf8")).toBe("mine\n");

    // The same directory with --force is written into, keeping unrelated files: the refusal
    // above was about the directory, not about the rest of the command line.
    const forced = await init([dir, "--language", "go", "--force"]);
    expect(forced.code, forced.stderr + forced.stdout).toBe(0);
    const body = forced.json();
    expect(body.files).toContain("avsctl.config.json");
    expect(existsSync(path.join(dir, "avsctl.config.json"))).toBe(true);
    expect(readFileSync(path.join(dir, "keep.txt"), "utf8")).toBe("mine\n");
  });

  it.each([
    ["an invalid --name", ["--name", "Bad_Name!"], "--name"],
    ["a name ending in a dash", ["--name", "trailing-"], "--name"],
    ["an unknown --language", ["--language", "rust"], "--language"],
    ["an unknown --template", ["--template", "no-such-template"], "--template"],
  ])("%s exits 2 (INVALID_ARGUMENT) and creates nothing", async (_label, flags) => {
    const dir = path.join(tmp, `refused-${Math.random().toString(16).slice(2, 8)}`);
    const r = await init([dir, ...flags]);
    expect(r.code, r.stderr + r.stdout).toBe(2);
    expect(r.json().error.code).toBe("INVALID_ARGUMENT");
    expect(existsSync(dir)).toBe(false);
  });

  it("a valid call writes the project it reports (control for the refusals above)", async () => {
    const dir = path.join(tmp, "fresh");
    const r = await init([dir, "--language", "py", "--name", "fresh-avs"]);
    expect(r.code, r.stderr + r.stdout).toBe(0);
    const body = r.json();
    expect(body).toMatchObject({
      path: dir,
      name: "fresh-avs",
      template: "price-oracle",
      language: "python",
    });
    // What it reports is exactly what is on disk.
    expect(tree(dir, true)).toEqual([...(body.files as string[])].sort());
    expect(body.files).toEqual(expect.arrayContaining(["avsctl.config.json", ".env.example", ".gitignore"]));
  });
});
