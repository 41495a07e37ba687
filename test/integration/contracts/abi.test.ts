/**
 * The compiled ABI has docs/protocol.md's selectors, event topics and errors: computed
 * here from the artifacts, compared with the table (full selectors; topics as prefix...suffix).
 */

import { Interface, type InterfaceAbi } from "ethers";
import { describe, expect, it } from "vitest";
import { loadAbi } from "../../../src/chain/artifacts.js";
import { contractInterface, decodeRevert, ROLES, SIGNATURES } from "../../../src/chain/contracts.js";

const ac = contractInterface("AttestationCenter");
const gen1 = contractInterface("AttestationCenterGen1");

const SELECTORS: [string, string][] = [
  [
    "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[]))",
    "0x0c62bf0d",
  ],
  [
    "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))",
    "0x306fba1c",
  ],
  ["setTaskDefinitionMinVotingPower(uint16,uint256)", "0x64ada5d0"],
  ["setTaskDefinitionRestrictedOperators(uint16,uint256[])", "0xc8c9e7ab"],
  ["setTaskDefinitionRestrictedAttesters(uint16,uint256[])", "0x58e75c82"],
  ["setTaskDefinitionMaximumNumberOfAttesters(uint16,uint256)", "0x5fdd0ac7"],
  ["submitTask((string,bytes,address,uint16),bool,bytes,uint256[2],uint256[])", "0x7d5f32bc"],
  ["submitTask((string,bytes,address,uint16),(bool,bytes,uint256[2],uint256[]))", "0xfff768e3"],
  ["submitTask((string,bytes,address,uint16),(bool,uint256[2],uint256[2],uint256[]))", "0x8a7ce8a4"],
  ["numOfTaskDefinitions()", "0x34a7c391"],
];

// [event signature, topic0 prefix, topic0 suffix] (Othentic's events, abbreviated)
const GEN2_EVENTS: [string, string, string][] = [
  ["TaskSubmitted(address,uint32,string,bytes,uint16,uint256[])", "0xaed5b932", "fdb1"],
  ["TaskRejected(address,uint32,string,bytes,uint16,uint256[])", "0x834bcdc4", "595b"],
  [
    "TaskDefinitionCreated(uint16,string,uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256)",
    "0x7eae3686",
    "eab8",
  ],
];
const GEN1_EVENTS: [string, string, string][] = [
  ["TaskSubmitted(address,uint32,string,bytes,uint16)", "0xde1faaa0", "c9fc"],
  [
    "TaskDefinitionCreated(uint16,string,uint256,uint256,uint256,uint256,uint256,uint256,uint256[])",
    "0x4306a9df",
    "3ef1",
  ],
];

const ERRORS: Record<string, string[]> = {
  AttestationCenter: [
    "InvalidPerformerSignature()",
    "MessageAlreadySigned()",
    "InvalidTaskDefinition()",
    "TaskDefinitionNotFound(uint16)",
    "OperatorNotRegistered(address)",
    "InactiveTaskPerformer()",
    "InactiveAggregator()",
    "InvalidRestrictedOperator(uint256,uint256)",
    "InvalidRestrictedAttester(uint256,uint256)",
    "InvalidAttesterSet()",
    "InsufficientVotingPowerForTaskDefinition(uint16,uint256)",
    "InvalidBlockExpiry()",
    "InvalidRestrictedOperatorIndexes()",
    "InvalidRestrictedAttesterIds()",
    "InvalidMaximumNumberOfAttesters()",
  ],
  OBLS: [
    "OperatorDoesNotHaveMinimumVotingPower(uint256)",
    "InsufficientVotingPower()",
    "InvalidOBLSSignature()",
    "InvalidOperatorIndexes()",
    "InactiveOperator(uint256)",
    "InvalidRequiredVotingPower()",
  ],
};

describe("compiled ABI against the contracts of docs/protocol.md", () => {
  it.each(SELECTORS)("%s has selector %s", (signature, selector) => {
    const fragment = ac.getFunction(signature);
    expect(fragment, signature).not.toBeNull();
    expect(fragment!.selector).toBe(selector);
  });

  it.each(GEN2_EVENTS)("gen 2 event %s has topic0 %s...%s", (signature, prefix, suffix) => {
    const topic = ac.getEvent(signature)!.topicHash;
    expect(topic.startsWith(prefix)).toBe(true);
    expect(topic.endsWith(suffix)).toBe(true);
  });

  it("indexes the operator and the task definition id of TaskSubmitted and TaskRejected", () => {
    for (const name of ["TaskSubmitted", "TaskRejected"]) {
      const indexed = ac
        .getEvent(name)!
        .inputs.filter((i) => i.indexed)
        .map((i) => i.name);
      expect(indexed).toEqual(["operator", "taskDefinitionId"]);
    }
  });

  it.each(GEN1_EVENTS)("the gen 1 test contract's %s has topic0 %s...%s", (signature, prefix, suffix) => {
    const topic = gen1.getEvent(signature)!.topicHash;
    expect(topic.startsWith(prefix)).toBe(true);
    expect(topic.endsWith(suffix)).toBe(true);
  });

  it("the gen 1 test contract exposes only the generation 1 surface", () => {
    const selectors = new Set<string>();
    gen1.forEachFunction((f) => {
      selectors.add(f.selector);
    });
    expect(selectors.has("0x0c62bf0d")).toBe(true);
    expect(selectors.has("0xc8c9e7ab")).toBe(true);
    expect(gen1.getFunction("getTaskDefinitionRestrictedOperators(uint16)")).not.toBeNull();
    for (const gen2Only of ["0x306fba1c", "0x58e75c82", "0x5fdd0ac7", "0xfff768e3", "0x8a7ce8a4"]) {
      expect(selectors.has(gen2Only)).toBe(false);
    }
  });

  it("the overload signatures helpers use exist in the ABI", () => {
    for (const signature of Object.values(SIGNATURES)) expect(ac.getFunction(signature)).not.toBeNull();
  });

  it.each(Object.entries(ERRORS))("%s declares the Othentic custom errors", (contract, errors) => {
    const iface = new Interface(loadAbi(contract as "AttestationCenter" | "OBLS") as InterfaceAbi);
    const declared = new Set<string>();
    iface.forEachError((e) => {
      declared.add(e.format("sighash"));
    });
    for (const e of errors) expect(declared, e).toContain(e);
  });

  it("decodes raw revert data by name, with Error(string) and Panic(uint256)", () => {
    const data = ac.encodeErrorResult("TaskDefinitionNotFound", [7]);
    expect(decodeRevert(data)).toMatchObject({
      name: "TaskDefinitionNotFound",
      signature: "TaskDefinitionNotFound(uint16)",
      args: [7n],
      namedArgs: { taskDefinitionId: 7n },
    });
    const obls = contractInterface("OBLS");
    expect(decodeRevert(obls.encodeErrorResult("InactiveOperator", [3]))?.name).toBe("InactiveOperator");
    expect(
      decodeRevert({ info: { error: { data: ac.encodeErrorResult("InvalidAttesterSet", []) } } })?.name,
    ).toBe("InvalidAttesterSet");
    const errorString = new Interface(["function Error(string)"]).encodeFunctionData("Error", ["boom"]);
    expect(decodeRevert(errorString)).toMatchObject({ name: "Error", args: ["boom"] });
    expect(decodeRevert("0x12345678")).toBeUndefined();
    expect(decodeRevert(new Error("no data"))).toBeUndefined();
  });

  it("role ids follow Othentic's bytes4(keccak256(name)) layout", () => {
    expect(ROLES.AVS_GOVERNANCE_MULTISIG).toMatch(/^0x[0-9a-f]{8}0{56}$/);
    expect(ROLES.MESSAGE_HANDLER).not.toBe(ROLES.AVS_GOVERNANCE_MULTISIG);
  });
});
