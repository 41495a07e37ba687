/**
 * A real anvil chain for a test file: started in beforeAll, stopped in afterAll.
 *
 * @example
 * const chain = useAnvil({ chainId: 31337 });
 * it("...", async () => { const provider = new JsonRpcProvider(chain().rpcUrl); });
 */

import { afterAll, beforeAll } from "vitest";
import { type AnvilInstance, type StartAnvilOptions, startAnvil } from "../../src/chain/anvil.js";

export { ANVIL_DEV_ADDRESSES, ANVIL_DEV_PRIVATE_KEYS, ANVIL_MNEMONIC } from "../../src/chain/dev-keys.js";

/** Register hooks that run one anvil for the enclosing describe/file; returns a getter for it. */
export function useAnvil(opts: Omit<StartAnvilOptions, "signal"> = {}): () => AnvilInstance {
  let instance: AnvilInstance | undefined;
  beforeAll(async () => {
    instance = await startAnvil(opts);
  });
  afterAll(async () => {
    await instance?.stop();
  });
  return () => {
    if (!instance) throw new Error("useAnvil(): the chain is only available inside tests (after beforeAll)");
    return instance;
  };
}

/** Run `fn` with a fresh anvil and always stop it afterwards. */
export async function withAnvil<T>(
  opts: Omit<StartAnvilOptions, "signal">,
  fn: (chain: AnvilInstance) => Promise<T>,
): Promise<T> {
  const chain = await startAnvil(opts);
  try {
    return await fn(chain);
  } finally {
    await chain.stop();
  }
}

/** One JSON-RPC call to a test chain (no ethers needed). */
export async function rpc<T = unknown>(rpcUrl: string, method: string, params: unknown[] = []): Promise<T> {
  const response = await fetch(rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}
