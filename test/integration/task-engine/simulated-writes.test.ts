/**
 * The task engine simulates writes: a stored workflow's ethTransfer is estimated, never sent.
 * `avsctl workflow trigger --wait` printed "ok pay (ethTransfer)", which reads as a transfer
 * made; it now says the write was simulated and nothing was sent. A real anvil, the engine
 * over HTTP, and the built CLI.
 */
import { JsonRpcProvider, Network, Wallet } from "ethers";
import { afterAll, beforeAll, expect, it } from "vitest";
import { ANVIL_DEV_ADDRESSES, rpc, useAnvil } from "../../helpers/anvil.js";
import { runCli } from "../../helpers/cli.js";
import { call, type Harness, signIn, startHarness } from "./helpers.js";

const chain = useAnvil({ chainId: 31337 });
let provider: JsonRpcProvider;
let h: Harness;

beforeAll(async () => {
  const network = Network.from(31337);
  provider = new JsonRpcProvider(chain().rpcUrl, network, { staticNetwork: network });
  h = await startHarness({ chain: { provider, from: ANVIL_DEV_ADDRESSES[1]! } });
});
afterAll(async () => {
  await h?.close();
  provider?.destroy();
});

it("a stored workflow's transfer is shown as simulated, and nothing is sent", async () => {
  const owner = Wallet.createRandom();
  const token = await signIn(h.engine.url, owner);
  const to = ANVIL_DEV_ADDRESSES[6]!;
  const task = (
    await call(h.engine.url, "POST", "/workflows", token, {
      name: "pay",
      trigger: { id: "trigger", name: "trig", type: "manual", config: {} },
      nodes: [{ id: "pay", name: "pay", type: "ethTransfer", config: { destination: to, amount: "0.5eth" } }],
      edges: [{ id: "e1", source: "trigger", target: "pay" }],
    })
  ).body;
  const balance = async () => BigInt(await rpc<string>(chain().rpcUrl, "eth_getBalance", [to, "latest"]));
  const before = await balance();
  const env = { AVSCTL_PRIVATE_KEY: owner.privateKey, AVSCTL_KEYSTORE_PASSWORD: undefined };
  const r = await runCli(["workflow", "trigger", task.id, "--wait", "--engine", h.engine.url], {
    env,
    cwd: h.dir,
  });
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toContain("  ok   pay (ethTransfer): simulated (nothing sent)");
  expect(await balance()).toBe(before);
});
