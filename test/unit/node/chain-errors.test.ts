/**
 * sendTask's refusals for a failed verifyOperatorValidForTaskDefinition, from revert data
 * encoded with the compiled AttestationCenter's own ABI (its parameter names, not a copy's).
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { Interface } from "ethers";
import { describe, expect, it } from "vitest";
import { definitionCheckError, namedRevert } from "../../../src/node/chain-errors.js";

const artifact = JSON.parse(
  readFileSync(path.resolve(import.meta.dirname, "../../../artifacts/AttestationCenter.json"), "utf8"),
);
const ac = new Interface(artifact.abi);
const PERFORMER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

describe("definitionCheckError", () => {
  it("a performer under the minimum voting power is told the minimum", () => {
    const data = ac.encodeErrorResult("InsufficientVotingPowerForTaskDefinition", [1, 2n * 10n ** 18n]);
    const error = definitionCheckError(namedRevert(data)!, 1, PERFORMER);
    expect(error.message).toBe(
      "the performer holds less than task definition 1's minimum voting power (2000000000000000000) (InsufficientVotingPowerForTaskDefinition)",
    );
  });

  it("names the performer outside a restricted set, and an expired definition", () => {
    const restricted = ac.encodeErrorResult("InvalidRestrictedAttester", [2, 7]);
    expect(definitionCheckError(namedRevert(restricted)!, 2, PERFORMER).message).toBe(
      "the performer is not in task definition 2's restricted operator set (InvalidRestrictedAttester)",
    );
    const expired = ac.encodeErrorResult("InvalidTaskDefinition", []);
    expect(definitionCheckError(namedRevert(expired)!, 3, PERFORMER).message).toBe(
      "task definition 3 has expired (InvalidTaskDefinition)",
    );
  });
});
