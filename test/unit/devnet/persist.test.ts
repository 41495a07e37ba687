/**
 * The saved-state record `devnet up` resumes from: written and read back with its bigints, and
 * refused (so the chains are redeployed) when this run's chains, operators or runtime differ.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  readSaved,
  removeSavedFiles,
  saveAddedOperator,
  savedMismatch,
  savedPaths,
  saveRemovedOperator,
  writeSaved,
} from "../../../src/devnet/persist.js";
import type { Registration } from "../../../src/devnet/up/register.js";
import type { StartPlan } from "../../../src/devnet/up/start-plan.js";

const dir = mkdtempSync(path.join(tmpdir(), "avsctl-persist-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const account = (n: number) => ({ address: `0x${String(n).padStart(40, "0")}` });

function plan(attesters = 3, l2ChainIds = [31338]): StartPlan {
  return {
    topology: { projectDir: dir, l1ChainId: 31337, l2ChainIds },
    keys: {
      deployer: account(1),
      aggregator: account(2),
      performer: account(3),
      attesters: Array.from({ length: attesters }, (_, i) => account(10 + i)),
    },
  } as unknown as StartPlan;
}

const registration = {
  deployment: { avsGovernance: "0xgov", l2: [{ attestationCenter: "0xac" }] },
  attesterRegs: [{ votingPower: 100n * 10n ** 18n, l2: [{ operatorId: 3 }] }],
  taskDefinitions: [{ taskDefinitionId: 1, name: "default" }],
} as unknown as Registration;

describe("the saved devnet record", () => {
  it("reads back what was written, bigints included", () => {
    writeSaved(dir, "process", plan(), registration);
    const saved = readSaved(dir)!;
    expect(saved.registration.attesterRegs[0]!.votingPower).toBe(100n * 10n ** 18n);
    expect(saved.registration.taskDefinitions).toEqual(registration.taskDefinitions);
    expect(saved.chainIds).toEqual([31337, 31338]);
  });

  it("fits the same run, and says why it does not fit another", () => {
    const saved = readSaved(dir)!;
    expect(savedMismatch(saved, plan(), "process")).toBeUndefined();
    expect(savedMismatch(saved, plan(), "docker")).toMatch(/process runtime/);
    expect(savedMismatch(saved, plan(4), "process")).toMatch(/3 attester\(s\), asked 4/);
    expect(savedMismatch(saved, plan(3, [31338, 31339]), "process")).toMatch(/chains/);
  });

  it("operator remove: an attester up registered is kept as removed, one operator add added is forgotten", () => {
    const added = {
      name: "attester-4",
      index: 7,
      address: account(20).address,
      bls: "from-private-key" as const,
      operatorId: 6,
      votingPower: "1",
    };
    saveAddedOperator(dir, "attester-4", added);
    saveRemovedOperator(dir, "attester-4", added.address);
    saveRemovedOperator(dir, "attester-2", account(11).address);
    const saved = readSaved(dir)!;
    expect(saved.addedOperators).toEqual([]);
    expect(saved.removedOperators).toEqual([{ name: "attester-2", address: account(11).address }]);
    // the keys `up` registered stay the plan's: the record still fits the same run
    expect(savedMismatch(saved, plan(), "process")).toBeUndefined();
  });

  it("an unreadable record counts as none", () => {
    writeFileSync(path.join(dir, ".avsctl", "chains", "deployment.json"), "{");
    expect(readSaved(dir)).toBeUndefined();
  });

  it("removeSavedFiles deletes the chains, the stores and the IPFS blocks, and answers what it deleted", () => {
    mkdirSync(path.join(dir, ".avsctl", "ipfs"), { recursive: true });
    writeFileSync(path.join(dir, ".avsctl", "aggregator.db"), "");
    const removed = removeSavedFiles(dir);
    expect(removed).toEqual(
      expect.arrayContaining([
        path.join(dir, ".avsctl", "chains"),
        path.join(dir, ".avsctl", "aggregator.db"),
      ]),
    );
    for (const p of savedPaths(dir)) expect(existsSync(p), p).toBe(false);
  });
});
