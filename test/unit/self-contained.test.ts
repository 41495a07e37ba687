/**
 * A user's clone holds the repository and nothing beside it: no file may point at anything
 * outside it (reference docs live in docs/, test fixtures in test/fixtures/), and no test may
 * read outside it. Checked over tracked files and new files git does not ignore.
 */

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");

// Built, so this file does not contain what it looks for.
const SIBLING_DIR = [".", ".", "/", "shared"].join("");
// Notes that only ever existed beside the repository; a mention is fine once one is in it.
const OUTSIDE_NOTES = ["CLI", "PROTOCOL", "STYLE"].map((name) => `${name}.md`);

function gitFiles(args: string[]): string[] {
  return execFileSync("git", ["ls-files", "-z", ...args], {
    cwd: root,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  })
    .split("\0")
    .filter(Boolean);
}

/** Tracked files plus untracked ones that are not ignored, that exist in the working tree. */
function repoFiles(): string[] {
  const all = new Set([...gitFiles([]), ...gitFiles(["--others", "--exclude-standard"])]);
  return [...all]
    .filter((f) => {
      const abs = path.join(root, f);
      return existsSync(abs) && statSync(abs).isFile();
    })
    .sort();
}

function lineOf(text: string, index: number): number {
  return text.slice(0, index).split("\n").length;
}

function isInside(abs: string): boolean {
  const rel = path.relative(root, abs);
  return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel));
}

describe("the repository is self-contained", () => {
  const files = repoFiles();

  it("lists the repository's files", () => {
    expect(files).toContain("package.json");
    expect(files).toContain("test/unit/self-contained.test.ts");
  });

  it(`no file mentions ${SIBLING_DIR}`, () => {
    const offenders: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(root, file), "latin1");
      let at = text.indexOf(SIBLING_DIR);
      while (at >= 0) {
        offenders.push(`${file}:${lineOf(text, at)}`);
        at = text.indexOf(SIBLING_DIR, at + 1);
      }
    }
    expect(offenders, `point these at docs/ or test/fixtures/ instead`).toEqual([]);
  });

  it("no file names a notes file that is not in the repository", () => {
    const present = new Set(files.map((f) => path.basename(f)));
    const missing = OUTSIDE_NOTES.filter((name) => !present.has(name));
    const offenders: string[] = [];
    for (const file of files) {
      const text = readFileSync(path.join(root, file), "latin1");
      for (const name of missing) {
        const at = text.indexOf(name);
        if (at >= 0) offenders.push(`${file}:${lineOf(text, at)}: ${name}`);
      }
    }
    expect(offenders, "the reference docs are docs/cli.md and docs/protocol.md").toEqual([]);
  });

  it("no test reads a path outside the repository", () => {
    const tests = files.filter((f) => f.startsWith("test/") && /\.(ts|mts|js|mjs|cjs)$/.test(f));
    expect(tests.length).toBeGreaterThan(10);
    const parent = path.dirname(root);
    const offenders: string[] = [];
    for (const file of tests) {
      const text = readFileSync(path.join(root, file), "utf8");
      const dir = path.dirname(path.join(root, file));
      // Relative paths resolve from the test's folder (import.meta.url / dirname) ...
      for (const m of text.matchAll(/(["'`])(\.{1,2}(?:\/[^"'`$\n]*)?)\1/g)) {
        if (!isInside(path.resolve(dir, m[2]!))) offenders.push(`${file}:${lineOf(text, m.index)}: ${m[2]}`);
      }
      // ... or from the repository root, where any leading ".." leaves it.
      for (const m of text.matchAll(
        /\b(?:repoRoot|REPO_ROOT|process\.cwd\(\))\s*,\s*(["'`])(\.\.(?:\/[^"'`\n]*)?)\1/g,
      )) {
        offenders.push(`${file}:${lineOf(text, m.index)}: ${m[2]}`);
      }
      // Absolute paths into the repository's siblings (they exist here, not in a clone).
      if (parent !== path.parse(parent).root) {
        for (const m of text.matchAll(/(["'`])(\/[^"'`$\n]+)\1/g)) {
          const abs = path.resolve(m[2]!);
          if (abs.startsWith(`${parent}${path.sep}`) && !isInside(abs) && existsSync(abs)) {
            offenders.push(`${file}:${lineOf(text, m.index)}: ${m[2]}`);
          }
        }
      }
    }
    expect(offenders, "read fixtures from test/fixtures/ instead").toEqual([]);
  });
});
