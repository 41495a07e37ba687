/**
 * The dependency rule of CONTRIBUTING.md ("Architecture"), enforced with dependency-cruiser
 * over the built dist/ (`npm test` builds first): no cycles, nothing but the CLI imports the
 * CLI, the domain never imports use cases, the lower layers never import upwards.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/cli.js";

const config = path.join(repoRoot, ".dependency-cruiser.cjs");
const depcruise = path.join(repoRoot, "node_modules", "dependency-cruiser", "bin", "dependency-cruiser.mjs");

interface Violation {
  from: string;
  to: string;
  rule: { name: string };
}

function cruise(cwd: string): { violations: Violation[]; modules: number } {
  const r = spawnSync(process.execPath, [depcruise, "dist", "--config", config, "--output-type", "json"], {
    cwd,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const out = JSON.parse(r.stdout) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: out.summary.violations, modules: out.summary.totalCruised };
}

const scratch = mkdtempSync(path.join(tmpdir(), "avsctl-layers-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("the layers of src, as built", () => {
  it("dist/ exists (the test reads the build)", () => {
    expect(existsSync(path.join(repoRoot, "dist", "cli", "main.js"))).toBe(true);
  });

  it("has no violation of the dependency rule", () => {
    const { violations, modules } = cruise(repoRoot);
    expect(modules).toBeGreaterThan(100);
    expect(violations.map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`)).toEqual([]);
  });

  it("the rules do catch each kind of violation (a tree made to break them)", () => {
    const files: Record<string, string> = {
      "dist/chain/low.js": 'import "../node/mid.js";\n',
      "dist/node/mid.js": 'import "../task/use.js";\nimport "../cli/top.js";\n',
      "dist/task/use.js": "export {};\n",
      "dist/cli/top.js": "export {};\n",
      "dist/crypto/c.js": 'import "../chain/low.js";\n',
      "dist/errors.js": 'import "./chain/low.js";\n',
      "dist/devnet/a.js": 'import "./b.js";\n',
      "dist/devnet/b.js": 'import "./a.js";\n',
    };
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(path.dirname(path.join(scratch, file)), { recursive: true });
      writeFileSync(path.join(scratch, file), text);
    }
    const broken = new Set(cruise(scratch).violations.map((v) => v.rule.name));
    expect([...broken].sort()).toEqual([
      "base-imports-nothing-above",
      "cli-is-the-top",
      "crypto-below-chain",
      "domain-below-use-cases",
      "lower-below-domain",
      "no-cycles",
    ]);
  });
});
