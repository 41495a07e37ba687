/**
 * The contracts the trigger tests deploy, compiled here with solc: an event emitter, and an
 * operator list whose getActiveOperatorsDetails() the performer election reads, so a test sets
 * the active operators itself. The trigger runner's tests and the stored-task watcher's tests
 * elect and fire on the same chain surface, so they share one source.
 */

import { createRequire } from "node:module";
import { type Contract, ContractFactory, type Signer } from "ethers";

const SOURCE = `// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;
contract Emitter {
  event Ping(uint256 indexed kind, uint256 value);
  function ping(uint256 kind, uint256 value) external { emit Ping(kind, value); }
  function pingTwice(uint256 kind) external { emit Ping(kind, 1); emit Ping(kind, 2); }
}
contract OperatorList {
  struct Details { address operator; uint256 operatorId; uint256 votingPower; uint256 feeToClaim; }
  Details[] private active;
  function setActive(address[] calldata ops) external {
    delete active;
    for (uint256 i = 0; i < ops.length; i++) active.push(Details(ops[i], i + 1, 100, 0));
  }
  function getActiveOperatorsDetails() external view returns (Details[] memory) { return active; }
}`;

const NAMES = ["Emitter", "OperatorList"] as const;

function compile(): Record<(typeof NAMES)[number], { abi: unknown[]; bytecode: string }> {
  const solc = createRequire(import.meta.url)("solc");
  const out = JSON.parse(
    solc.compile(
      JSON.stringify({
        language: "Solidity",
        sources: { "T.sol": { content: SOURCE } },
        settings: { evmVersion: "cancun", outputSelection: { "*": { "*": ["abi", "evm.bytecode.object"] } } },
      }),
    ),
  );
  const errors = (out.errors ?? []).filter((e: { severity: string }) => e.severity === "error");
  if (errors.length) throw new Error(JSON.stringify(errors));
  const c = out.contracts["T.sol"];
  return Object.fromEntries(
    NAMES.map((name) => [name, { abi: c[name].abi, bytecode: `0x${c[name].evm.bytecode.object}` }]),
  ) as ReturnType<typeof compile>;
}

/** Deploys the emitter, then the operator list (empty until `setActive`), from `deployer`. */
export async function deployTriggerContracts(
  deployer: Signer,
): Promise<{ emitter: Contract; operatorList: Contract }> {
  const built = compile();
  const deploy = async (name: (typeof NAMES)[number]) => {
    const contract = await new ContractFactory(
      built[name].abi as never,
      built[name].bytecode,
      deployer,
    ).deploy();
    await contract.waitForDeployment();
    return contract as Contract;
  };
  const emitter = await deploy("Emitter");
  const operatorList = await deploy("OperatorList");
  return { emitter, operatorList };
}
