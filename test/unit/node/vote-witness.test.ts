/**
 * TaskMessage.voteWitness, the hint an aggregator sends with a task: words in one 0x-hex string,
 * read back exactly; anything else (wrong length, not hex, too many words, not a string) reads
 * as no hint.
 */

import { describe, expect, it } from "vitest";
import { DOMAIN_TASKS, hashToPointWitness } from "../../../src/crypto/bls.js";
import { parseVoteWitness, voteWitnessHex } from "../../../src/node/transport.js";

describe("voteWitness", () => {
  it("reads back the words it was written from", () => {
    const w = hashToPointWitness(DOMAIN_TASKS, `0x${"ab".repeat(32)}`)!;
    expect(parseVoteWitness(voteWitnessHex(w))).toEqual(w);
  });

  it("reads a malformed hint as none", () => {
    const word = "1".repeat(64);
    for (const bad of [
      undefined,
      7,
      "",
      "0x",
      `0x${word}1`,
      `0x${"g".repeat(64)}`,
      `0x${word.repeat(10)}`,
      word,
    ])
      expect(parseVoteWitness(bad)).toBeUndefined();
    expect(parseVoteWitness(`0x${word.repeat(9)}`)).toHaveLength(9);
  });
});
