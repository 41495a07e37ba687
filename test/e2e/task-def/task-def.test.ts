/**
 * `avsctl task-def` end to end: the built CLI against our AttestationCenter (generation 2) and
 * the gen-1-only test contract, deployed on one real anvil whose chain id is the devnet L2's
 * (so the anvil keys are accepted). Every value is read back from the chain with ethers and the
 * compiled artifacts' ABI; every refused input is checked to have sent nothing.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { getAddress, type JsonRpcProvider, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { G2_GENERATOR } from "../../../src/crypto/mcl.js";
import { rpc, useAnvil } from "../../helpers/anvil.js";
import type { LooseContract } from "../../helpers/contract.js";
import {
  artifactContract,
  avsctl,
  chainMark,
  closedPort,
  createdEvent,
  DEPLOYER,
  DEPLOYER_KEY,
  deployAttestationCenter,
  deployGen1AttestationCenter,
  ETH,
  expectError,
  expectOk,
  NEVER,
  OUTSIDER,
  OUTSIDER_KEY,
  providerFor,
  SELECTOR,
  useProjectDir,
} from "./fixture.js";

const chain = useAnvil({ chainId: 31338 });
const project = useProjectDir("task-def");

const GEN2_CREATE =
  "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[],uint256))";
const GEN1_CREATE =
  "createNewTaskDefinition(string,(uint256,uint256,uint256,uint256,uint256,uint256,uint256[]))";

const run = (args: string[], env?: Record<string, string | undefined>) =>
  avsctl(args, { cwd: project(), env });

/** Flips the case of the first letter of a checksummed address: same address, wrong EIP-55. */
function badChecksum(address: string): string {
  const i = address.slice(2).search(/[a-fA-F]/) + 2;
  const c = address[i]!;
  const flipped = c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase();
  return address.slice(0, i) + flipped + address.slice(i + 1);
}

const uints = (values: readonly bigint[]) => values.map(String);

describe("generation 2: our AttestationCenter", () => {
  let ac: string;
  let provider: JsonRpcProvider;
  let contract: LooseContract;
  const target = () => ["--rpc-url", chain().rpcUrl, "--attestation-center", ac];
  const signed = () => [...target(), "--private-key", DEPLOYER_KEY];

  beforeAll(async () => {
    ac = await deployAttestationCenter(chain());
    provider = providerFor(chain());
    contract = artifactContract("AttestationCenter", ac, provider);
  });
  afterAll(() => provider?.destroy());

  let expiry: bigint;
  const firstFlags = () => [
    "--name",
    "price-feed",
    "--block-expiry",
    expiry.toString(),
    "--reward-attesters",
    "0.1eth",
    "--reward-performer",
    "2500000000000000",
    "--reward-aggregator",
    "5gwei",
    "--dispute-period",
    "7",
    "--min-voting-power",
    "1000",
    "--restricted-operators",
    "2,5,9",
    "--max-attesters",
    "2",
  ];

  it("create returns id 1 then 2, and the chain holds exactly what the flags said", async () => {
    expiry = BigInt(await provider.getBlockNumber()) + 1000n;
    const first = expectOk(await run(["task-def", "create", ...firstFlags(), ...signed()]));
    expect(first.taskDefinitionId).toBe(1);
    expect(first.name).toBe("price-feed");
    expect(first.generation).toBe("gen2");
    expect(first.txHash).toMatch(/^0x[0-9a-f]{64}$/);
    expect(first.transactions).toEqual([
      { method: GEN2_CREATE, txHash: first.txHash, gasUsed: expect.any(String) },
    ]);
    expect(BigInt(first.transactions[0].gasUsed)).toBeGreaterThan(21_000n);
    expect(first.params).toEqual({
      name: "price-feed",
      blockExpiry: expiry.toString(),
      baseRewardFeeForAttesters: (ETH / 10n).toString(),
      baseRewardFeeForPerformer: "2500000000000000",
      baseRewardFeeForAggregator: "5000000000",
      disputePeriodBlocks: "7",
      minimumVotingPower: "1000",
      restrictedOperatorIndexes: ["2", "5", "9"],
      maximumNumberOfAttesters: "2",
    });

    // the transaction itself: the deployer (governance) called the gen-2 createNewTaskDefinition
    const tx = await provider.getTransaction(first.txHash);
    expect(tx!.from).toBe(DEPLOYER);
    expect(getAddress(tx!.to!)).toBe(ac);
    expect(tx!.data.startsWith(SELECTOR.createGen2)).toBe(true);

    // values with a view, read with the artifact's ABI
    expect(await contract.numOfTaskDefinitions()).toBe(1n);
    expect(await contract.getTaskDefinitionMinimumVotingPower(1)).toBe(1000n);
    expect(uints(await contract.getTaskDefinitionRestrictedAttesters(1))).toEqual(["2", "5", "9"]);
    expect(await contract.getTaskDefinitionMaximumNumberOfAttesters(1)).toBe(2n);
    // values without a view: the contract's own event
    const event = await createdEvent(contract, first.txHash);
    expect(event.taskDefinitionId).toBe(1n);
    expect(event.name).toBe("price-feed");
    expect(event.blockExpiry).toBe(expiry);
    expect(event.baseRewardFeeForAttesters).toBe(ETH / 10n);
    expect(event.baseRewardFeeForPerformer).toBe(2_500_000_000_000_000n);
    expect(event.baseRewardFeeForAggregator).toBe(5_000_000_000n);
    expect(event.disputePeriodBlocks).toBe(7n);
    expect(event.minimumVotingPower).toBe(1000n);
    expect(uints(event.restrictedAttesterIds as bigint[])).toEqual(["2", "5", "9"]);
    expect(event.maximumNumberOfAttesters).toBe(2n);

    const second = expectOk(await run(["task-def", "create", "--name", "second", ...signed()]));
    expect(second.taskDefinitionId).toBe(2);
    expect(await contract.numOfTaskDefinitions()).toBe(2n);
    const event2 = await createdEvent(contract, second.txHash);
    expect(event2.blockExpiry.toString()).toBe(NEVER);
    expect(await contract.getTaskDefinitionMinimumVotingPower(2)).toBe(0n);
    expect(await contract.getTaskDefinitionRestrictedAttesters(2)).toEqual([]);
  });

  it("list and show report what the chain holds", async () => {
    const list = expectOk(await run(["task-def", "list", ...target()]));
    expect(list.generation).toBe("gen2");
    expect(list.chainId).toBe(31338);
    expect(list.taskDefinitions).toEqual([
      {
        taskDefinitionId: 1,
        name: "price-feed",
        blockExpiry: expiry.toString(),
        baseRewardFeeForAttesters: "100000000000000000",
        baseRewardFeeForPerformer: "2500000000000000",
        baseRewardFeeForAggregator: "5000000000",
        disputePeriodBlocks: "7",
        minimumVotingPower: "1000",
        restrictedOperatorIndexes: ["2", "5", "9"],
        maximumNumberOfAttesters: "2",
      },
      {
        taskDefinitionId: 2,
        name: "second",
        blockExpiry: NEVER,
        baseRewardFeeForAttesters: "0",
        baseRewardFeeForPerformer: "0",
        baseRewardFeeForAggregator: "0",
        disputePeriodBlocks: "0",
        minimumVotingPower: "0",
        restrictedOperatorIndexes: [],
        maximumNumberOfAttesters: "0",
      },
    ]);
    const show = expectOk(await run(["task-def", "show", "1", ...target()]));
    const { generation, ...def } = show;
    expect(generation).toBe("gen2");
    expect(def).toEqual(list.taskDefinitions[0]);

    expectError(await run(["task-def", "show", "99", ...target()]), 2, "TASK_DEF_NOT_FOUND");

    const human = await avsctl(["task-def", "list", ...target()], { cwd: project(), json: false });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/price-feed/);
    expect(human.stdout).toMatch(/generation 2/);
  });

  it("the setters change the chain, and list shows the new values", async () => {
    const mark = await chainMark(chain());
    const vp = expectOk(await run(["task-def", "set-min-voting-power", "2", "0.5eth", ...signed()]));
    expect(vp.method).toBe("setTaskDefinitionMinVotingPower(uint16,uint256)");
    expect((await provider.getTransaction(vp.txHash))!.data.startsWith(SELECTOR.setMinVotingPower)).toBe(
      true,
    );
    expect(await contract.getTaskDefinitionMinimumVotingPower(2)).toBe(ETH / 2n);

    const restricted = expectOk(
      await run(["task-def", "set-restricted-operators", "2", "4", "8", "6", ...signed()]),
    );
    expect(restricted.method).toBe("setTaskDefinitionRestrictedAttesters(uint16,uint256[])");
    expect(restricted.warnings.join(" ")).toMatch(/sorted/);
    expect(uints(await contract.getTaskDefinitionRestrictedAttesters(2))).toEqual(["4", "6", "8"]);

    // the gen-2 alias, with the ids as one comma-separated argument
    expectOk(await run(["task-def", "set-restricted-attesters", "2", "4,6,8,10", ...signed()]));
    expect(uints(await contract.getTaskDefinitionRestrictedAttesters(2))).toEqual(["4", "6", "8", "10"]);

    const max = expectOk(await run(["task-def", "set-max-attesters", "2", "3", ...signed()]));
    expect((await provider.getTransaction(max.txHash))!.data.startsWith(SELECTOR.setMaxAttesters)).toBe(true);
    expect(await contract.getTaskDefinitionMaximumNumberOfAttesters(2)).toBe(3n);
    expect(max.taskDefinition.maximumNumberOfAttesters).toBe("3");

    expect((await chainMark(chain())).nonce).toBe(mark.nonce + 4);
    const shown = expectOk(await run(["task-def", "show", "2", ...target()]));
    expect(shown.minimumVotingPower).toBe((ETH / 2n).toString());
    expect(shown.restrictedOperatorIndexes).toEqual(["4", "6", "8", "10"]);
    expect(shown.maximumNumberOfAttesters).toBe("3");
  });

  it("sorts non-ascending restricted ids and says so (JSON warning, human note on stderr)", async () => {
    const json = expectOk(
      await run(["task-def", "create", "--name", "sorted", "--restricted-operators", "9,3,5", ...signed()]),
    );
    expect(json.warnings.join(" ")).toMatch(/sorted ascending.*3,5,9/);
    // no operator is registered on this AttestationCenter: such a definition could never be served
    expect(json.warnings.join(" ")).toMatch(
      /operator id\(s\) 3, 5, 9 are not active on this AttestationCenter/,
    );
    expect(json.params.restrictedOperatorIndexes).toEqual(["3", "5", "9"]);
    expect(uints(await contract.getTaskDefinitionRestrictedAttesters(json.taskDefinitionId))).toEqual([
      "3",
      "5",
      "9",
    ]);

    const human = await avsctl(
      ["task-def", "create", "--name", "sorted-human", "--restricted-operators", "7,1", ...signed()],
      { cwd: project(), json: false },
    );
    expect(human.code, human.stderr).toBe(0);
    expect(human.stderr).toMatch(/sorted ascending/);
    expect(human.stdout).toMatch(/created task definition \d+ "sorted-human"/);
  });

  describe("refused input: exit 2, nothing sent", () => {
    const cases: Array<[string, () => string[], string]> = [
      [
        "an address that is not one",
        () => [
          "task-def",
          "create",
          "--name",
          "x",
          "--rpc-url",
          chain().rpcUrl,
          "--attestation-center",
          "0x12345",
          "--private-key",
          DEPLOYER_KEY,
        ],
        "INVALID_ADDRESS",
      ],
      [
        "a wrong EIP-55 checksum",
        () => [
          "task-def",
          "create",
          "--name",
          "x",
          "--rpc-url",
          chain().rpcUrl,
          "--attestation-center",
          badChecksum(ac),
          "--private-key",
          DEPLOYER_KEY,
        ],
        "INVALID_ADDRESS",
      ],
      [
        "an address without a contract",
        () => [
          "task-def",
          "create",
          "--name",
          "x",
          "--rpc-url",
          chain().rpcUrl,
          "--attestation-center",
          Wallet.createRandom().address,
          "--private-key",
          DEPLOYER_KEY,
        ],
        "INVALID_ADDRESS",
      ],
      [
        "id 10001 (internal) in set-min-voting-power",
        () => ["task-def", "set-min-voting-power", "10001", "5", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "id 10002 in set-restricted-operators",
        () => ["task-def", "set-restricted-operators", "10002", "1", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "id 65535 in set-max-attesters",
        () => ["task-def", "set-max-attesters", "65535", "1", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "an id beyond uint16",
        () => ["task-def", "set-min-voting-power", "70000", "5", ...signed()],
        "INVALID_ARGUMENT",
      ],
      ["id 0", () => ["task-def", "set-min-voting-power", "0", "5", ...signed()], "INVALID_ARGUMENT"],
      [
        "duplicate restricted ids in create",
        () => ["task-def", "create", "--name", "x", "--restricted-operators", "1,2,1", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "duplicate restricted ids in the setter",
        () => ["task-def", "set-restricted-operators", "1", "3", "3", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "an expiry in the past",
        () => ["task-def", "create", "--name", "x", "--block-expiry", "1", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "more max attesters than restricted ids",
        () => [
          "task-def",
          "create",
          "--name",
          "x",
          "--restricted-operators",
          "1,2",
          "--max-attesters",
          "3",
          ...signed(),
        ],
        "INVALID_ARGUMENT",
      ],
      [
        "an unknown unit",
        () => ["task-def", "create", "--name", "x", "--reward-attesters", "1btc", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "a fraction of a wei",
        () => ["task-def", "create", "--name", "x", "--reward-performer", "0.5", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "a bad --abi",
        () => ["task-def", "create", "--name", "x", "--abi", "gen3", ...signed()],
        "INVALID_ARGUMENT",
      ],
      ["a missing --name", () => ["task-def", "create", ...signed()], "MISSING_ARGUMENT"],
      [
        "a non-numeric dispute period",
        () => ["task-def", "create", "--name", "x", "--dispute-period", "ten", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "a negative dispute period",
        () => ["task-def", "create", "--name", "x", "--dispute-period", "-5", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "restricted operator id 0",
        () => ["task-def", "create", "--name", "x", "--restricted-operators", "0,1", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "an unknown option",
        () => ["task-def", "create", "--name", "x", "--rewards", "1", ...signed()],
        "UNKNOWN_OPTION",
      ],
      // definition 1 restricts attesters to 2,5,9 with at most 2 of them
      [
        "a maximum above the definition's restricted count",
        () => ["task-def", "set-max-attesters", "1", "4", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "fewer restricted ids than the definition's maximum",
        () => ["task-def", "set-restricted-operators", "1", "7", ...signed()],
        "INVALID_ARGUMENT",
      ],
      [
        "a malformed --rpc-url",
        () => [
          "task-def",
          "create",
          "--name",
          "x",
          "--rpc-url",
          "127.0.0.1:8545",
          "--attestation-center",
          ac,
          "--private-key",
          DEPLOYER_KEY,
        ],
        "INVALID_ARGUMENT",
      ],
      [
        "a private key that is not one",
        () => ["task-def", "create", "--name", "x", ...target(), "--private-key", "0x1234"],
        "INVALID_KEY",
      ],
    ];
    // nothing in here may send, so the cases can share the chain at the same time
    it.concurrent.each(cases)("%s", async (_what, args, code) => {
      const before = await chainMark(chain());
      const r = await run(args());
      const error = expectError(r, 2, code);
      expect(error.message.length).toBeGreaterThan(0);
      expect(await chainMark(chain())).toEqual(before);
    });
  });

  it("a value the contract refuses is caught by the gas estimate, decoded, and not sent", async () => {
    // our contract packs rewards into uint80: 2,000,000 ETH does not fit
    const before = await chainMark(chain());
    const r = await run([
      "task-def",
      "create",
      "--name",
      "too-rich",
      "--reward-attesters",
      "2000000eth",
      ...signed(),
    ]);
    const error = expectError(r, 1, "TX_REVERTED");
    expect(error.details.revert.name).toBe("ValueOutOfRange");
    expect(await chainMark(chain())).toEqual(before);
  });

  it("a non-governance key exits 1 with the decoded AccessControlUnauthorizedAccount, nothing sent", async () => {
    const before = await chainMark(chain(), OUTSIDER);
    const create = await run([
      "task-def",
      "create",
      "--name",
      "intruder",
      ...target(),
      "--private-key",
      OUTSIDER_KEY,
    ]);
    const error = expectError(create, 1, "TX_REVERTED");
    expect(error.message).toMatch(/AccessControlUnauthorizedAccount/);
    expect(error.details.revert.name).toBe("AccessControlUnauthorizedAccount");
    expect(getAddress(error.details.revert.args.account)).toBe(OUTSIDER);

    const setter = await run([
      "task-def",
      "set-min-voting-power",
      "1",
      "1",
      ...target(),
      "--private-key",
      OUTSIDER_KEY,
    ]);
    expect(expectError(setter, 1, "TX_REVERTED").details.revert.name).toBe(
      "AccessControlUnauthorizedAccount",
    );
    expect(await chainMark(chain(), OUTSIDER)).toEqual(before);
    expect(await contract.getTaskDefinitionMinimumVotingPower(1)).toBe(1000n);
  });

  it("--dry-run prints method, named arguments and calldata, needs no signer, and sends nothing", async () => {
    const before = await chainMark(chain());
    const r = expectOk(await run(["task-def", "create", ...firstFlags(), "--dry-run", ...target()]));
    expect(r.dryRun).toBe(true);
    expect(r.generation).toBe("gen2");
    expect(r.calls).toHaveLength(1);
    const call = r.calls[0];
    expect(call.method).toBe(GEN2_CREATE);
    expect(getAddress(call.to)).toBe(ac);
    expect(call.data.startsWith(SELECTOR.createGen2)).toBe(true);
    expect(call.args).toEqual({
      name: "price-feed",
      params: {
        blockExpiry: expiry.toString(),
        baseRewardFeeForAttesters: "100000000000000000",
        baseRewardFeeForPerformer: "2500000000000000",
        baseRewardFeeForAggregator: "5000000000",
        disputePeriodBlocks: "7",
        minimumVotingPower: "1000",
        restrictedAttesterIds: ["2", "5", "9"],
        maximumNumberOfAttesters: "2",
      },
    });
    // the calldata says the same as the decoded arguments (decoded here with the artifact's ABI)
    const [name, params] = contract.interface.decodeFunctionData(GEN2_CREATE, call.data);
    expect(name).toBe("price-feed");
    expect(params.toArray(true).map((v: unknown) => (Array.isArray(v) ? uints(v) : String(v)))).toEqual([
      expiry.toString(),
      "100000000000000000",
      "2500000000000000",
      "5000000000",
      "7",
      "1000",
      ["2", "5", "9"],
      "2",
    ]);

    const setters: Array<[string[], string]> = [
      [["set-min-voting-power", "1", "5"], SELECTOR.setMinVotingPower],
      [["set-restricted-operators", "1", "3", "1"], SELECTOR.setRestrictedAttesters],
      [["set-max-attesters", "1", "1"], SELECTOR.setMaxAttesters],
    ];
    for (const [args, selector] of setters) {
      const s = expectOk(await run(["task-def", ...args, "--dry-run", ...target()]));
      expect(s.calls[0].data.startsWith(selector), args.join(" ")).toBe(true);
    }
    const human = await avsctl(["task-def", "set-min-voting-power", "1", "5", "--dry-run", ...target()], {
      cwd: project(),
      json: false,
    });
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/nothing sent/);
    expect(human.stdout).toMatch(/setTaskDefinitionMinVotingPower/);
    expect(human.stdout).toMatch(new RegExp(`calldata: ${SELECTOR.setMinVotingPower}`));

    // --abi gen1 forces the generation 1 encoding, which our contract also accepts
    const forced = expectOk(
      await run(["task-def", "create", "--name", "g1", "--abi", "gen1", "--dry-run", ...target()]),
    );
    expect(forced.generation).toBe("gen1");
    expect(forced.calls[0].data.startsWith(SELECTOR.createGen1)).toBe(true);

    expect(await chainMark(chain())).toEqual(before);
  });

  it("takes the target and signer from AVSCTL_RPC_URL, AVSCTL_ATTESTATION_CENTER and AVSCTL_PRIVATE_KEY", async () => {
    const before = Number(await contract.numOfTaskDefinitions());
    const r = expectOk(
      await run(["task-def", "create", "--name", "from-env"], {
        AVSCTL_RPC_URL: chain().rpcUrl,
        AVSCTL_ATTESTATION_CENTER: ac,
        AVSCTL_PRIVATE_KEY: DEPLOYER_KEY,
      }),
    );
    expect(r.taskDefinitionId).toBe(before + 1);
    expect(await contract.numOfTaskDefinitions()).toBe(BigInt(before + 1));
  });

  it("picks the entry of Othentic's multi-L2 ATTESTATION_CENTER_ADDRESS that matches the RPC's chain id", async () => {
    const elsewhere = Wallet.createRandom().address;
    const env = {
      L2_RPC: chain().rpcUrl,
      ATTESTATION_CENTER_ADDRESS: `80002@${elsewhere},31338@${ac},84532@${elsewhere}`,
      PRIVATE_KEY: DEPLOYER_KEY,
    };
    const before = Number(await contract.numOfTaskDefinitions());
    const r = expectOk(await run(["task-def", "create", "--name", "multi-l2"], env));
    expect(r.taskDefinitionId).toBe(before + 1);
    const list = expectOk(await run(["task-def", "list"], env));
    expect(getAddress(list.attestationCenter)).toBe(ac);
    expect(list.taskDefinitions.at(-1).name).toBe("multi-l2");

    // a --chain-id the endpoint is not, or a list without this chain: exit 2, nothing sent
    const mark = await chainMark(chain());
    expectError(await run(["task-def", "list", "--chain-id", "80002"], env), 2, "INVALID_ARGUMENT");
    const missing = { ...env, ATTESTATION_CENTER_ADDRESS: `80002@${elsewhere}` };
    expectError(await run(["task-def", "create", "--name", "x"], missing), 2, "INVALID_ARGUMENT");
    expect(await chainMark(chain())).toEqual(mark);
  });

  it("an unreachable RPC exits 4 with RPC_UNREACHABLE (no retry loop)", async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    for (const args of [
      ["task-def", "list", "--rpc-url", url, "--attestation-center", ac],
      [
        "task-def",
        "create",
        "--name",
        "x",
        "--rpc-url",
        url,
        "--attestation-center",
        ac,
        "--private-key",
        DEPLOYER_KEY,
      ],
    ]) {
      const error = expectError(await run(args), 4, "RPC_UNREACHABLE");
      expect(error.details.rpcUrl).toBe(url);
    }
  });

  describe("apply", () => {
    const dir = () => path.join(project(), "apply-project");
    const writeConfig = (minVotingPowerA: string) =>
      writeFileSync(
        path.join(dir(), "avsctl.config.json"),
        JSON.stringify(
          {
            network: { rpcUrl: chain().rpcUrl, attestationCenter: ac },
            taskDefinitions: [
              {
                name: "apply-a",
                rewardAttesters: "0.01eth",
                disputePeriod: 3,
                minVotingPower: minVotingPowerA,
                restrictedOperators: [3, 1],
                maxAttesters: 1,
              },
              { name: "apply-b" },
              // exists already, with another minimum voting power: fixed by the setter
              { name: "apply-existing", minVotingPower: "2" },
            ],
          },
          null,
          2,
        ),
      );
    const apply = () =>
      avsctl(["task-def", "apply"], { cwd: dir(), env: { AVSCTL_PRIVATE_KEY: DEPLOYER_KEY } });

    beforeAll(() => mkdirSync(dir(), { recursive: true }));

    it("creates the missing definitions and fixes setters; a second run plans nothing and sends nothing", async () => {
      const existing = expectOk(
        await run(["task-def", "create", "--name", "apply-existing", "--min-voting-power", "1", ...signed()]),
      );
      writeConfig("10");

      const first = expectOk(await apply());
      expect(first.plan).toEqual([
        { action: "create", name: "apply-a" },
        { action: "create", name: "apply-b" },
        {
          action: "setMinVotingPower",
          name: "apply-existing",
          taskDefinitionId: existing.taskDefinitionId,
          from: "1",
          to: "2",
        },
      ]);
      expect(first.applied).toHaveLength(3);
      // the documented keys, the same on every run (a run sending nothing added dryRun and desired)
      const keys = ["applied", "plan", "warnings"];
      expect(Object.keys(first).sort()).toEqual(keys);
      // apply-a's restricted operators are no operators of this AttestationCenter, so none can attest
      expect(first.warnings).toEqual([
        expect.stringMatching(/^taskDefinitions\[0\] \(apply-a\): operator id\(s\) 1, 3 are not active/),
        expect.stringMatching(/^taskDefinitions\[0\] \(apply-a\): no restricted operator can attest/),
      ]);
      for (const step of first.applied) expect(step.txHash).toMatch(/^0x[0-9a-f]{64}$/);
      const idA = first.applied[0].taskDefinitionId;
      const idB = first.applied[1].taskDefinitionId;
      expect(idB).toBe(idA + 1);
      const eventA = await createdEvent(contract, first.applied[0].txHash);
      expect(eventA.baseRewardFeeForAttesters).toBe(ETH / 100n);
      expect(eventA.disputePeriodBlocks).toBe(3n);
      expect(await contract.getTaskDefinitionMinimumVotingPower(idA)).toBe(10n);
      expect(uints(await contract.getTaskDefinitionRestrictedAttesters(idA))).toEqual(["1", "3"]);
      expect(await contract.getTaskDefinitionMaximumNumberOfAttesters(idA)).toBe(1n);
      expect(await contract.getTaskDefinitionMinimumVotingPower(existing.taskDefinitionId)).toBe(2n);

      const before = await chainMark(chain());
      const second = expectOk(await apply());
      expect(second.plan).toEqual([]);
      expect(second.applied).toEqual([]);
      expect(second.warnings).toEqual([]); // nothing restricted is being set
      expect(Object.keys(second).sort()).toEqual(keys);
      expect(await chainMark(chain())).toEqual(before);

      // a changed minVotingPower in the config is fixed by the setter, and only that
      writeConfig("25");
      const third = expectOk(await apply());
      expect(third.plan).toEqual([
        { action: "setMinVotingPower", name: "apply-a", taskDefinitionId: idA, from: "10", to: "25" },
      ]);
      expect(third.applied).toHaveLength(1);
      expect(await contract.getTaskDefinitionMinimumVotingPower(idA)).toBe(25n);
      expect((await chainMark(chain())).nonce).toBe(before.nonce + 1);

      const names = expectOk(await run(["task-def", "list", ...target()])).taskDefinitions.map(
        (d: { name: string }) => d.name,
      );
      expect(names.filter((n: string) => n.startsWith("apply-")).sort()).toEqual([
        "apply-a",
        "apply-b",
        "apply-existing",
      ]);
    });

    it("--dry-run shows the plan and sends nothing", async () => {
      writeConfig("26");
      const before = await chainMark(chain());
      const r = expectOk(
        await avsctl(["task-def", "apply", "--dry-run"], {
          cwd: dir(),
          env: { AVSCTL_PRIVATE_KEY: DEPLOYER_KEY },
        }),
      );
      expect(r.plan.map((p: { action: string }) => p.action)).toEqual(["setMinVotingPower"]);
      expect(r.applied).toEqual([]);
      expect(Object.keys(r).sort()).toEqual(["applied", "plan", "warnings"]);
      expect(await chainMark(chain())).toEqual(before);
    });

    it("keeps an applied config valid after the chain passes a definition's expiry block", async () => {
      const other = path.join(project(), "apply-expiry");
      mkdirSync(other, { recursive: true });
      const expiresAt = (await provider.getBlockNumber()) + 3;
      writeFileSync(
        path.join(other, "avsctl.config.json"),
        JSON.stringify({
          network: { rpcUrl: chain().rpcUrl, attestationCenter: ac },
          taskDefinitions: [{ name: "apply-expiring", blockExpiry: String(expiresAt) }],
        }),
      );
      const env = { AVSCTL_PRIVATE_KEY: DEPLOYER_KEY };
      const first = expectOk(await avsctl(["task-def", "apply"], { cwd: other, env }));
      expect(first.plan).toEqual([{ action: "create", name: "apply-expiring" }]);
      await rpc(chain().rpcUrl, "anvil_mine", ["0x5"]);
      const before = await chainMark(chain());
      const again = expectOk(await avsctl(["task-def", "apply"], { cwd: other, env }));
      expect(again.plan).toEqual([]);
      expect(await chainMark(chain())).toEqual(before);

      // a definition still to be created with a past expiry is refused, naming the config entry
      writeFileSync(
        path.join(other, "avsctl.config.json"),
        JSON.stringify({
          network: { rpcUrl: chain().rpcUrl, attestationCenter: ac },
          taskDefinitions: [
            { name: "apply-expiring", blockExpiry: String(expiresAt) },
            { name: "apply-past", blockExpiry: "1" },
          ],
        }),
      );
      const refused = await avsctl(["task-def", "apply"], { cwd: other, env });
      expect(expectError(refused, 2, "INVALID_ARGUMENT").message).toMatch(
        /taskDefinitions\[1\] \(apply-past\)/,
      );
      expect(await chainMark(chain())).toEqual(before);
    });

    it("orders the restricted-ids and max-attesters setters so that neither reverts", async () => {
      // the contract checks max <= restricted count on each setter: shrinking both must lower
      // the maximum first, growing both must widen the restricted set first
      const shrink = expectOk(
        await run([
          "task-def",
          "create",
          "--name",
          "apply-shrink",
          "--restricted-operators",
          "1,2,3",
          "--max-attesters",
          "3",
          ...signed(),
        ]),
      ).taskDefinitionId;
      const grow = expectOk(
        await run([
          "task-def",
          "create",
          "--name",
          "apply-grow",
          "--restricted-operators",
          "1",
          "--max-attesters",
          "1",
          ...signed(),
        ]),
      ).taskDefinitionId;
      const other = path.join(project(), "apply-order");
      mkdirSync(other, { recursive: true });
      writeFileSync(
        path.join(other, "avsctl.config.json"),
        JSON.stringify({
          network: { rpcUrl: chain().rpcUrl, attestationCenter: ac },
          taskDefinitions: [
            { name: "apply-shrink", restrictedOperators: [2], maxAttesters: 1 },
            { name: "apply-grow", restrictedOperators: [1, 2, 3, 4], maxAttesters: 4 },
          ],
        }),
      );
      const env = { AVSCTL_PRIVATE_KEY: DEPLOYER_KEY };
      const r = expectOk(await avsctl(["task-def", "apply"], { cwd: other, env }));
      expect(r.applied).toHaveLength(4);
      expect(uints(await contract.getTaskDefinitionRestrictedAttesters(shrink))).toEqual(["2"]);
      expect(await contract.getTaskDefinitionMaximumNumberOfAttesters(shrink)).toBe(1n);
      expect(uints(await contract.getTaskDefinitionRestrictedAttesters(grow))).toEqual(["1", "2", "3", "4"]);
      expect(await contract.getTaskDefinitionMaximumNumberOfAttesters(grow)).toBe(4n);
      expect(expectOk(await avsctl(["task-def", "apply"], { cwd: other, env })).plan).toEqual([]);
    });
  });
});

describe("restricted sets that cannot attest", () => {
  let ac: string;
  const signed = () => [
    "--rpc-url",
    chain().rpcUrl,
    "--attestation-center",
    ac,
    "--private-key",
    DEPLOYER_KEY,
  ];

  beforeAll(async () => {
    ac = await deployAttestationCenter(chain());
    // the deployer mirrors L1 registrations here: operator 1 with voting power, operator 2 with
    // none (as the devnet registers its aggregator and performer)
    const provider = providerFor(chain());
    try {
      const contract = artifactContract("AttestationCenter", ac, provider).connect(
        new Wallet(DEPLOYER_KEY, provider),
      ) as LooseContract;
      const key = G2_GENERATOR.map((v) => BigInt(v));
      await (await contract.registerToNetwork(OUTSIDER, ETH, key, OUTSIDER)).wait();
      await (await contract.registerToNetwork(DEPLOYER, 0n, key, DEPLOYER)).wait();
    } finally {
      provider.destroy();
    }
  });

  it("warns when the restricted operators hold no voting power, or too little for the minimum", async () => {
    const powerless = expectOk(
      await run(["task-def", "create", "--name", "powerless", "--restricted-operators", "2", ...signed()]),
    );
    expect(powerless.warnings.join(" ")).toMatch(
      /operator id\(s\) 2 hold no voting power: they may perform the definition's tasks but cannot attest them/,
    );
    expect(powerless.warnings.join(" ")).toMatch(/no restricted operator can attest.*NO_ELIGIBLE_ATTESTERS/);

    // one of the set can attest: the powerless one is named, the definition is not called dead
    const mixed = expectOk(
      await run(["task-def", "create", "--name", "mixed", "--restricted-operators", "1,2", ...signed()]),
    );
    expect(mixed.warnings).toEqual([expect.stringMatching(/operator id\(s\) 2 hold no voting power/)]);

    // the setter weighs the set against the definition's minimum as the chain holds it
    expectOk(
      await run(["task-def", "set-min-voting-power", String(mixed.taskDefinitionId), "2eth", ...signed()]),
    );
    const raised = expectOk(
      await run(["task-def", "set-restricted-operators", String(mixed.taskDefinitionId), "1", ...signed()]),
    );
    expect(raised.warnings.join(" ")).toMatch(
      new RegExp(`operator id\\(s\\) 1 hold no voting power of at least ${2n * ETH} \\(the minimum\\)`),
    );
    expect(raised.warnings.join(" ")).toMatch(/no restricted operator can attest/);
  });
});

describe("generation 1: an AttestationCenter with only the gen-1 surface", () => {
  let ac: string;
  let provider: JsonRpcProvider;
  let contract: LooseContract;
  const target = () => ["--rpc-url", chain().rpcUrl, "--attestation-center", ac];
  const signed = () => [...target(), "--private-key", DEPLOYER_KEY];

  beforeAll(async () => {
    ac = await deployGen1AttestationCenter(chain());
    provider = providerFor(chain());
    contract = artifactContract("AttestationCenterGen1", ac, provider);
  });
  afterAll(() => provider?.destroy());

  it("detects generation 1 without a transaction", async () => {
    const before = await chainMark(chain());
    const list = expectOk(await run(["task-def", "list", ...target()]));
    expect(list.generation).toBe("gen1");
    expect(list.taskDefinitions).toEqual([]);
    const dry = expectOk(await run(["task-def", "create", "--name", "g", "--dry-run", ...target()]));
    expect(dry.generation).toBe("gen1");
    expect(dry.calls[0].method).toBe(GEN1_CREATE);
    expect(dry.calls[0].data.startsWith(SELECTOR.createGen1)).toBe(true);
    expect(dry.calls[0].args.params.restrictedOperatorIndexes).toEqual([]);
    expect(await chainMark(chain())).toEqual(before);
  });

  it("create returns id 1 then 2 with the gen-1 encoding, and the chain holds the flags", async () => {
    const first = expectOk(
      await run([
        "task-def",
        "create",
        "--name",
        "legacy",
        "--reward-attesters",
        "0.1eth",
        "--reward-performer",
        "12345",
        "--dispute-period",
        "4",
        "--min-voting-power",
        "77",
        "--restricted-operators",
        "6,2",
        ...signed(),
      ]),
    );
    expect(first.taskDefinitionId).toBe(1);
    expect(first.generation).toBe("gen1");
    expect(first.transactions.map((t: { method: string }) => t.method)).toEqual([GEN1_CREATE]);
    expect((await provider.getTransaction(first.txHash))!.data.startsWith(SELECTOR.createGen1)).toBe(true);
    expect(await contract.numOfTaskDefinitions()).toBe(1n);
    expect(await contract.getTaskDefinitionMinimumVotingPower(1)).toBe(77n);
    expect(uints(await contract.getTaskDefinitionRestrictedOperators(1))).toEqual(["2", "6"]);
    const event = await createdEvent(contract, first.txHash);
    expect(event.baseRewardFeeForAttesters).toBe(ETH / 10n);
    expect(event.baseRewardFeeForPerformer).toBe(12345n);
    expect(event.disputePeriodBlocks).toBe(4n);
    expect(event.blockExpiry.toString()).toBe(NEVER);

    const second = expectOk(await run(["task-def", "create", "--name", "legacy-2", ...signed()]));
    expect(second.taskDefinitionId).toBe(2);

    const list = expectOk(await run(["task-def", "list", ...target()]));
    expect(list.generation).toBe("gen1");
    expect(list.taskDefinitions.map((d: any) => [d.taskDefinitionId, d.name])).toEqual([
      [1, "legacy"],
      [2, "legacy-2"],
    ]);
    expect(list.taskDefinitions[0]).toMatchObject({
      baseRewardFeeForAttesters: "100000000000000000",
      baseRewardFeeForPerformer: "12345",
      disputePeriodBlocks: "4",
      minimumVotingPower: "77",
      restrictedOperatorIndexes: ["2", "6"],
      maximumNumberOfAttesters: "0",
    });
    const show = expectOk(await run(["task-def", "show", "1", ...target()]));
    expect(show).toEqual({ ...list.taskDefinitions[0], generation: "gen1" });
  });

  it("uses the gen-1 setter names and refuses the maximum number of attesters (exit 2, nothing sent)", async () => {
    const set = expectOk(await run(["task-def", "set-restricted-attesters", "1", "3,4", ...signed()]));
    expect(set.method).toBe("setTaskDefinitionRestrictedOperators(uint16,uint256[])");
    expect(
      (await provider.getTransaction(set.txHash))!.data.startsWith(SELECTOR.setRestrictedOperators),
    ).toBe(true);
    expect(uints(await contract.getTaskDefinitionRestrictedOperators(1))).toEqual(["3", "4"]);
    expectOk(await run(["task-def", "set-min-voting-power", "1", "88", ...signed()]));
    expect(await contract.getTaskDefinitionMinimumVotingPower(1)).toBe(88n);

    const before = await chainMark(chain());
    expectError(
      await run(["task-def", "create", "--name", "m", "--max-attesters", "1", ...signed()]),
      2,
      "INVALID_ARGUMENT",
    );
    expectError(await run(["task-def", "set-max-attesters", "1", "1", ...signed()]), 2, "INVALID_ARGUMENT");
    expect(await chainMark(chain())).toEqual(before);
  });

  it("a non-governance key exits 1 with the decoded error name", async () => {
    const before = await chainMark(chain(), OUTSIDER);
    const r = await run([
      "task-def",
      "create",
      "--name",
      "intruder",
      ...target(),
      "--private-key",
      OUTSIDER_KEY,
    ]);
    expect(expectError(r, 1, "TX_REVERTED").details.revert.name).toBe("AccessControlUnauthorizedAccount");
    expect(await chainMark(chain(), OUTSIDER)).toEqual(before);
  });
});
