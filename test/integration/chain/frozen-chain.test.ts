/**
 * The chain layer's providers against a real anvil that is frozen (SIGSTOP: its connections are
 * taken, nothing answers): each request ends after its bound as a chain that did not answer,
 * leaves nothing open behind it, and the provider works again once the chain does.
 */
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { boundChainRequests, chainDidNotAnswer, chainProvider } from "../../../src/chain/rpc.js";
import { useAnvil } from "../../helpers/anvil.js";
import { until } from "../../helpers/until.js";

const chain = useAnvil({ chainId: 31338 });
let frozen = false;

function freeze(): void {
  process.kill(chain().pid, "SIGSTOP");
  frozen = true;
}

function thaw(): void {
  if (frozen) process.kill(chain().pid, "SIGCONT");
  frozen = false;
}

afterEach(thaw);
// before useAnvil's stop: a stopped chain would not take its SIGTERM
afterAll(thaw);

/** What keeps this process alive besides its own IPC with vitest: a request left open would show as a TCP handle. */
const tcpHandles = () => process.getActiveResourcesInfo().filter((r) => r.startsWith("TCP")).length;

describe("a provider of the chain layer on a frozen chain", () => {
  it("ends a request after its timeout as RPC_UNREACHABLE naming the chain, closes it, and answers again once the chain does", async () => {
    const provider = await chainProvider(chain().rpcUrl, 31338, {}, { requestTimeoutMs: 1_000 });
    try {
      expect(await provider.send("eth_blockNumber", [])).toMatch(/^0x/);
      const before = tcpHandles();
      freeze();
      const error = await provider.send("eth_blockNumber", []).catch((e: unknown) => e);
      expect(error).toMatchObject({
        code: "RPC_UNREACHABLE",
        message: `the chain at ${chain().rpcUrl} did not answer within 1 s`,
      });
      expect(chainDidNotAnswer(error)).toBe(true);
      // closed, not left waiting on the frozen chain (its handle goes within a few turns)
      await until(async () => tcpHandles() <= before, "the frozen request's socket to close", 5_000);
      thaw();
      expect(await provider.send("eth_blockNumber", [])).toMatch(/^0x/);
    } finally {
      provider.destroy();
    }
  });

  it("bounds requests by a deadline, and one made past it by 2 s", async () => {
    const provider = await chainProvider(chain().rpcUrl, 31338);
    try {
      boundChainRequests(provider, Date.now() - 1);
      freeze();
      await expect(provider.send("eth_blockNumber", [])).rejects.toMatchObject({
        code: "RPC_UNREACHABLE",
        message: `the chain at ${chain().rpcUrl} did not answer within 2 s`,
      });
    } finally {
      provider.destroy();
    }
  });

  it("sends a URL's credentials as a header: the URL works as given", async () => {
    const url = chain().rpcUrl.replace("http://", "http://user:p%40ss@");
    const provider = await chainProvider(url, 31338);
    try {
      expect(await provider.send("eth_blockNumber", [])).toMatch(/^0x/);
    } finally {
      provider.destroy();
    }
  });
});
