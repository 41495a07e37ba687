/**
 * The node runtime's parts without a chain: options from the Othentic environment, the
 * validation-service answers, thresholds and signer choice, the JSON-RPC layer, the journal,
 * the voting power diff, and the authenticated transport over real HTTP.
 */

import { mkdtempSync, rmSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import path from "node:path";
import { Interface, Transaction, Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import { ATTESTATION_CENTER_GEN2 } from "../../../src/chain/abi/attestation-center.js";
import { encodeSubmitTask, fastTaskHash, fastVoteHash } from "../../../src/chain/abi-fast.js";
import { decodeVotingPowerUpdate, encodeVotingPowerUpdate } from "../../../src/chain/contracts.js";
import { ANVIL_DEV_PRIVATE_KEYS } from "../../../src/chain/dev-keys.js";
import { parseAttestationCenters } from "../../../src/chain/endpoint-lists.js";
import {
  aggregatePublicKeys,
  aggregateSignatures,
  blsPublicKey,
  blsSecretFromSeed,
  initBls,
  signVote,
} from "../../../src/crypto/bls.js";
import { signTaskEcdsa } from "../../../src/crypto/ecdsa.js";
import { taskHash, voteHash } from "../../../src/crypto/task-hash.js";
import { verifyBatch } from "../../../src/node/batch-verify.js";
import { isTaskSignedBy } from "../../../src/node/ecdsa-fast.js";
import { listen } from "../../../src/node/http.js";
import { diffVotingPower } from "../../../src/node/internal-tasks.js";
import { TaskJournal } from "../../../src/node/journal.js";
import { dispatchJsonRpc, RpcError } from "../../../src/node/json-rpc.js";
import { createLogger } from "../../../src/node/log.js";
import {
  DEFAULT_LIMITS,
  nodeOptionsFromEnv,
  parseInternalTasks,
  resolveWebapiUrl,
} from "../../../src/node/options.js";
import { parseSendTaskParams } from "../../../src/node/send-task.js";
import {
  AggregatorLink,
  type DownMessage,
  PeerHub,
  ReplayWindow,
  type VoteMessage,
} from "../../../src/node/transport.js";
import { signEip1559 } from "../../../src/node/tx-pipeline.js";
import {
  interpretValidationResponse,
  postCustomMessage,
  validateTask,
} from "../../../src/node/validation-client.js";
import { requiredPower, selectSigners, VoteTally } from "../../../src/node/votes.js";

const A = "0x1111111111111111111111111111111111111111";
const SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const B = "0x2222222222222222222222222222222222222222";

describe("options", () => {
  it("reads the Othentic environment, single and multi-L2", () => {
    const single = nodeOptionsFromEnv(
      {
        PRIVATE_KEY: ANVIL_DEV_PRIVATE_KEYS[1],
        L2_RPC: "http://l2:8545",
        L2_CHAIN: "amoy",
        ATTESTATION_CENTER_ADDRESS: A,
        L1_RPC: "http://l1",
        L1_CHAIN: "holesky",
        AVS_GOVERNANCE_ADDRESS: B,
      },
      "aggregator",
    );
    expect(single.l2).toEqual([{ chainId: 80002, rpcUrl: "http://l2:8545", attestationCenter: A }]);
    expect(single.l1).toEqual({ rpcUrl: "http://l1", chainId: 17000, avsGovernance: B });
    expect(single.privateKey).toBe(ANVIL_DEV_PRIVATE_KEYS[1]);

    const multi = nodeOptionsFromEnv(
      {
        PRIVATE_KEY: "0x01",
        PRIVATE_KEY_ATTESTER2: ANVIL_DEV_PRIVATE_KEYS[3],
        L2_RPC: "80002@http://amoy,84532@http://base",
        ATTESTATION_CENTER_ADDRESS: `84532@${B},80002@${A}`,
        INTERNAL_TASKS: '[{"name":"VOTING_POWER_SYNC","interval":120000}]',
        OTHENTIC_CLIENT_RPC_ADDRESS: "http://aggregator:8545",
      },
      "attester",
      2,
    );
    expect(multi.privateKey).toBe(ANVIL_DEV_PRIVATE_KEYS[3]);
    expect(multi.l2).toEqual([
      { chainId: 84532, rpcUrl: "http://base", attestationCenter: B },
      { chainId: 80002, rpcUrl: "http://amoy", attestationCenter: A },
    ]);
    expect(multi.internalTasks).toEqual([{ name: "VOTING_POWER_SYNC", intervalMs: 120_000 }]);
    expect(multi.aggregatorUrl).toBe("http://aggregator:8545");
  });

  it("refuses bad addresses, unknown internal tasks and intervals under a minute", () => {
    expect(() => parseAttestationCenters("0x12", "ATTESTATION_CENTER_ADDRESS")).toThrow(
      expect.objectContaining({ code: "INVALID_ADDRESS" }),
    );
    expect(() => parseInternalTasks('[{"name":"NOPE"}]')).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => parseInternalTasks('[{"name":"VOTING_POWER_SYNC","interval":5}]')).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(parseInternalTasks(undefined, 90_000)).toEqual([
      { name: "VOTING_POWER_SYNC", intervalMs: 90_000 },
    ]);
  });

  it("joins --avs-webapi and --avs-webapi-port like Othentic", () => {
    expect(resolveWebapiUrl("http://10.8.0.42")).toBe("http://10.8.0.42:4002");
    expect(resolveWebapiUrl("http://validation", 5000)).toBe("http://validation:5000");
    expect(resolveWebapiUrl("http://127.0.0.1:7000/")).toBe("http://127.0.0.1:7000");
  });
});

describe("validation service answers", () => {
  it("understands every known shape and abstains on anything else", () => {
    expect(interpretValidationResponse(200, '{"data":true,"error":false,"message":null}').verdict).toBe(
      "approve",
    );
    expect(interpretValidationResponse(200, '{"data":false,"error":false,"message":null}').verdict).toBe(
      "reject",
    );
    expect(interpretValidationResponse(200, '{"data":{"result":true},"message":"ok"}').verdict).toBe(
      "approve",
    );
    expect(interpretValidationResponse(200, '{"data":{"result":false},"message":"no"}').verdict).toBe(
      "reject",
    );
    expect(interpretValidationResponse(500, '{"error":true,"message":"ipfs down","data":{}}').verdict).toBe(
      "abstain",
    );
    expect(interpretValidationResponse(200, '{"error":true,"message":"x","data":true}').verdict).toBe(
      "abstain",
    );
    expect(interpretValidationResponse(200, '{"data":"true"}').verdict).toBe("abstain");
    expect(interpretValidationResponse(200, "<html>").verdict).toBe("abstain");
    expect(interpretValidationResponse(404, '{"data":true}').verdict).toBe("abstain");
    expect(interpretValidationResponse(200, "[true]").verdict).toBe("abstain");
  });

  it("abstains when the service is down or too slow", async () => {
    const down = await validateTask(
      "http://127.0.0.1:1",
      { proofOfTask: "p", data: "0x", taskDefinitionId: 1, performer: A },
      { timeoutMs: 2_000 },
    );
    expect(down.verdict).toBe("abstain");
    const server = http.createServer(() => undefined);
    const l = await listen(server, "127.0.0.1", 0);
    try {
      const slow = await validateTask(
        l.url,
        { proofOfTask: "p", data: "0x", taskDefinitionId: 1, performer: A },
        { timeoutMs: 200 },
      );
      expect(slow).toMatchObject({ verdict: "abstain", reason: expect.stringContaining("200 ms") });
    } finally {
      await l.close();
    }
  });

  it("a forwarded custom message is delivered by the status alone, whatever the body answered with it", async () => {
    let status = 200;
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => res.writeHead(status).end("x".repeat(256 * 1024)));
    });
    const l = await listen(server, "127.0.0.1", 0);
    try {
      expect(await postCustomMessage(l.url, "0x01", { timeoutMs: 5_000 })).toEqual({
        ok: true,
        detail: "HTTP 200",
      });
      status = 500;
      expect(await postCustomMessage(l.url, "0x01", { timeoutMs: 5_000 })).toEqual({
        ok: false,
        detail: "HTTP 500",
      });
    } finally {
      await l.close();
    }
  });
});

describe("consensus arithmetic", () => {
  const vote = (id: number, power: bigint, isApproved = true) => ({
    operatorId: BigInt(id),
    power,
    isApproved,
    signature: [1n, 2n] as const,
  });

  it("uses total*2/3 to approve and total/3 to reject, with integer division", () => {
    expect(requiredPower(3n)).toEqual({ approve: 2n, reject: 1n });
    expect(requiredPower(10n)).toEqual({ approve: 6n, reject: 3n });
    expect(requiredPower(1n)).toEqual({ approve: 0n, reject: 0n });
    const tally = new VoteTally(requiredPower(3n));
    tally.add(vote(4, 1n));
    expect(tally.reached()).toBeUndefined();
    tally.add(vote(2, 1n));
    expect(tally.reached()).toBe("approve");
    expect(tally.signers("approve")!.map((v) => v.operatorId)).toEqual([2n, 4n]);
    // Required power 0 never counts as reached (the contract reverts InvalidRequiredVotingPower).
    const none = new VoteTally(requiredPower(1n));
    none.add(vote(1, 1n));
    expect(none.reached()).toBeUndefined();
  });

  it("keeps signers strictly ascending and within the maximum number of attesters", () => {
    const votes = [vote(9, 1n), vote(3, 5n), vote(5, 2n), vote(7, 4n)];
    expect(selectSigners(votes, 8n)!.map((v) => Number(v.operatorId))).toEqual([3, 5, 7, 9]);
    expect(selectSigners(votes, 8n, 2)!.map((v) => Number(v.operatorId))).toEqual([3, 7]);
    expect(selectSigners(votes, 10n, 2)).toBeUndefined();
  });

  it("replaces an attester's vote and forgets dropped ones", () => {
    const tally = new VoteTally(requiredPower(9n));
    tally.add(vote(1, 3n, false));
    expect(tally.reached()).toBe("reject");
    tally.add(vote(1, 3n, true));
    expect(tally.power("reject")).toBe(0n);
    tally.remove(1n);
    expect(tally.size).toBe(0);
  });
});

describe("sendTask parameters", () => {
  const sig = `0x${"11".repeat(32)}${"22".repeat(32)}1b`;
  it("takes the 5- and 7-parameter forms and named params", () => {
    const five = parseSendTaskParams(["p", "0xAB", 1, A, sig], DEFAULT_LIMITS);
    expect(five).toMatchObject({
      data: "0xab",
      signatureType: "ecdsa",
      targetChainId: undefined,
      taskDefinitionId: 1,
    });
    const seven = parseSendTaskParams(
      ["p", "0x", "2", A, sig.replace(/1b$/, "00"), "ecdsa", 84532],
      DEFAULT_LIMITS,
    );
    expect(seven).toMatchObject({ taskDefinitionId: 2, targetChainId: 84532, ecdsaSignature: sig });
    const named = parseSendTaskParams(
      { proofOfTask: "p", data: "0x", taskDefinitionId: 1, performerAddress: A, signature: sig },
      DEFAULT_LIMITS,
    );
    expect(named.performer).toBe(A);
  });

  it("refuses a high-s ECDSA signature (malleable, and the contract's ecrecover would disagree)", () => {
    const high = `0x${"11".repeat(32)}${"ff".repeat(32)}1b`;
    expect(() => parseSendTaskParams(["p", "0x", 1, A, high], DEFAULT_LIMITS)).toThrow(RpcError);
  });
});

describe("JSON-RPC layer", () => {
  const methods = {
    echo: (p: unknown) => p,
    boom: () => {
      throw new Error("secret internals");
    },
  };
  it("answers batches by id, skips notifications and hides internal errors", async () => {
    const out = JSON.parse(
      (await dispatchJsonRpc(
        JSON.stringify([
          { jsonrpc: "2.0", id: "a", method: "echo", params: [1] },
          { jsonrpc: "2.0", method: "echo", params: [2] },
          { jsonrpc: "2.0", id: 3, method: "boom" },
        ]),
        { methods, maxBatch: 10 },
      ))!,
    );
    expect(out).toEqual([
      { jsonrpc: "2.0", id: "a", result: [1] },
      {
        jsonrpc: "2.0",
        id: 3,
        error: {
          code: -32603,
          message: "internal error while handling the request",
          data: { reason: "INTERNAL_ERROR" },
        },
      },
    ]);
    expect(
      await dispatchJsonRpc(JSON.stringify({ jsonrpc: "2.0", method: "echo" }), { methods, maxBatch: 10 }),
    ).toBeUndefined();
    const proto = JSON.parse(
      (await dispatchJsonRpc('{"id":1,"method":"__proto__"}', { methods, maxBatch: 10 }))!,
    );
    expect(proto.error.code).toBe(-32601);
  });
});

/** A task as the journal keeps it when accepted. */
const journalEntry = (taskHash: string) => ({
  chainId: 31338,
  taskHash,
  proofOfTask: "p",
  data: "0x",
  performer: A,
  taskDefinitionId: 1,
  signatureType: "ecdsa" as const,
  signature: "0x",
  internal: false,
  acceptedAt: 1,
  deadline: 2,
});

describe("task journal", () => {
  it("keeps tasks and submissions across a reopen", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "avsctl-journal-"));
    try {
      const file = path.join(dir, "j.sqlite");
      const base = journalEntry(`0x${"aa".repeat(32)}`);
      let j = new TaskJournal(file);
      expect(j.insert(base)).toBe(true);
      expect(j.insert(base)).toBe(false);
      j.markSubmitting(31338, base.taskHash, {
        isApproved: true,
        attesterIds: ["2", "3"],
        txHash: "0xdd",
        nonce: 7,
        rawTx: "0xee",
      });
      j.close();
      j = new TaskJournal(file);
      expect(j.byStatus("submitting")).toMatchObject([
        { taskHash: base.taskHash, txNonce: 7, rawTx: "0xee", attesterIds: ["2", "3"] },
      ]);
      j.markFinal(31338, base.taskHash, "approved", { taskNumber: 5 });
      // a verdict keeps its signed transaction, to be sent again if its chain loses it
      expect(j.get(31338, base.taskHash)).toMatchObject({
        status: "approved",
        taskNumber: 5,
        txHash: "0xdd",
        txNonce: 7,
        rawTx: "0xee",
      });
      expect(j.resubmit(31338, base.taskHash)).toBe(true);
      expect(j.get(31338, base.taskHash)).toMatchObject({
        status: "submitting",
        taskNumber: undefined,
        finishedAt: undefined,
        txHash: "0xdd",
        txNonce: 7,
        rawTx: "0xee",
      });
      // the verdict found on the chain by another transaction keeps none of it
      j.markFinal(31338, base.taskHash, "approved", { taskNumber: 5, txHash: "0xff" });
      expect(j.get(31338, base.taskHash)).toMatchObject({ txHash: "0xff", rawTx: undefined });
      expect(j.resubmit(31338, base.taskHash)).toBe(false);
      j.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("task journal: bound", () => {
  const hashOf = (i: number) => `0x${i.toString(16).padStart(64, "0")}`;
  /** Accepts task i and, unless `open`, submits and ends it (every third rejected). */
  const run = (j: TaskJournal, i: number, open?: "pending" | "submitting") => {
    j.insert(journalEntry(hashOf(i)));
    if (open === "pending") return;
    j.markSubmitting(31338, hashOf(i), {
      isApproved: i % 3 !== 0,
      attesterIds: ["3"],
      txHash: `0x${"dd".repeat(31)}${(i % 256).toString(16).padStart(2, "0")}`,
      nonce: i,
      rawTx: "0xee",
    });
    if (open === "submitting") return;
    j.markFinal(31338, hashOf(i), i % 3 === 0 ? "rejected" : "approved", { taskNumber: i });
  };
  const withJournal = (fn: (file: string) => void) => {
    const dir = mkdtempSync(path.join(tmpdir(), "avsctl-journal-bound-"));
    try {
      fn(path.join(dir, "j.sqlite"));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it("keeps the newest ended tasks within its bound and never deletes a task still in progress", () =>
    withJournal((file) => {
      const j = new TaskJournal(file, { keepEnded: 20 });
      expect(j.hasForgotten()).toBe(false);
      run(j, 0, "pending");
      run(j, 1, "submitting");
      for (let i = 2; i < 200; i++) run(j, i);
      const counts = j.counts();
      // checked every tenth of the bound: at most that many over it
      expect(counts.approved! + counts.rejected!).toBeGreaterThanOrEqual(20);
      expect(counts.approved! + counts.rejected!).toBeLessThanOrEqual(22);
      expect(j.get(31338, hashOf(0))?.status).toBe("pending");
      expect(j.get(31338, hashOf(1))?.status).toBe("submitting");
      expect(j.get(31338, hashOf(199))?.status).toBe("approved");
      expect(j.get(31338, hashOf(180))?.taskNumber).toBe(180);
      expect(j.get(31338, hashOf(2))).toBeUndefined();
      expect(j.get(31338, hashOf(170))).toBeUndefined();
      expect(j.hasForgotten()).toBe(true);
      j.close();
      // remembered across a reopen under any bound
      const again = new TaskJournal(file);
      expect(again.hasForgotten()).toBe(true);
      again.close();
    }));

  it("keeps the signed transactions of the newest verdicts of each chain, and finds those at or above a nonce", () =>
    withJournal((file) => {
      const j = new TaskJournal(file, { keepEnded: 1_000, keepSignedTxs: 30 });
      run(j, 0, "submitting");
      for (let i = 1; i < 200; i++) run(j, i);
      // a failed submission keeps none
      j.insert(journalEntry(hashOf(500)));
      j.markSubmitting(31338, hashOf(500), {
        isApproved: true,
        attesterIds: ["3"],
        txHash: "0xaa",
        nonce: 500,
        rawTx: "0xee",
      });
      j.markFinal(31338, hashOf(500), "failed", { error: "reverted" });
      expect(j.get(31338, hashOf(500))?.rawTx).toBeUndefined();
      // checked every tenth of the ended bound (100 ends): at most that many over it
      const signed = j.signedFromNonce(31338, 0);
      expect(signed.length).toBeGreaterThanOrEqual(30);
      expect(signed.length).toBeLessThanOrEqual(130);
      expect(signed[0]?.taskHash).toBe(hashOf(199));
      expect(j.get(31338, hashOf(1))?.rawTx).toBeUndefined();
      expect(j.get(31338, hashOf(0))).toMatchObject({ status: "submitting", rawTx: "0xee" });
      expect(j.signedFromNonce(31338, 197).map((t) => t.txNonce)).toEqual([199, 198, 197]);
      expect(j.signedFromNonce(1, 0)).toEqual([]);
      j.close();
    }));

  it("comes down to its bound when opened over a journal that holds more", () =>
    withJournal((file) => {
      const big = new TaskJournal(file);
      for (let i = 0; i < 150; i++) run(big, i);
      big.close();
      const j = new TaskJournal(file, { keepEnded: 100 });
      expect(Object.values(j.counts()).reduce((a, b) => a + b)).toBe(100);
      expect(j.get(31338, hashOf(49))).toBeUndefined();
      expect(j.get(31338, hashOf(50))?.taskNumber).toBe(50);
      j.close();
    }));

  it("walks the settled tasks newest first, page after page, while the caller forgets some", () =>
    withJournal((file) => {
      const j = new TaskJournal(file);
      for (let i = 0; i < 150; i++) run(j, i);
      run(j, 150, "submitting");
      const seen: number[] = [];
      for (const task of j.settledNewestFirst(31338)) {
        seen.push(task.taskNumber!);
        // as a restart trims the verdicts its chain lost
        if (task.taskNumber! >= 60) j.forget(31338, task.taskHash);
      }
      expect(seen).toEqual(Array.from({ length: 150 }, (_, k) => 149 - k));
      expect(j.get(31338, hashOf(60))).toBeUndefined();
      expect(j.get(31338, hashOf(59))?.status).toBe("approved");
      expect([...j.settledNewestFirst(31338)].map((t) => t.taskNumber)).toEqual(
        Array.from({ length: 60 }, (_, k) => 59 - k),
      );
      expect([...j.settledNewestFirst(1)]).toEqual([]);
      j.close();
    }));
});

describe("task journal: commits", () => {
  it("a turn's accepted tasks and ends share a commit that durable() awaits; a submission commits before its call returns", async () => {
    const { DatabaseSync } = await import("node:sqlite");
    const dir = mkdtempSync(path.join(tmpdir(), "avsctl-journal-commit-"));
    const file = path.join(dir, "j.sqlite");
    const j = new TaskJournal(file);
    // what another process (a snapshot's copy, a restarted aggregator) would find on disk
    const reader = new DatabaseSync(file, { readOnly: true });
    const onDisk = (hash: string) =>
      reader.prepare("SELECT status FROM tasks WHERE task_hash = ?").get(hash)?.status as string | undefined;
    try {
      const [a, b, c] = ["a1", "b2", "c3"].map((x) => journalEntry(`0x${x.repeat(32)}`));
      j.insert(a!);
      j.insert(b!);
      expect(j.get(31338, a!.taskHash)?.status).toBe("pending");
      expect(onDisk(a!.taskHash)).toBeUndefined();
      await j.durable();
      expect([onDisk(a!.taskHash), onDisk(b!.taskHash)]).toEqual(["pending", "pending"]);

      const submission = { isApproved: true, attesterIds: ["1"], txHash: "0xdd", nonce: 1, rawTx: "0xee" };
      j.insert(c!);
      j.markSubmitting(31338, a!.taskHash, submission);
      // the submission, and the turn's writes before it, are on disk before it is broadcast
      expect([onDisk(a!.taskHash), onDisk(c!.taskHash)]).toEqual(["submitting", "pending"]);

      j.batch(() => {
        j.markSubmitting(31338, b!.taskHash, submission);
        j.markSubmitting(31338, c!.taskHash, submission);
        expect(onDisk(b!.taskHash)).toBe("pending");
      });
      expect([onDisk(b!.taskHash), onDisk(c!.taskHash)]).toEqual(["submitting", "submitting"]);

      j.markFinal(31338, a!.taskHash, "approved", { taskNumber: 1 });
      expect(onDisk(a!.taskHash)).toBe("submitting");
      await j.durable();
      expect(onDisk(a!.taskHash)).toBe("approved");

      // close() commits what the turn has written
      j.markFinal(31338, b!.taskHash, "rejected", { taskNumber: 2 });
      j.close();
      expect(onDisk(b!.taskHash)).toBe("rejected");
    } finally {
      j.close();
      reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("task journal: ends without a verdict", () => {
  it("keeps an unreachable task's reason, lets it be sent again, and opens a journal written before reasons", async () => {
    const { DatabaseSync } = await import("node:sqlite");
    const dir = mkdtempSync(path.join(tmpdir(), "avsctl-journal-reason-"));
    const file = path.join(dir, "j.sqlite");
    try {
      const base = journalEntry(`0x${"bb".repeat(32)}`);
      new TaskJournal(file).close();
      // as a journal of an earlier version left it: no reason column
      const old = new DatabaseSync(file);
      old.exec("ALTER TABLE tasks DROP COLUMN reason");
      old.close();
      const j = new TaskJournal(file);
      expect(j.insert(base)).toBe(true);
      const reason = {
        message: "no verdict can be reached any more",
        abstained: [{ attester: A, operatorId: 3, reason: "HTTP 500" }],
        connectedPower: "3",
        requiredPower: "2",
      };
      j.markFinal(31338, base.taskHash, "unreachable", { error: reason.message, reason });
      expect(j.get(31338, base.taskHash)).toMatchObject({ status: "unreachable", reason });
      // sent again, it starts over as a new attempt
      expect(j.insert({ ...base, replace: true })).toBe(true);
      expect(j.get(31338, base.taskHash)).toMatchObject({ status: "pending", reason: undefined });
      j.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("VOTING_POWER_SYNC data", () => {
  it("diffs L1 against L2 in ascending id order and round-trips abi.encode(VotingPowerUpdate)", () => {
    const diff = diffVotingPower([
      { operatorId: 5n, l1: 10n, l2: 4n },
      { operatorId: 2n, l1: 1n, l2: 3n },
      { operatorId: 3n, l1: 7n, l2: 7n },
    ]);
    expect(diff).toEqual({
      toIncrease: [{ operatorId: 5n, votingPower: 6n }],
      toDecrease: [{ operatorId: 2n, votingPower: 2n }],
    });
    const update = { ...diff, toBlockL1: 100n, toBlockL2: 200n };
    expect(decodeVotingPowerUpdate(encodeVotingPowerUpdate(update))).toEqual(update);
  });
});

describe("authenticated transport", () => {
  it("accepts each sequence number once, out of order within the window", () => {
    const w = new ReplayWindow();
    expect([w.accept(2), w.accept(1), w.accept(2), w.accept(0), w.accept(-1), w.accept(1.5)]).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(w.accept(10_000)).toBe(true);
    expect(w.accept(3)).toBe(false);
  });

  it("admits operators only, and refuses unauthenticated or forged messages", async () => {
    const aggregatorWallet = new Wallet(ANVIL_DEV_PRIVATE_KEYS[1]!);
    const attesterWallet = new Wallet(ANVIL_DEV_PRIVATE_KEYS[2]!);
    const outsider = Wallet.createRandom();
    const received: Array<{ address: string; votes: VoteMessage[] }> = [];
    const log = createLogger(undefined);
    const hub = new PeerHub({
      wallet: aggregatorWallet,
      log,
      isOperator: async (a) => a === attesterWallet.address || a === outsider.address.replace(/./g, "x"),
      onJoin: (s) => hub.send(s, { type: "tasks", tasks: [] }),
      onVotes: (address, votes) => received.push({ address, votes }),
    });
    const requests: string[] = [];
    const server = http.createServer((req, res) => {
      requests.push(req.url ?? "/");
      if (!hub.handle(req, res, req.url ?? "/")) res.writeHead(404).end();
    });
    const l = await listen(server, "127.0.0.1", 0);
    const abort = new AbortController();
    const messages: DownMessage[] = [];
    const link = new AggregatorLink({
      url: l.url,
      wallet: attesterWallet,
      log,
      signal: abort.signal,
      isAggregator: async (a) => a === aggregatorWallet.address,
      onMessage: (m) => messages.push(m),
    });
    try {
      const deadline = Date.now() + 10_000;
      while (!link.connected && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(link.connected).toBe(true);
      expect(await link.postVotes([{ chainId: 1, taskHash: "0x01", abstain: "test" }])).toBe(true);
      expect(received).toEqual([
        { address: attesterWallet.address, votes: [{ chainId: 1, taskHash: "0x01", abstain: "test" }] },
      ]);
      while (messages.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(messages[0]).toMatchObject({ type: "ping" });

      // Votes on the long-lived vote stream: authenticated lines, each taken once.
      expect(await link.sendVotes([{ chainId: 1, taskHash: "0x02", abstain: "streamed" }])).toBe(true);
      expect(await link.sendVotes([{ chainId: 1, taskHash: "0x03", abstain: "streamed" }])).toBe(true);
      while (received.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(received.slice(1).map((r) => [r.address, r.votes[0]?.taskHash])).toEqual([
        [attesterWallet.address, "0x02"],
        [attesterWallet.address, "0x03"],
      ]);
      // one POST (postVotes above), then both lines on one stream
      expect(requests.filter((r) => r.startsWith("/p2p/votes"))).toEqual(["/p2p/votes", "/p2p/votes/stream"]);

      // No session, or a forged MAC: refused.
      const post = (headers: Record<string, string>) =>
        fetch(`${l.url}/p2p/votes`, { method: "POST", headers, body: JSON.stringify({ votes: [] }) }).then(
          (r) => r.status,
        );
      expect(await post({})).toBe(401);
      const forgedStream = await fetch(`${l.url}/p2p/votes/stream`, {
        method: "POST",
        headers: {
          "x-avsctl-session": "00".repeat(16),
          "x-avsctl-seq": "1",
          "x-avsctl-mac": "00".repeat(32),
        },
        body: `1 ${"00".repeat(32)} {"votes":[{"chainId":1,"taskHash":"0x04","abstain":"forged"}]}\n`,
      });
      expect(forgedStream.status).toBe(401);
      expect(received).toHaveLength(3);
      expect(
        await post({
          "x-avsctl-session": "00".repeat(16),
          "x-avsctl-seq": "99",
          "x-avsctl-mac": "00".repeat(32),
        }),
      ).toBe(401);

      // A hello from a key that is not an operator, and a hello signed by someone else.
      const hello = async (signer: { signMessageSync(m: string): string }, address: string) => {
        const payload = JSON.stringify({
          v: 1,
          role: "attester",
          address,
          ephemeralKey: "A".repeat(43),
          nonce: "ab".repeat(16),
          timestamp: Date.now(),
        });
        return (
          await fetch(`${l.url}/p2p/hello`, {
            method: "POST",
            body: JSON.stringify({ payload, signature: signer.signMessageSync(payload) }),
          })
        ).status;
      };
      expect(await hello(outsider, outsider.address)).toBe(403);
      expect(await hello(outsider, attesterWallet.address)).toBe(401);
    } finally {
      abort.abort();
      await link.closed();
      hub.close();
      await l.close();
    }
  });
});

describe("hot-path encodings match ethers", () => {
  const tasks = [
    { proofOfTask: "QmTest", data: "0x3132332e3435", performer: B, taskDefinitionId: 0 },
    { proofOfTask: "ü".repeat(40), data: `0x${"ab".repeat(33)}`, performer: A, taskDefinitionId: 65535 },
    { proofOfTask: "x", data: "0x", performer: A, taskDefinitionId: 7 },
  ];
  it("task and vote hashes", () => {
    for (const t of tasks) {
      expect(fastTaskHash(t)).toBe(taskHash(t));
      for (const isApproved of [true, false]) {
        expect(fastVoteHash(t, B, 84532, isApproved)).toBe(
          voteHash({ ...t, attestationCenter: B, chainId: 84532, isApproved }),
        );
      }
    }
  });

  it("submitTask calldata, ECDSA and BLS performer forms", () => {
    const iface = new Interface(ATTESTATION_CENTER_GEN2 as unknown as string[]);
    const ids = [2n, 3n, 40n];
    const ta = [5n, 6n] as const;
    for (const t of tasks) {
      const info = [t.proofOfTask, t.data, t.performer, t.taskDefinitionId];
      const sig = `0x${"12".repeat(64)}1c`;
      expect(
        encodeSubmitTask(t, { isApproved: true, tpSignature: sig, taSignature: ta, attestersIds: ids }),
      ).toBe(
        iface.encodeFunctionData(
          "submitTask((string,bytes,address,uint16),(bool,bytes,uint256[2],uint256[]))",
          [info, [true, sig, ta, ids]],
        ),
      );
      expect(
        encodeSubmitTask(t, { isApproved: false, tpSignature: [7n, 8n], taSignature: ta, attestersIds: [] }),
      ).toBe(
        iface.encodeFunctionData(
          "submitTask((string,bytes,address,uint16),(bool,uint256[2],uint256[2],uint256[]))",
          [info, [false, [7n, 8n], ta, []]],
        ),
      );
    }
  });

  it("EIP-1559 transactions", () => {
    const wallet = new Wallet(ANVIL_DEV_PRIVATE_KEYS[1]!);
    const fields = {
      chainId: 31338n,
      nonce: 300n,
      maxPriorityFeePerGas: 1_000_000_000n,
      maxFeePerGas: 3_000_000_007n,
      gasLimit: 900_000n,
      to: A,
      data: `0x${"ee".repeat(70)}`,
    };
    const signed = signEip1559(wallet.signingKey, fields);
    // the same RFC 6979 signature as ethers' own signer, byte for byte
    const theirs = Transaction.from({
      type: 2,
      value: 0n,
      accessList: [],
      ...fields,
      nonce: Number(fields.nonce),
    });
    theirs.signature = wallet.signingKey.sign(theirs.unsignedHash);
    expect(signed.rawTx).toBe(theirs.serialized);
    const parsed = Transaction.from(signed.rawTx);
    expect(parsed.from).toBe(wallet.address);
    expect(parsed.hash).toBe(signed.txHash);
    expect({
      nonce: parsed.nonce,
      to: parsed.to,
      data: parsed.data,
      gasLimit: parsed.gasLimit,
      chainId: parsed.chainId,
    }).toEqual({
      nonce: 300,
      to: A,
      data: fields.data,
      gasLimit: 900_000n,
      chainId: 31338n,
    });
  });
});

describe("signature checks", () => {
  it("accepts exactly what ecrecover attributes to the performer, cached or not", () => {
    const performer = new Wallet(ANVIL_DEV_PRIVATE_KEYS[5]!);
    const other = new Wallet(ANVIL_DEV_PRIVATE_KEYS[6]!);
    for (let i = 0; i < 3; i++) {
      const hash = taskHash({
        proofOfTask: `p${i}`,
        data: "0x",
        performer: performer.address,
        taskDefinitionId: 1,
      });
      const sig = signTaskEcdsa(performer.privateKey, hash);
      expect(isTaskSignedBy(hash, sig, performer.address)).toBe(true);
      const flipped = sig.slice(0, 130) + (sig.endsWith("1b") ? "1c" : "1b");
      expect(isTaskSignedBy(hash, flipped, performer.address)).toBe(false);
      expect(isTaskSignedBy(hash, signTaskEcdsa(other.privateKey, hash), performer.address)).toBe(false);
      const otherHash = taskHash({
        proofOfTask: `q${i}`,
        data: "0x",
        performer: performer.address,
        taskDefinitionId: 1,
      });
      expect(isTaskSignedBy(otherHash, sig, performer.address)).toBe(false);
      // ecrecover takes the high-s twin (n - s, the other parity) as the same signer
      const s = BigInt(`0x${sig.slice(66, 130)}`);
      const twin = `${sig.slice(0, 66)}${(SECP256K1_N - s).toString(16).padStart(64, "0")}${sig.endsWith("1b") ? "1c" : "1b"}`;
      expect(isTaskSignedBy(hash, twin, performer.address)).toBe(true);
      const r = BigInt(sig.slice(0, 66));
      const rPlusN = `0x${(r + SECP256K1_N).toString(16).padStart(64, "0")}${sig.slice(66)}`;
      for (const bad of [
        rPlusN,
        `${sig.slice(0, 130)}00`,
        `${sig.slice(0, 130)}01`,
        `0x${"00".repeat(64)}1b`,
        sig.slice(0, 128),
      ]) {
        expect(isTaskSignedBy(hash, bad, performer.address)).toBe(false);
      }
    }
  });

  it("verifies a batch of aggregated votes with one multi-pairing and catches a bad item", async () => {
    await initBls();
    const sks = [2, 3, 4].map((i) => blsSecretFromSeed(ANVIL_DEV_PRIVATE_KEYS[i]!));
    const pks = sks.map(blsPublicKey);
    const items = Array.from({ length: 5 }, (_, i) => {
      const vh = voteHash({
        proofOfTask: `t${i}`,
        data: "0x",
        performer: A,
        taskDefinitionId: 1,
        attestationCenter: B,
        chainId: 1,
        isApproved: true,
      });
      const signers = i % 2 === 0 ? [0, 1] : [0, 1, 2];
      return {
        voteHash: vh,
        signature: aggregateSignatures(signers.map((j) => signVote(sks[j]!, vh))),
        publicKey: aggregatePublicKeys(signers.map((j) => pks[j]!)),
      };
    });
    expect(verifyBatch(items)).toBe(true);
    const bad = [...items];
    bad[3] = { ...bad[3]!, voteHash: items[2]!.voteHash };
    expect(verifyBatch(bad)).toBe(false);
    expect(verifyBatch([bad[2]!])).toBe(true);
    expect(verifyBatch([{ ...items[0]!, signature: [0n, 0n] }])).toBe(false);
  });
});
