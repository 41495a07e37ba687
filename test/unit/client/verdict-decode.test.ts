/**
 * The verdict events decoded word by word (what `task status`, `task list` and `task trace`
 * scan) against ethers' coder and the reference task hash, for both contract generations.
 */
import { AbiCoder, Interface, keccak256 } from "ethers";
import { describe, expect, it } from "vitest";
import {
  ATTESTATION_CENTER_GEN1,
  ATTESTATION_CENTER_GEN2,
} from "../../../src/chain/abi/attestation-center.js";
import { decodeVerdictLog } from "../../../src/client/verdicts.js";
import { taskHash } from "../../../src/crypto/task-hash.js";

const gen1 = new Interface(ATTESTATION_CENTER_GEN1);
const gen2 = new Interface(ATTESTATION_CENTER_GEN2);
const PERFORMER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC";

const tasks = [
  {
    proofOfTask: "QmRMPVebEYNz1UAtXdJyMQDGJsJmtivm7srBnFCtFwokwk",
    data: "0x",
    taskDefinitionId: 1,
    taskNumber: 1,
  },
  {
    proofOfTask: "ünïcødé proof ✓ 🚀",
    data: `0x${"ab".repeat(100)}`,
    taskDefinitionId: 65_535,
    taskNumber: 2 ** 32 - 1,
  },
  { proofOfTask: "", data: "0x01", taskDefinitionId: 0, taskNumber: 7 },
];

describe("verdict events decoded without an ABI coder", () => {
  for (const [name, iface, isGen2] of [
    ["generation 2", gen2, true],
    ["generation 1", gen1, false],
  ] as const) {
    for (const event of ["TaskSubmitted", "TaskRejected"]) {
      it(`${name} ${event}: the fields and task hash ethers finds`, () => {
        for (const [i, t] of tasks.entries()) {
          const ids = Array.from({ length: i * 5 }, (_, k) => BigInt(k + 3));
          const args = isGen2
            ? [PERFORMER, t.taskNumber, t.proofOfTask, t.data, t.taskDefinitionId, ids]
            : [PERFORMER, t.taskNumber, t.proofOfTask, t.data, t.taskDefinitionId];
          const log = iface.encodeEventLog(event, args);
          const parsed = iface.parseLog(log)!;
          expect(decodeVerdictLog(log.data, log.topics, isGen2)).toEqual({
            taskHash: taskHash({ ...t, performer: PERFORMER }),
            taskNumber: Number(parsed.args.taskNumber),
            taskDefinitionId: Number(parsed.args.taskDefinitionId),
            proofOfTask: parsed.args.proofOfTask,
            data: parsed.args.data,
            performer: parsed.args.operator,
            attestersIds: isGen2 ? ids.map(Number) : [],
          });
        }
      });
    }
  }

  it("hashes a proof that is not UTF-8 from its bytes, as the contract did", () => {
    const coder = AbiCoder.defaultAbiCoder();
    const proof = "0xfffe41";
    // string and bytes share one encoding: the event as the contract wrote it
    const data = coder.encode(["uint32", "bytes", "bytes", "uint256[]"], [9, proof, "0x02", [3n]]);
    const topics = gen2.encodeEventLog("TaskSubmitted", [PERFORMER, 9, "", "0x", 1, []]).topics;
    const decoded = decodeVerdictLog(data, topics, true);
    expect(decoded?.taskHash).toBe(
      keccak256(coder.encode(["bytes", "bytes", "address", "uint16"], [proof, "0x02", PERFORMER, 1])),
    );
    expect(decoded?.proofOfTask).toBe("\uFFFD\uFFFDA");
  });

  it("gives nothing for data that does not decode", () => {
    const log = gen2.encodeEventLog("TaskSubmitted", [PERFORMER, 1, "proof", "0x01", 1, [3n, 4n]]);
    const words = log.data.slice(2).match(/.{64}/g)!;
    const join = (w: string[]) => `0x${w.join("")}`;
    expect(decodeVerdictLog(join(words.slice(0, -1)), log.topics, true)).toBeUndefined();
    const pastTheEnd = [...words];
    pastTheEnd[1] = (32 * 40).toString(16).padStart(64, "0");
    expect(decodeVerdictLog(join(pastTheEnd), log.topics, true)).toBeUndefined();
    const huge = [...words];
    huge[0] = "f".repeat(64);
    expect(decodeVerdictLog(join(huge), log.topics, true)).toBeUndefined();
    expect(decodeVerdictLog("0x", log.topics, true)).toBeUndefined();
    expect(decodeVerdictLog(`${log.data}00`, log.topics, true)).toBeUndefined();
    expect(decodeVerdictLog(log.data, [log.topics[0]!], true)).toBeUndefined();
  });
});
