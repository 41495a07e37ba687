/**
 * The node processes (aggregator, attester) load only the parts of ethers they use: its ABI
 * coder, hashing, transactions and addresses. The package root would also load its providers,
 * contracts, wallets and wordlists: about 5 MB more of every node's memory.
 * Reads the build (`npm test` builds first), the way `avsctl node` runs it.
 */
import { spawnSync } from "node:child_process";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../helpers/cli.js";

/** The ethers folders (lib.esm/<folder>/...) that importing `modules` loads, in a fresh node. */
function ethersPartsLoadedBy(modules: string[]): string[] {
  const script = `
    import { registerHooks } from "node:module";
    const parts = new Set();
    registerHooks({
      resolve(spec, ctx, next) {
        const r = next(spec, ctx);
        const m = /\\/ethers\\/lib\\.esm\\/([^/]+)/.exec(r.url);
        if (m) parts.add(m[1]);
        return r;
      },
    });
    for (const m of ${JSON.stringify(modules)}) await import(m);
    console.log(JSON.stringify([...parts].sort()));
  `;
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as string[];
}

const dist = (p: string) => path.join(repoRoot, "dist", p);

describe("ethers in the node processes", () => {
  it("the aggregator and the attester load no providers, contracts, wallets or wordlists", () => {
    const parts = ethersPartsLoadedBy([dist("node/aggregator.js"), dist("node/attester.js")]);
    expect(parts).toContain("abi");
    expect(parts).toContain("transaction");
    for (const heavy of ["providers", "contract", "wallet", "wordlists", "index.js", "ethers.js"]) {
      expect(parts).not.toContain(heavy);
    }
  });

  it("the check sees the package root when something imports it", () => {
    expect(ethersPartsLoadedBy(["ethers"])).toEqual(expect.arrayContaining(["providers", "wallet"]));
  });
});
