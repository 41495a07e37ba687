/** `operator add <name>`: a component name of its own, never one of the devnet's roles or components. */
import { describe, expect, it } from "vitest";
import { isAvsctlError } from "../../../src/errors.js";
import { checkOperatorName } from "../../../src/operator/operators.js";

function refusal(name: string): { code: string; argument: unknown; message: string } | undefined {
  try {
    checkOperatorName(name);
    return undefined;
  } catch (error) {
    if (!isAvsctlError(error)) throw error;
    return { code: error.code, argument: error.details?.argument, message: error.message };
  }
}

describe("operator names", () => {
  it.each([
    "l1",
    "l2-1",
    "l2-2",
    "aggregator",
    "performer",
    "deployer",
    "validation",
    "execution",
    "ipfs",
    "price-feed",
    "task-engine",
    "triggers",
    "supervisor",
  ])("%s is the devnet's own: INVALID_ARGUMENT naming <name>", (name) => {
    expect(refusal(name)).toMatchObject({ code: "INVALID_ARGUMENT", argument: "<name>" });
    expect(refusal(name)?.message).toContain(`"${name}"`);
  });

  it("takes other component names, attester-<n> among them", () => {
    for (const name of ["attester-4", "attester-10", "carol", "l2", "performer-2"])
      expect(refusal(name), name).toBeUndefined();
  });

  it("refuses what is no component name", () => {
    for (const name of ["Performer", "4th", "a b", ""])
      expect(refusal(name)).toMatchObject({ code: "INVALID_ARGUMENT", argument: "<name>" });
  });
});
