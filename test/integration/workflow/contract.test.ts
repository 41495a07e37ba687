/**
 * contractRead, contractWrite and ethTransfer nodes against a real anvil, on a contract
 * compiled here with solc and deployed in the test. Simulated writes must leave the chain
 * untouched (same state, same nonce); run-mode writes must change it.
 */

import { createRequire } from "node:module";
import { ContractFactory, type JsonRpcProvider, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRpc } from "../../../src/chain/rpc.js";
import type { WorkflowChain } from "../../../src/workflow/context.js";
import { ANVIL_DEV_ADDRESSES, ANVIL_DEV_PRIVATE_KEYS, rpc, useAnvil } from "../../helpers/anvil.js";
import { doc, edges, run, stepsByName } from "../../unit/workflow/build.js";

const SOURCE = `
// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Store {
  error TooBig(uint256 value, uint256 max);
  uint256 public value;
  mapping(address => uint256) public deposits;
  constructor(uint256 v) { value = v; }
  function get() external view returns (uint256) { return value; }
  function pair(uint256 add) external view returns (uint256 sum, address caller, bool ok) {
    return (value + add, msg.sender, true);
  }
  function set(uint256 v) external returns (uint256 previous) {
    if (v > 1000) revert TooBig(v, 1000);
    previous = value;
    value = v;
  }
  function deposit() external payable { deposits[msg.sender] += msg.value; }
}`;

function compile(): { abi: any[]; bytecode: string } {
  const solc = createRequire(import.meta.url)("solc");
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { "Store.sol": { content: SOURCE } },
        settings: { evmVersion: "cancun", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
      }),
    ),
  );
  const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === "error");
  if (errors.length) throw new Error(JSON.stringify(errors));
  const c = out.contracts["Store.sol"].Store;
  return { abi: c.abi, bytecode: `0x${c.evm.bytecode.object}` };
}

const chain = useAnvil();
let provider: JsonRpcProvider;
let abi: any[];
let store = "";
// the workflow signs with account 1; the test deploys with account 0
const sender = ANVIL_DEV_ADDRESSES[1];
let workflowChain: WorkflowChain;

beforeAll(async () => {
  const compiled = compile();
  abi = compiled.abi;
  ({ provider } = await connectRpc(chain().rpcUrl));
  const deployer = new Wallet(ANVIL_DEV_PRIVATE_KEYS[0], provider);
  const contract = await new ContractFactory(abi, compiled.bytecode, deployer).deploy(42);
  await contract.waitForDeployment();
  store = await contract.getAddress();
  workflowChain = { provider, signer: new Wallet(ANVIL_DEV_PRIVATE_KEYS[1], provider) };
});

afterAll(() => provider?.destroy());

const node = (id: string, type: string, config: Record<string, unknown>) => ({ id, name: id, type, config });
const storeNode = (
  id: string,
  type: "contractRead" | "contractWrite",
  methodCalls: unknown[],
  extra: Record<string, unknown> = {},
) => node(id, type, { contractAddress: "{{ settings.store }}", contractAbi: abi, methodCalls, ...extra });
const settings = () => ({ inputVariables: { settings: { store, add: "8" } } });

async function storedValue(): Promise<bigint> {
  return BigInt(await rpc<string>(chain().rpcUrl, "eth_call", [{ to: store, data: "0x6d4ce63c" }, "latest"]));
}
async function nonceOf(address: string): Promise<number> {
  return Number(BigInt(await rpc<string>(chain().rpcUrl, "eth_getTransactionCount", [address, "latest"])));
}
async function balanceOf(address: string): Promise<bigint> {
  return BigInt(await rpc<string>(chain().rpcUrl, "eth_getBalance", [address, "latest"]));
}

describe("contractRead", () => {
  it("calls view functions with templated parameters and decodes single and named results", async () => {
    const record = await run(
      doc(
        [
          storeNode("read", "contractRead", [
            { methodName: "get", methodParams: [] },
            { methodName: "pair", methodParams: ["{{ settings.add }}"] },
          ]),
          node("use", "customCode", {
            source: "return Number(read.data[0].value) + Number(read.data[1].value.sum)",
          }),
        ],
        edges("trigger->read", "read->use"),
        settings(),
      ),
      { chain: workflowChain },
    );
    expect(record.status).toBe("success");
    const steps = stepsByName(record);
    expect(steps.read!.output).toEqual([
      { methodName: "get", value: "42" },
      {
        methodName: "pair",
        value: { sum: "50", caller: "0x0000000000000000000000000000000000000000", ok: true },
      },
    ]);
    expect(steps.use!.output).toBe(92);
  });

  it("decodes a revert by the contract's custom error", async () => {
    const record = await run(
      doc(
        [storeNode("read", "contractRead", [{ methodName: "set", methodParams: ["5000"] }])],
        edges("trigger->read"),
        settings(),
      ),
      {
        chain: workflowChain,
      },
    );
    expect(stepsByName(record).read!.error).toMatch(/reverted: TooBig\(5000, 1000\)/);
  });

  it("says so when there is no contract at the address, or no chain at all", async () => {
    const empty = await run(
      doc(
        [
          node("read", "contractRead", {
            contractAddress: ANVIL_DEV_ADDRESSES[5],
            contractAbi: abi,
            methodCalls: [{ methodName: "get" }],
          }),
        ],
        edges("trigger->read"),
      ),
      { chain: workflowChain },
    );
    expect(stepsByName(empty).read!.error).toMatch(/returned no data/);
    const none = await run(
      doc([storeNode("read", "contractRead", [{ methodName: "get" }])], edges("trigger->read"), settings()),
    );
    expect(stepsByName(none).read!.error).toMatch(/no chain to talk to/);
  });

  it("a loop can read once per item", async () => {
    const record = await run(
      doc(
        [
          node("each", "loop", {
            inputVariable: "[1, 2, 3]",
            iterVar: "n",
            executionMode: "parallel",
            runner: {
              type: "contractRead",
              config: {
                contractAddress: "{{ settings.store }}",
                contractAbi: abi,
                methodCalls: [{ methodName: "pair", methodParams: ["{{ n }}"] }],
              },
            },
          }),
        ],
        edges("trigger->each"),
        settings(),
      ),
      { chain: workflowChain },
    );
    expect(
      (stepsByName(record).each!.output as Array<Array<{ value: { sum: string } }>>).map(
        (r) => r[0]!.value.sum,
      ),
    ).toEqual(["43", "44", "45"]);
  });
});

describe("contractWrite and ethTransfer", () => {
  it("simulate: eth_call and an estimate, nothing sent (state and nonce unchanged)", async () => {
    const nonce = await nonceOf(sender);
    const before = await storedValue();
    const record = await run(
      doc(
        [storeNode("write", "contractWrite", [{ methodName: "set", methodParams: ["7"] }])],
        edges("trigger->write"),
        settings(),
      ),
      { mode: "simulate", chain: workflowChain },
    );
    expect(record.status).toBe("success");
    const [result] = stepsByName(record).write!.output as Array<Record<string, unknown>>;
    expect(result).toMatchObject({ methodName: "set", simulated: true, value: before.toString() });
    expect(BigInt(result!.gasEstimate as string)).toBeGreaterThan(21_000n);
    expect(await storedValue()).toBe(before);
    expect(await nonceOf(sender)).toBe(nonce);
  });

  it("simulate: a write that would revert fails its step with the decoded error", async () => {
    const record = await run(
      doc(
        [storeNode("write", "contractWrite", [{ methodName: "set", methodParams: ["{{ 2000 + 1 }}"] }])],
        edges("trigger->write"),
        settings(),
      ),
      { mode: "simulate", chain: workflowChain },
    );
    expect(record.status).toBe("failed");
    expect(stepsByName(record).write!.error).toMatch(/TooBig\(2001, 1000\)/);
  });

  it("run: the write is sent and mined; value is sent with payable calls", async () => {
    const record = await run(
      doc(
        [
          storeNode("write", "contractWrite", [
            { methodName: "set", methodParams: ["{{ trig.data.n + 100 }}"] },
          ]),
          storeNode("pay", "contractWrite", [{ methodName: "deposit", methodParams: [] }], {
            value: "0.25eth",
          }),
        ],
        edges("trigger->write", "write->pay"),
        settings(),
      ),
      { mode: "run", chain: workflowChain },
    );
    expect(record.status).toBe("success");
    const [sent] = stepsByName(record).write!.output as Array<Record<string, unknown>>;
    expect(sent).toMatchObject({ methodName: "set", status: "success" });
    expect(sent!.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await storedValue()).toBe(107n);
    const read = await run(
      doc(
        [storeNode("r", "contractRead", [{ methodName: "deposits", methodParams: [sender] }])],
        edges("trigger->r"),
        settings(),
      ),
      {
        chain: workflowChain,
      },
    );
    expect((stepsByName(read).r!.output as Array<{ value: string }>)[0]!.value).toBe(
      250000000000000000n.toString(),
    );
  });

  it("run: a write that reverts is caught before sending and fails the step", async () => {
    const nonce = await nonceOf(sender);
    const record = await run(
      doc(
        [storeNode("write", "contractWrite", [{ methodName: "set", methodParams: ["5000"] }])],
        edges("trigger->write"),
        settings(),
      ),
      { mode: "run", chain: workflowChain },
    );
    expect(stepsByName(record).write!.error).toMatch(/TooBig\(5000, 1000\)/);
    expect(await nonceOf(sender)).toBe(nonce);
  });

  it("ethTransfer: simulated moves nothing, run moves the amount", async () => {
    const to = ANVIL_DEV_ADDRESSES[7];
    const raw = doc(
      [node("pay", "ethTransfer", { destination: "{{ to }}", amount: "1500000000000000000" })],
      edges("trigger->pay"),
      {
        inputVariables: { to },
      },
    );
    const before = await balanceOf(to);
    const simulated = await run(raw, { mode: "simulate", chain: workflowChain });
    expect(stepsByName(simulated).pay!.output).toMatchObject({
      destination: to,
      amount: "1500000000000000000",
      simulated: true,
      gasEstimate: "21000",
    });
    expect(await balanceOf(to)).toBe(before);
    const sent = await run(raw, { mode: "run", chain: workflowChain });
    expect(sent.status).toBe("success");
    expect(await balanceOf(to)).toBe(before + 1_500_000_000_000_000_000n);
  });

  it("run without a signer refuses to send", async () => {
    const record = await run(
      doc(
        [node("pay", "ethTransfer", { destination: ANVIL_DEV_ADDRESSES[8], amount: "1" })],
        edges("trigger->pay"),
      ),
      {
        mode: "run",
        chain: { provider },
      },
    );
    expect(stepsByName(record).pay!.error).toMatch(/no signer/);
  });
});
