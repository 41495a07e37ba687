/**
 * Workflow nodes that send transactions, shared by the tests that record and replay them: a
 * `ping(n)` write to an account without code (a call with data to it succeeds, so no contract
 * needs deploying) and a transfer to another dev account.
 */
import { ANVIL_DEV_ADDRESSES } from "./anvil.js";

export const PING_ABI = ["function ping(uint256 n)"];

/** `w`: writes ping(trig.data.n) to dev account 5. */
export function pingWriteNode() {
  return {
    id: "w",
    name: "w",
    type: "contractWrite",
    config: {
      contractAddress: ANVIL_DEV_ADDRESSES[5],
      contractAbi: PING_ABI,
      methodCalls: [{ methodName: "ping", methodParams: ["{{ trig.data.n }}"] }],
    },
  };
}

/** `t`: sends `amount` to dev account 6. */
export function transferNode(amount: string) {
  return { id: "t", name: "t", type: "ethTransfer", config: { destination: ANVIL_DEV_ADDRESSES[6], amount } };
}
