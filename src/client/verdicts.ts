import type { Log, Provider } from "ethers";
import { attestationCenterInterfaces } from "../chain/abi/interfaces.js";
import { fastTaskHashOfBytes } from "../chain/abi-fast.js";
import { chainDidNotAnswer } from "../chain/rpc.js";
import { checksumAddress } from "../crypto/address.js";
import { sleep } from "../util/sleep.js";

/** A task's on-chain outcome, from a TaskSubmitted or TaskRejected event (either generation). */
export interface TaskVerdict {
  status: "approved" | "rejected";
  taskHash: string;
  taskNumber: number;
  taskDefinitionId: number;
  proofOfTask: string;
  data: string;
  performer: string;
  chainId: number;
  txHash: string;
  blockNumber: number;
  attestersIds: number[];
}

export interface VerdictTopics {
  topics: string[];
  parse(log: Log, chainId: number): TaskVerdict | undefined;
}

/** Topics of the four verdict events and a parser that matches a log to its task hash. */
export async function verdictTopics(): Promise<VerdictTopics> {
  const { gen1, gen2 } = await attestationCenterInterfaces();
  const kinds = [
    { iface: gen2, name: "TaskSubmitted", status: "approved" as const, gen2: true },
    { iface: gen2, name: "TaskRejected", status: "rejected" as const, gen2: true },
    { iface: gen1, name: "TaskSubmitted", status: "approved" as const, gen2: false },
    { iface: gen1, name: "TaskRejected", status: "rejected" as const, gen2: false },
  ].map((k) => ({ ...k, topic: k.iface.getEvent(k.name)!.topicHash }));
  return {
    topics: kinds.map((k) => k.topic),
    parse(log, chainId) {
      const kind = kinds.find((k) => k.topic === log.topics[0]);
      if (!kind) return undefined;
      const fields = decodeVerdictLog(log.data, log.topics, kind.gen2);
      if (!fields) return undefined;
      const { attestersIds, ...task } = fields;
      // the key order of `--json` output
      return {
        status: kind.status,
        ...task,
        chainId,
        txHash: log.transactionHash,
        blockNumber: log.blockNumber,
        attestersIds,
      };
    },
  };
}

type VerdictFields = Pick<
  TaskVerdict,
  "taskHash" | "taskNumber" | "taskDefinitionId" | "proofOfTask" | "data" | "performer" | "attestersIds"
>;

/**
 * A verdict event's fields, read from its words without an ABI coder: `task list` and lookups
 * by number scan every verdict of the chain, and ethers' coder and its task hash cost about
 * 0.7 ms an event (5 s for 7,000 tasks). Generation 2 indexes the performer and the definition;
 * generation 1 indexes nothing (and carries no attester ids). undefined for data that does not
 * decode (another contract's event under the same topic).
 */
export function decodeVerdictLog(
  data: string,
  topics: readonly string[],
  gen2: boolean,
): VerdictFields | undefined {
  const hex = data.startsWith("0x") ? data.slice(2) : data;
  if (hex.length % 64 !== 0) return undefined;
  const words = hex.length / 64;
  /** A word as a number; undefined past the data or above 2^48 (no offset, id or count is). */
  const small = (index: number): number | undefined => {
    if (!Number.isInteger(index) || index < 0 || index >= words) return undefined;
    const w = hex.slice(index * 64, index * 64 + 64);
    return /^0{52}[0-9a-fA-F]{12}$/.test(w) ? Number.parseInt(w.slice(52), 16) : undefined;
  };
  /** The bytes of a dynamic value whose offset sits in word `at`, as lowercase hex. */
  const dynamic = (at: number): string | undefined => {
    const offset = small(at);
    if (offset === undefined || offset % 32 !== 0) return undefined;
    const length = small(offset / 32);
    if (length === undefined) return undefined;
    const start = offset * 2 + 64;
    if (start + length * 2 > hex.length) return undefined;
    return hex.slice(start, start + length * 2).toLowerCase();
  };
  const addressIn = (w: string | undefined): string | undefined =>
    w !== undefined && /^(0x)?0{24}[0-9a-fA-F]{40}$/.test(w)
      ? checksumAddress(`0x${w.slice(-40)}`, "operator")
      : undefined;
  let performer: string | undefined;
  let taskNumber: number | undefined;
  let taskDefinitionId: number | undefined;
  let proofHex: string | undefined;
  let dataHex: string | undefined;
  let attestersIds: number[] = [];
  if (gen2) {
    performer = addressIn(topics[1]);
    taskDefinitionId = topics[2] !== undefined ? Number(BigInt(topics[2])) : undefined;
    taskNumber = small(0);
    proofHex = dynamic(1);
    dataHex = dynamic(2);
    const idsAt = small(3);
    const count = idsAt === undefined || idsAt % 32 !== 0 ? undefined : small(idsAt / 32);
    if (count === undefined || idsAt! / 32 + count >= words) return undefined;
    attestersIds = Array.from({ length: count }, (_, i) =>
      Number(BigInt(`0x${hex.slice((idsAt! / 32 + 1 + i) * 64, (idsAt! / 32 + 2 + i) * 64)}`)),
    );
  } else {
    performer = addressIn(hex.slice(0, 64));
    taskNumber = small(1);
    proofHex = dynamic(2);
    dataHex = dynamic(3);
    taskDefinitionId = small(4);
  }
  if (
    performer === undefined ||
    taskNumber === undefined ||
    taskNumber > 0xffffffff ||
    taskDefinitionId === undefined ||
    taskDefinitionId > 0xffff ||
    proofHex === undefined ||
    dataHex === undefined
  ) {
    return undefined;
  }
  return {
    taskHash: fastTaskHashOfBytes(proofHex, dataHex, performer, taskDefinitionId),
    taskNumber,
    taskDefinitionId,
    proofOfTask: Buffer.from(proofHex, "hex").toString("utf8"),
    data: `0x${dataHex}`,
    performer,
    attestersIds,
  };
}

export interface VerdictQuery {
  provider: Provider;
  attestationCenter: string;
  chainId: number;
  fromBlock?: number;
  toBlock?: number | "latest";
}

/**
 * Every verdict in a block range, oldest first. The part of the range past the chain's head
 * holds none (a node refuses a range that ends there: anvil's BlockOutOfRangeError), so a
 * range wholly past it is empty.
 */
export async function readVerdicts(q: VerdictQuery): Promise<TaskVerdict[]> {
  const v = await verdictTopics();
  const head = await q.provider.getBlockNumber();
  const to = q.toBlock === undefined || q.toBlock === "latest" ? head : Math.min(q.toBlock, head);
  const from = q.fromBlock ?? 0;
  if (from > to) return [];
  const logs = await logsInRange(q, v.topics, from, to);
  return logs.map((l) => v.parse(l, q.chainId)).filter((x): x is TaskVerdict => x !== undefined);
}

/** How a node refuses an eth_getLogs range as too wide or its answer as too big, by provider. */
const RANGE_REFUSAL = /range|limit|exceed|too (many|large|wide|big)|more than|response size/i;
/** A rate limit: halving the range would only ask more often. */
const RATE_LIMITED = /rate.?limit|too many requests/i;

/**
 * The verdict logs of blocks `from`..`to`: one request, as a devnet answers it; a range the
 * node refuses (hosted RPCs cap eth_getLogs at a few thousand blocks or results) is asked
 * again in halves. Any other failure, and a refusal of a single block, is thrown as it came.
 */
async function logsInRange(q: VerdictQuery, topics: string[], from: number, to: number): Promise<Log[]> {
  try {
    return await q.provider.getLogs({
      address: q.attestationCenter,
      topics: [topics],
      fromBlock: from,
      toBlock: to,
    });
  } catch (error) {
    const message = rpcErrorMessage(error);
    if (to <= from || !RANGE_REFUSAL.test(message) || RATE_LIMITED.test(message)) throw error;
    const mid = from + Math.floor((to - from) / 2);
    return [...(await logsInRange(q, topics, from, mid)), ...(await logsInRange(q, topics, mid + 1, to))];
  }
}

/** The node's own message in an ethers error (`error.error.message`), else the error's. */
function rpcErrorMessage(error: unknown): string {
  const e = error as { error?: { message?: unknown }; message?: unknown };
  if (typeof e?.error?.message === "string") return e.error.message;
  return typeof e?.message === "string" ? e.message : "";
}

/**
 * The verdict of one task in the receipt of the transaction that submitted it: one read, where
 * finding a task by hash otherwise scans every verdict of the chain. undefined when the receipt
 * is missing (a chain that lost it) or holds no verdict of that task.
 */
export async function verdictInTransaction(
  q: Pick<VerdictQuery, "provider" | "attestationCenter" | "chainId">,
  txHash: string,
  hash: string,
): Promise<TaskVerdict | undefined> {
  const key = hash.toLowerCase();
  return (await verdictsInReceipts(q, [txHash], new Set([key]))).get(key);
}

/** The verdicts of the `wanted` task hashes (lowercase) that the receipts of `txHashes` hold. */
async function verdictsInReceipts(
  q: Pick<VerdictQuery, "provider" | "attestationCenter" | "chainId">,
  txHashes: Iterable<string>,
  wanted: ReadonlySet<string>,
): Promise<Map<string, TaskVerdict>> {
  const v = await verdictTopics();
  const found = new Map<string, TaskVerdict>();
  const receipts = await Promise.all([...txHashes].map((tx) => q.provider.getTransactionReceipt(tx)));
  for (const receipt of receipts) {
    for (const log of receipt?.logs ?? []) {
      if (log.address.toLowerCase() !== q.attestationCenter.toLowerCase()) continue;
      const verdict = v.parse(log as unknown as Log, q.chainId);
      const key = verdict?.taskHash.toLowerCase();
      if (verdict && key && wanted.has(key)) found.set(key, verdict);
    }
  }
  return found;
}

/** How often a chain that does not answer is asked again while it is down. */
const UNANSWERED_POLL_MS = 250;

/**
 * What a follower does with a chain that stops answering (one a supervisor is starting again):
 * it asks again instead of ending, telling `unanswered` of each read that failed so. A chain
 * started again from its state file may have lost its last blocks and mined others in their
 * place, so once it answers again its verdicts from `fromBlock` on are read again whole and
 * given to `reread`, which replaces everything seen before: a verdict missing there was lost.
 */
export interface RideOut {
  unanswered(error: unknown): void;
  reread(verdicts: TaskVerdict[]): void;
}

/**
 * Every new verdict from `fromBlock` on, as blocks arrive, until `until` (ms) or the signal.
 * The head is asked for directly: ethers may answer from a block number cached a moment ago.
 * Without `rideOut`, a read that fails ends the follow with its error.
 */
export async function* followVerdicts(
  q: VerdictQuery & { fromBlock: number },
  opts: { until: number; signal?: AbortSignal; pollMs?: number; rideOut?: RideOut },
): AsyncGenerator<TaskVerdict> {
  const v = await verdictTopics();
  let from = q.fromBlock;
  let down = false;
  while (Date.now() < opts.until && !opts.signal?.aborted) {
    let head: number;
    let logs: Log[] = [];
    try {
      head = Number(await (q.provider as import("ethers").JsonRpcProvider).send("eth_blockNumber", []));
      if (down) from = q.fromBlock;
      if (head >= from) logs = await logsInRange(q, v.topics, from, head);
    } catch (error) {
      if (!opts.rideOut || !chainDidNotAnswer(error)) throw error;
      down = true;
      opts.rideOut.unanswered(error);
      await sleep(Math.max(opts.pollMs ?? 100, UNANSWERED_POLL_MS), opts.signal);
      continue;
    }
    const verdicts = logs.map((log) => v.parse(log, q.chainId)).filter((x): x is TaskVerdict => !!x);
    if (down) {
      down = false;
      opts.rideOut?.reread(verdicts);
    } else {
      yield* verdicts;
    }
    if (head >= from) from = head + 1;
    await sleep(opts.pollMs ?? 100, opts.signal);
  }
}

/**
 * Follows the chain until every awaited task hash has a verdict or the deadline passes.
 * Matching is by task hash recomputed from each event, never by "the latest event".
 */
export async function waitForVerdicts(
  q: VerdictQuery & { fromBlock: number },
  hashes: Iterable<string>,
  opts: { deadline: number; signal?: AbortSignal; pollMs?: number; onVerdict?: (v: TaskVerdict) => void },
): Promise<Map<string, TaskVerdict>> {
  const pending = new Set([...hashes].map((h) => h.toLowerCase()));
  const found = new Map<string, TaskVerdict>();
  if (pending.size === 0) return found;
  const watch = new VerdictWatch(q, opts);
  try {
    await watch.until(pending, {
      signal: opts.signal,
      onVerdict: (key, { verdict }) => {
        found.set(key, verdict);
        opts.onVerdict?.(verdict);
      },
    });
  } finally {
    await watch.stop();
  }
  return found;
}

/**
 * Every verdict that lands from `fromBlock` on, with the time this process first saw it, while
 * the watch runs (until the deadline or stop()): started before a run's first send, it times
 * each task from its send to its verdict even while later tasks are still being sent. A chain
 * that stops answering is read on until the deadline (a supervisor may be starting it again):
 * `unanswered` says whether it still did not answer when the watch ended, and a verdict in
 * blocks it lost meanwhile is no longer seen.
 */
export class VerdictWatch {
  readonly seen = new Map<string, { verdict: TaskVerdict; at: number }>();
  /** The keys of `seen` in the order they came, so a waiter looks only at the new ones. */
  private readonly order: string[] = [];
  /** Keys whose verdict the chain no longer held when it answered again, in that order. */
  private readonly lost: string[] = [];
  private readonly stopper = new AbortController();
  private readonly done: Promise<void>;
  private failure: unknown;
  private down: unknown;
  private ended = false;
  private wake: (() => void) | undefined;

  constructor(
    q: VerdictQuery & { fromBlock: number },
    opts: { deadline: number; signal?: AbortSignal; pollMs?: number },
  ) {
    const signal = opts.signal ? AbortSignal.any([opts.signal, this.stopper.signal]) : this.stopper.signal;
    this.done = (async () => {
      try {
        for await (const verdict of followVerdicts(q, {
          until: opts.deadline,
          signal,
          pollMs: opts.pollMs,
          rideOut: {
            unanswered: (error) => {
              this.down = error;
            },
            reread: (verdicts) => {
              this.down = undefined;
              this.replaceSeen(verdicts);
            },
          },
        })) {
          this.add(verdict);
          this.wake?.();
        }
      } catch (error) {
        if (!signal.aborted) this.failure = error;
      } finally {
        this.ended = true;
        this.wake?.();
      }
    })();
  }

  private add(verdict: TaskVerdict): void {
    const key = verdict.taskHash.toLowerCase();
    const held = this.seen.get(key);
    if (!held) {
      this.seen.set(key, { verdict, at: Date.now() });
      this.order.push(key);
    } else if (held.verdict.txHash !== verdict.txHash) {
      // the chain lost the block it was in, and the submission landed again in another
      this.seen.set(key, { verdict, at: held.at });
    }
  }

  /** The chain answered again: what it holds now stands, and a verdict it lost is none. */
  private replaceSeen(verdicts: TaskVerdict[]): void {
    const held = new Set(verdicts.map((v) => v.taskHash.toLowerCase()));
    for (const key of [...this.seen.keys()]) {
      if (held.has(key)) continue;
      this.seen.delete(key);
      this.lost.push(key);
    }
    for (const verdict of verdicts) this.add(verdict);
    this.wake?.();
  }

  /**
   * Waits until every hash of `pending` was seen (each is removed from it as it is, and passed
   * to onVerdict), the watch ends (deadline) or `signal` aborts. A verdict passed on that the
   * chain then lost goes back into `pending`, and to onLost. Throws what stopped the following,
   * if anything did.
   */
  async until(
    pending: Set<string>,
    opts: {
      signal?: AbortSignal;
      onVerdict?: (key: string, seen: { verdict: TaskVerdict; at: number }) => void;
      onLost?: (key: string) => void;
    },
  ): Promise<void> {
    const passedOn = new Set<string>();
    const take = (key: string) => {
      const hit = this.seen.get(key);
      if (!hit || !pending.delete(key)) return;
      passedOn.add(key);
      opts.onVerdict?.(key, hit);
    };
    // what was seen before, then on each wake only what came since: a large run stays linear
    let cursor = this.order.length;
    let lostCursor = this.lost.length;
    for (const key of [...pending]) take(key);
    for (;;) {
      for (; lostCursor < this.lost.length; lostCursor++) {
        const key = this.lost[lostCursor]!;
        if (!passedOn.delete(key)) continue;
        pending.add(key);
        opts.onLost?.(key);
      }
      for (; cursor < this.order.length; cursor++) take(this.order[cursor]!);
      if (this.failure !== undefined) throw this.failure;
      if (pending.size === 0 || this.ended || opts.signal?.aborted) return;
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        this.wake = () => {
          opts.signal?.removeEventListener("abort", onAbort);
          resolve();
        };
        opts.signal?.addEventListener("abort", onAbort, { once: true });
      });
      this.wake = undefined;
    }
  }

  /** The error of the chain's last read while it does not answer; undefined while it answers. */
  get unanswered(): unknown {
    return this.down;
  }

  async stop(): Promise<void> {
    this.stopper.abort();
    await this.done;
  }
}

/**
 * Verdicts that already exist for these task hashes, so a task decided before this command
 * started is reported at once. The aggregator's journal names the transaction of each decided
 * task (one batch call); the verdict itself is read from that transaction's logs on-chain.
 * Hashes in `history` that the journal cannot place (a foreign aggregator, a journal wiped)
 * are looked for in the chain's whole history.
 */
export async function lookupVerdicts(
  q: VerdictQuery & { aggregatorUrl?: string },
  hashes: Iterable<string>,
  history: ReadonlySet<string> = new Set(),
): Promise<Map<string, TaskVerdict>> {
  const wanted = [...new Set([...hashes].map((h) => h.toLowerCase()))];
  const found = new Map<string, TaskVerdict>();
  const unplaced = new Set(wanted.filter((h) => history.has(h)));
  if (wanted.length === 0) return found;
  if (q.aggregatorUrl) {
    const { rpcBatch } = await import("../chain/json-rpc.js");
    const answers = await rpcBatch(
      q.aggregatorUrl,
      wanted.map((h) => ({ method: "avsctl_taskStatus", params: [h, q.chainId] })),
      { timeoutMs: 15_000 },
    ).catch(() => undefined);
    const txs = new Set<string>();
    answers?.forEach((a, i) => {
      const row = a.result as { status?: string; txHash?: string | null } | undefined;
      if (!row) return;
      unplaced.delete(wanted[i]!);
      if ((row.status === "approved" || row.status === "rejected") && row.txHash) txs.add(row.txHash);
    });
    for (const [key, verdict] of await verdictsInReceipts(q, txs, new Set(wanted))) found.set(key, verdict);
  }
  if (unplaced.size > 0) {
    for (const verdict of await readVerdicts(q)) {
      const key = verdict.taskHash.toLowerCase();
      if (unplaced.has(key)) found.set(key, verdict);
    }
  }
  return found;
}
