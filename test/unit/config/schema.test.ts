/**
 * The config check refuses what `task-def apply` and `devnet up` would refuse later: each
 * taskDefinitions value goes through the parser of the task-def flags, named by its key, and a
 * malformed network.attestationCenter is the file's error. Before, `config show` passed them and
 * `devnet up` failed only after deploying, naming a flag it does not have.
 */
import { describe, expect, it } from "vitest";
import { validateConfig } from "../../../src/config/schema.js";

const AC = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const def = (fields: Record<string, unknown>) => ({
  taskDefinitions: [{ name: "ok" }, { name: "alpha", ...fields }],
});

describe("validateConfig: taskDefinitions values", () => {
  const bad: Array<[Record<string, unknown>, string, RegExp]> = [
    [{ rewardAttesters: "abc" }, "rewardAttesters", /"abc" is not an amount/],
    [{ rewardPerformer: "-1eth" }, "rewardPerformer", /"-1eth" is negative/],
    [{ rewardAggregator: "5 dollars" }, "rewardAggregator", /not an amount|unknown unit/],
    [{ rewardAttesters: "0.0000000000000000001eth" }, "rewardAttesters", /finer than 1 wei/],
    [{ minVotingPower: "lots" }, "minVotingPower", /"lots" is not an amount/],
    [{ blockExpiry: "1eth" }, "blockExpiry", /not a non-negative integer/],
    [{ restrictedOperators: [2, 2] }, "restrictedOperators", /listed twice/],
    [{ restrictedOperators: [1, 2], maxAttesters: 3 }, "maxAttesters", /exceeds the 2 restricted operators/],
    [{ name: "x".repeat(257) }, "name", /at most 256 characters/],
  ];
  for (const [fields, key, message] of bad) {
    it(`refuses ${JSON.stringify(fields).slice(0, 60)} naming taskDefinitions[1].${key}`, () => {
      const { errors } = validateConfig(def(fields));
      expect(errors).toEqual([
        { path: `taskDefinitions[1].${key}`, message: expect.stringMatching(message) },
      ]);
      // the key, not the flag of task-def create
      expect(errors[0]!.message).not.toMatch(/--/);
    });
  }

  it("takes what task-def create takes", () => {
    const { errors, config } = validateConfig(
      def({
        rewardAttesters: "0.1eth",
        rewardPerformer: 5,
        rewardAggregator: "5 gwei",
        minVotingPower: "1000",
        blockExpiry: "never",
        disputePeriod: 10,
        restrictedOperators: [3, 1],
        maxAttesters: 2,
      }),
    );
    expect(errors).toEqual([]);
    expect(config.taskDefinitions[1]).toMatchObject({ rewardAttesters: "0.1eth", rewardPerformer: "5" });
  });
});

describe("validateConfig: network.attestationCenter", () => {
  for (const value of ["0x12", "0xfile", `${AC.slice(0, -1)}x`, `80002@0x12`, ""]) {
    it(`refuses ${JSON.stringify(value)} naming the key`, () => {
      const { errors } = validateConfig({ network: { attestationCenter: value } });
      expect(errors.map((e) => e.path)).toEqual(["network.attestationCenter"]);
      expect(errors[0]!.message).not.toMatch(/AVSCTL_|--attestation-center/);
    });
  }

  for (const value of [AC, AC.toLowerCase(), `80002@${AC}`, `amoy@${AC},84532@${AC}`]) {
    it(`takes ${value}`, () => {
      expect(validateConfig({ network: { attestationCenter: value } }).errors).toEqual([]);
    });
  }
});
