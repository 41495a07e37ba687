/**
 * The node processes (aggregator, attester) load only the parts of ethers they use: its ABI
 * coder, hashing, transactions and addresses. The package root would also load its providers,
 * contracts, wallets and wordlists: about 5 MB more of every node's memory. Nor do they load
 * Node's bundled undici (fetch, WebSocket): about 4 MB more.
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

/** Runs `body` (an ES module's text) in a fresh node and returns what it prints, as JSON. */
function runFresh(body: string): unknown {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", body], {
    cwd: repoRoot,
    encoding: "utf8",
  });
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout);
}

const UNDICI = `() => process.moduleLoadList.some((m) => m.includes("undici"))`;

describe("undici in the node processes", () => {
  it("is not loaded by the nodes' modules, nor by their JSON-RPC and HTTP calls to plain-http endpoints", () => {
    const result = runFresh(`
      const undici = ${UNDICI};
      const { tuneNodeProcess } = await import(${JSON.stringify(dist("node/process-tuning.js"))});
      tuneNodeProcess();
      await import(${JSON.stringify(dist("node/aggregator.js"))});
      await import(${JSON.stringify(dist("node/attester.js"))});
      const afterImports = undici();
      const http = await import("node:http");
      const server = http.createServer((req, res) => {
        req.resume();
        req.on("end", () => res.end('{"jsonrpc":"2.0","id":1,"result":"0x7a69"}'));
      });
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      const url = "http://127.0.0.1:" + server.address().port;
      const { fetchChainId } = await import(${JSON.stringify(dist("chain/rpc.js"))});
      const { httpPost } = await import(${JSON.stringify(dist("util/http-post.js"))});
      const chainId = await fetchChainId(url);
      const posted = await httpPost(url + "/p2p/hello", "{}", { timeoutMs: 5000 });
      server.close();
      server.closeAllConnections();
      const afterCalls = undici();
      // still there for whoever asks for it by name (which loads undici)
      const webSocket = typeof http.default.WebSocket;
      console.log(JSON.stringify({ afterImports, chainId, status: posted.status, afterCalls, webSocket }));
    `);
    expect(result).toEqual({
      afterImports: false,
      chainId: 31337,
      status: 200,
      afterCalls: false,
      webSocket: "function",
    });
  });

  it("the check sees undici when node:http is imported without the tuning", () => {
    expect(runFresh(`await import("node:http"); console.log(JSON.stringify((${UNDICI})()));`)).toBe(true);
  });
});
