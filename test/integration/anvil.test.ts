import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { HDNodeWallet, Mnemonic, Wallet } from "ethers";
import { afterEach, describe, expect, it } from "vitest";
import { type AnvilInstance, startAnvil } from "../../src/chain/anvil.js";
import { anvilBinaryPath } from "../../src/chain/anvil-command.js";
import {
  ANVIL_DEV_ADDRESSES,
  ANVIL_DEV_PRIVATE_KEYS,
  ANVIL_MNEMONIC,
  isDevAddress,
  isDevPrivateKey,
} from "../../src/chain/dev-keys.js";
import { rpc, useAnvil } from "../helpers/anvil.js";

const execFileAsync = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../..", import.meta.url));

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return undefined;
}

const started: AnvilInstance[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((chain) => chain.stop()));
});

describe("startAnvil", () => {
  it("runs two chains with distinct ids at once, mines, and stops them for good", async () => {
    const [a, b] = await Promise.all([startAnvil({ chainId: 31337 }), startAnvil({ chainId: 1337 })]);
    started.push(a!, b!);
    expect(a!.port).not.toBe(b!.port);
    expect(a!.rpcUrl).toBe(`http://127.0.0.1:${a!.port}`);

    for (const [chain, id] of [
      [a!, 31337],
      [b!, 1337],
    ] as const) {
      expect(chain.chainId).toBe(id);
      expect(Number(await rpc<string>(chain.rpcUrl, "eth_chainId"))).toBe(id);
      expect(isRunning(chain.pid)).toBe(true);
      // Automine: a transfer produces a block.
      const before = Number(await rpc<string>(chain.rpcUrl, "eth_blockNumber"));
      const hash = await rpc<string>(chain.rpcUrl, "eth_sendTransaction", [
        { from: ANVIL_DEV_ADDRESSES[0], to: ANVIL_DEV_ADDRESSES[1], value: "0x1" },
      ]);
      let receipt: { blockNumber: string } | null = null;
      for (let i = 0; i < 100 && !receipt; i++) {
        receipt = await rpc(chain.rpcUrl, "eth_getTransactionReceipt", [hash]);
        if (!receipt) await new Promise((r) => setTimeout(r, 50));
      }
      expect(Number(receipt?.blockNumber)).toBe(before + 1);
      expect(Number(await rpc<string>(chain.rpcUrl, "eth_blockNumber"))).toBe(before + 1);
    }

    await Promise.all([a!.stop(), b!.stop()]);
    expect(await a!.exited).toEqual({ code: 0, signal: null });
    expect(isRunning(a!.pid)).toBe(false);
    expect(isRunning(b!.pid)).toBe(false);
    await a!.stop(); // idempotent
    await expect(rpc(a!.rpcUrl, "eth_chainId")).rejects.toThrow();
  });

  it("mines on an interval with a block time", async () => {
    const chain = await startAnvil({ chainId: 4242, blockTime: 1 });
    started.push(chain);
    let block = 0;
    for (let i = 0; i < 100 && block === 0; i++) {
      await new Promise((r) => setTimeout(r, 100));
      block = Number(await rpc<string>(chain.rpcUrl, "eth_blockNumber"));
    }
    expect(block).toBeGreaterThan(0);
  });

  it("mines a batch request of transactions into one block, without empty blocks", async () => {
    // With anvil's default worker threads its miner races the batch request: most rounds
    // left empty blocks behind (each a state root over all storage). ANVIL_ENV prevents that.
    const chain = await startAnvil();
    started.push(chain);
    const wallet = new Wallet(ANVIL_DEV_PRIVATE_KEYS[3]!);
    const before = Number(await rpc<string>(chain.rpcUrl, "eth_blockNumber"));
    let nonce = 0;
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const raw = await Promise.all(
        Array.from({ length: 20 }, () =>
          wallet.signTransaction({
            to: ANVIL_DEV_ADDRESSES[4],
            nonce: nonce++,
            gasLimit: 21_000,
            gasPrice: 3_000_000_000n,
            chainId: 31337,
            value: 1n,
          }),
        ),
      );
      // highest nonce first: nothing can be mined until the lowest comes in
      const body = raw
        .reverse()
        .map((tx, id) => ({ jsonrpc: "2.0", id, method: "eth_sendRawTransaction", params: [tx] }));
      const response = await fetch(chain.rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      const answers = (await response.json()) as Array<{ error?: unknown }>;
      expect(answers.filter((a) => a.error)).toEqual([]);
    }
    await expect
      .poll(() => rpc<string>(chain.rpcUrl, "eth_getTransactionCount", [wallet.address, "latest"]))
      .toBe(`0x${nonce.toString(16)}`);
    const after = Number(await rpc<string>(chain.rpcUrl, "eth_blockNumber"));
    const counts = await Promise.all(
      Array.from({ length: after - before }, (_v, i) =>
        rpc<string>(chain.rpcUrl, "eth_getBlockTransactionCountByNumber", [
          `0x${(before + 1 + i).toString(16)}`,
        ]),
      ),
    );
    expect(counts.map(Number)).toEqual(Array(rounds).fill(20));
  });

  it("fails with PORT_IN_USE on a taken explicit port", async () => {
    const chain = await startAnvil();
    started.push(chain);
    expect(await codeOf(startAnvil({ port: chain.port }))).toBe("PORT_IN_USE");
  });

  it("stops a chain when its signal aborts, and refuses to start on an aborted signal", async () => {
    const controller = new AbortController();
    const chain = await startAnvil({ signal: controller.signal });
    started.push(chain);
    controller.abort();
    for (let i = 0; i < 100 && isRunning(chain.pid); i++) await new Promise((r) => setTimeout(r, 50));
    expect(isRunning(chain.pid)).toBe(false);
    await expect(startAnvil({ signal: controller.signal })).rejects.toThrow();
  });

  it("reports a crash through exited, after which stop() is a no-op", async () => {
    const chain = await startAnvil();
    started.push(chain);
    process.kill(chain.pid, "SIGKILL");
    expect(await chain.exited).toEqual({ code: null, signal: "SIGKILL" });
    await chain.stop();
    expect(isRunning(chain.pid)).toBe(false);
  });

  it("kills the chain when the parent process exits without stop()", async () => {
    // A child node process runs the TypeScript source directly (type stripping), mapping the
    // ".js" import specifiers to the ".ts" files, starts a chain and exits without stopping it.
    const script = `
      import { registerHooks } from "node:module";
      registerHooks({
        resolve(specifier, context, next) {
          try { return next(specifier, context); }
          catch (error) {
            if (specifier.startsWith(".") && specifier.endsWith(".js")) return next(specifier.slice(0, -3) + ".ts", context);
            throw error;
          }
        },
      });
      const { startAnvil } = await import(${JSON.stringify(pathToFileURL(path.join(repoRoot, "src/chain/anvil.ts")).href)});
      const chain = await startAnvil();
      process.stdout.write(String(chain.pid));
      process.exit(0);
    `;
    const { stdout } = await execFileAsync(process.execPath, ["--input-type=module", "-e", script], {
      timeout: 60_000,
    });
    const pid = Number(stdout.trim());
    expect(pid).toBeGreaterThan(0);
    for (let i = 0; i < 100 && isRunning(pid); i++) await new Promise((r) => setTimeout(r, 50));
    const leaked = isRunning(pid);
    // Never leave the orphan behind, even when the hook is broken.
    if (leaked) process.kill(pid, "SIGKILL");
    expect(leaked).toBe(false);
  });

  it("finds the binary and honours AVSCTL_ANVIL_BIN", async () => {
    expect(anvilBinaryPath()).toMatch(/@foundry-rs\/anvil-[a-z0-9]+-[a-z0-9]+\/bin\/anvil(\.exe)?$/);
    const saved = process.env.AVSCTL_ANVIL_BIN;
    process.env.AVSCTL_ANVIL_BIN = "/nonexistent/anvil";
    try {
      expect(await codeOf(startAnvil())).toBe("TOOLCHAIN_MISSING");
    } finally {
      if (saved === undefined) delete process.env.AVSCTL_ANVIL_BIN;
      else process.env.AVSCTL_ANVIL_BIN = saved;
    }
  });

  it("rejects bad options before starting anything", async () => {
    expect(await codeOf(startAnvil({ chainId: 0 }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(startAnvil({ port: 70_000 }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(startAnvil({ blockTime: -1 }))).toBe("INVALID_ARGUMENT");
  });
});

describe("useAnvil", () => {
  const chain = useAnvil({ chainId: 31339, balance: "5" });

  it("serves the well-known dev accounts, which derive from the anvil mnemonic", async () => {
    const { rpcUrl } = chain();
    expect(Number(await rpc<string>(rpcUrl, "eth_chainId"))).toBe(31339);
    expect(await rpc<string[]>(rpcUrl, "eth_accounts")).toEqual(
      ANVIL_DEV_ADDRESSES.map((x) => x.toLowerCase()),
    );
    expect(BigInt(await rpc<string>(rpcUrl, "eth_getBalance", [ANVIL_DEV_ADDRESSES[3], "latest"]))).toBe(
      5n * 10n ** 18n,
    );
    const mnemonic = Mnemonic.fromPhrase(ANVIL_MNEMONIC);
    ANVIL_DEV_PRIVATE_KEYS.forEach((key, i) => {
      const wallet = HDNodeWallet.fromMnemonic(mnemonic, `m/44'/60'/0'/0/${i}`);
      expect(wallet.privateKey).toBe(key);
      expect(wallet.address).toBe(ANVIL_DEV_ADDRESSES[i]);
    });
    expect(isDevPrivateKey(ANVIL_DEV_PRIVATE_KEYS[0].slice(2).toUpperCase())).toBe(true);
    expect(isDevPrivateKey(`0x${"11".repeat(32)}`)).toBe(false);
    expect(isDevAddress(ANVIL_DEV_ADDRESSES[9].toLowerCase())).toBe(true);
  });
});
