/**
 * Each recorded execution as an AVS task. The engine performs it as the operator elected for
 * it, by the trigger runner's round robin (src/triggers/leader.ts) over the active operators of
 * the L2 the workflow names (its first L2 by default), with that operator's key: it stores the
 * execution record in IPFS, sends the task to the aggregator (proofOfTask: the digest; data: the
 * record's CID; the engine's task definition; targetChainId: that L2), then follows the
 * aggregator's journal until the verdict is on-chain and keeps its task number, transaction and
 * verdict with the execution. Attesters validate through the engine's `POST /task/validate`,
 * which re-runs the record from its inputs (record.ts) and checks its sent transactions on
 * their chain (tx-check.ts).
 */

import { rpcRequest } from "../chain/json-rpc.js";
import { sendTaskRpc } from "../client/send.js";
import { lookupVerdicts } from "../client/verdicts.js";
import { toDataHex } from "../crypto/bytes.js";
import type { TaskStatusReport } from "../node/aggregator/tasks.js";
import type { Logger } from "../node/log.js";
import type { L2Target } from "../node/options.js";
import { Semaphore } from "../node/util.js";
import { sleep } from "../util/sleep.js";
import type { CodePool } from "../workflow/code-pool.js";
import { electFor, type PerformerKeys, targetL2 } from "./election.js";
import { HttpError, type Route } from "./http.js";
import { type ExecutionDocument, replayExecution } from "./record.js";
import type { TaskStore } from "./store.js";
import type { ChainLookup } from "./tx-check.js";
import type { Execution, NoVerdict } from "./types.js";

export interface AttestOptions extends PerformerKeys {
  aggregatorUrl: string;
  taskDefinitionId: number;
  /** Pinata's API base (records are pinned with pinJSONToIPFS). */
  pinataUrl: string;
  /** The L2s an execution may be attested on; the first is where a workflow naming none goes. */
  l2s: L2Target[];
  /** How long to follow a task for its verdict (default 2 minutes). */
  verdictTimeoutMs?: number;
}

/** Pins a JSON document with Pinata's API; answers its CID. */
export async function pinJson(pinataUrl: string, content: unknown, signal?: AbortSignal): Promise<string> {
  const timeout = AbortSignal.timeout(30_000);
  const response = await fetch(`${pinataUrl.replace(/\/$/, "")}/pinning/pinJSONToIPFS`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ pinataContent: content, pinataOptions: { cidVersion: 1 } }),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  const body = (await response.json().catch(() => undefined)) as { IpfsHash?: string } | undefined;
  if (!response.ok || typeof body?.IpfsHash !== "string")
    throw new Error(`pinning the execution record answered HTTP ${response.status}`);
  return body.IpfsHash;
}

/** Sends recorded executions as tasks and records their verdicts. */
export class Attestations {
  private readonly running = new Set<Promise<void>>();
  private readonly controller = new AbortController();
  /** Attestations followed at once; the rest wait their turn (each polls the aggregator). */
  private readonly slots = new Semaphore(32);
  private readonly providers = new Map<number, import("ethers").JsonRpcProvider>();

  constructor(
    private readonly opts: AttestOptions,
    private readonly store: TaskStore,
    private readonly log: Logger,
  ) {}

  /** Follows a recorded execution whose record the store already keeps (TaskStore.record). */
  submit(execution: Execution, doc: ExecutionDocument): void {
    this.follow(execution, doc);
  }

  /** Sends again what was sent for attestation before a restart and has no verdict yet. */
  resume(): number {
    const pending = this.store.unattested();
    for (const { execution, record } of pending)
      this.follow(execution, JSON.parse(record) as ExecutionDocument);
    return pending.length;
  }

  private follow(execution: Execution, doc: ExecutionDocument): void {
    const log = this.log.child({ taskId: execution.taskId, executionId: execution.id });
    const p = this.slots
      .run(() => this.attestWithRetries(execution, doc, log))
      .catch((error: unknown) => {
        if (!this.controller.signal.aborted) log.error("execution not attested", { error });
      });
    this.running.add(p);
    void p.finally(() => this.running.delete(p));
  }

  /**
   * A failed send or lookup (an aggregator restarting, the IPFS node busy) is tried again a few
   * times; a re-sent task the aggregator already has is answered as known, so this is safe.
   * What still fails stays in the store and is sent again at the next start.
   */
  private async attestWithRetries(execution: Execution, doc: ExecutionDocument, log: Logger): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attest(execution, doc, log);
      } catch (error) {
        if (this.controller.signal.aborted || attempt >= 5) throw error;
        log.warn("attestation failed; trying again", { error: (error as Error).message, attempt });
        await sleep(1000 * attempt, this.controller.signal).catch(() => {});
      }
    }
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await Promise.all([...this.running]);
    for (const p of this.providers.values()) p.destroy();
  }

  private async attest(execution: Execution, doc: ExecutionDocument, log: Logger): Promise<void> {
    const { opts } = this;
    const signal = this.controller.signal;
    const l2 = targetL2(opts.l2s, doc.workflow);
    if (!l2) {
      // create refuses such a workflow when it knows the L2s; one stored before stays unattested
      log.error("the workflow names an L2 this engine does not attest on", {
        chainId: doc.workflow.trigger?.config?.chainId,
      });
      return;
    }
    // elected once and kept: a restart sends the same task (same performer, same record)
    const fresh = this.store.getExecution(execution.id) ?? execution;
    const elected = await electFor(opts, l2, fresh, signal);
    if (!fresh.performer) {
      this.store.elected(execution.id, elected);
      log.info("performer elected", {
        performer: elected.performer,
        chainId: elected.chainId,
        electedAt: elected.electedAt,
      });
    }
    const pinned: ExecutionDocument = {
      ...doc,
      performer: elected.performer,
      chainId: elected.chainId,
      electedAt: elected.electedAt,
    };
    const cid = await pinJson(opts.pinataUrl, pinned, signal);
    const sent = await sendTaskRpc(
      { proofOfTask: doc.digest, data: toDataHex(cid), taskDefinitionId: opts.taskDefinitionId },
      {
        aggregatorUrl: opts.aggregatorUrl,
        performerKey: elected.key,
        sigType: "ecdsa",
        // the aggregator's default is its first L2: name another one only
        ...(l2 === opts.l2s[0] ? {} : { targetChainId: l2.chainId }),
      },
    );
    log.info("execution sent as a task", {
      cid,
      taskHash: sent.taskHash,
      performer: sent.performer,
      chainId: l2.chainId,
      known: sent.known === true,
    });
    let provider = this.providers.get(l2.chainId);
    if (!provider) {
      const { chainProvider } = await import("../chain/rpc.js");
      provider = await chainProvider(l2.rpcUrl, l2.chainId);
      this.providers.set(l2.chainId, provider);
    }
    const query = {
      provider,
      attestationCenter: l2.attestationCenter,
      chainId: l2.chainId,
      aggregatorUrl: opts.aggregatorUrl,
    };
    const followMs = opts.verdictTimeoutMs ?? 120_000;
    const deadline = Date.now() + followMs;
    while (Date.now() < deadline && !signal.aborted) {
      const verdict = (await lookupVerdicts(query, [sent.taskHash])).get(sent.taskHash.toLowerCase());
      if (!verdict) {
        const ended = await journalEnd(opts.aggregatorUrl, sent.taskHash, l2.chainId);
        if (ended) {
          this.store.noVerdict(execution.id, ended, true);
          log.warn("the task ended without a verdict; the execution stays unattested", { ...ended });
          return;
        }
      }
      if (verdict) {
        this.store.attested(execution.id, {
          taskNumber: verdict.taskNumber,
          txHash: verdict.txHash,
          verdict: verdict.status,
        });
        log.info("execution attested", {
          taskHash: sent.taskHash,
          taskNumber: verdict.taskNumber,
          txHash: verdict.txHash,
          verdict: verdict.status,
        });
        return;
      }
      await sleep(300, signal).catch(() => {});
    }
    if (!signal.aborted) {
      const reason = `no verdict within ${Math.round(followMs / 1000)} s of sending the task`;
      this.store.noVerdict(
        execution.id,
        { status: "timeout", reason, abstained: [], taskHash: sent.taskHash },
        false,
      );
      log.warn("no verdict in time; the execution stays unattested", { taskHash: sent.taskHash, reason });
    }
  }
}

/**
 * How the aggregator's journal ended a task without a verdict (`unreachable`, `timeout`,
 * `failed`, as `avsctl task status` shows it); undefined while it is in progress, once it has a
 * verdict, or when the journal cannot be read.
 */
async function journalEnd(
  aggregatorUrl: string,
  taskHash: string,
  chainId: number,
): Promise<NoVerdict | undefined> {
  const answer = await rpcRequest<TaskStatusReport | null>(
    aggregatorUrl,
    "avsctl_taskStatus",
    [taskHash, chainId],
    {
      timeoutMs: 5_000,
    },
  ).catch(() => undefined);
  const row = answer?.result;
  if (!row || (row.status !== "unreachable" && row.status !== "timeout" && row.status !== "failed"))
    return undefined;
  const abstained = (row.reason?.abstained ?? []).map(
    (a) => `attester ${a.operatorId} (${a.attester}) abstained: ${a.reason}`,
  );
  return { status: row.status, reason: row.reason?.message ?? row.error ?? row.status, abstained, taskHash };
}

/** The task's data as the CID it carries (0x-hex of its text, or the text itself). */
export function cidOf(data: string): string | undefined {
  const text = /^0x([0-9a-fA-F]{2})*$/.test(data) ? Buffer.from(data.slice(2), "hex").toString("utf8") : data;
  return /^[a-zA-Z0-9]{16,128}$/.test(text) ? text : undefined;
}

/**
 * `POST /task/validate` (Othentic's validation shape): fetches the record named by `data`
 * from the IPFS gateway, re-runs it, compares digests and checks its sent transactions on
 * `chains`. `{data: true|false, error: false, message}`; 500 `{error: true, message}` (an
 * abstention) when the record cannot be fetched.
 */
export function validationRoute(
  gatewayUrl: string | undefined,
  chains?: ChainLookup,
  codePool?: CodePool,
): Route {
  return {
    method: "POST",
    path: "/task/validate",
    auth: false,
    handle: async (ctx) => {
      const body = await ctx.body();
      const { proofOfTask, data } = body;
      if (typeof proofOfTask !== "string" || typeof data !== "string")
        throw new HttpError(400, "INVALID_REQUEST", "proofOfTask and data are required strings");
      const answer = (valid: boolean, message: string) => ({
        status: 200,
        body: { data: valid, error: false, message },
      });
      const cid = cidOf(data);
      if (!cid) return answer(false, "data is not the CID of an execution record");
      ctx.logFields.cid = cid;
      if (!gatewayUrl)
        return { status: 500, body: { data: null, error: true, message: "the engine has no IPFS gateway" } };
      let response: Response;
      try {
        response = await fetch(`${gatewayUrl.replace(/\/?$/, "/")}${cid}`, {
          signal: AbortSignal.timeout(15_000),
        });
      } catch (error) {
        const message = `the IPFS gateway is unreachable: ${(error as Error).message}`;
        return { status: 500, body: { data: null, error: true, message } };
      }
      if (!response.ok) return answer(false, `the record ${cid} is not in IPFS (HTTP ${response.status})`);
      let doc: unknown;
      try {
        doc = await response.json();
      } catch {
        return answer(false, `the record ${cid} is not JSON`);
      }
      // without chains nothing can vouch for a sent transaction: such a record is refused
      const outcome = await replayExecution(doc, proofOfTask, {
        chains: chains ?? (() => undefined),
        ...(codePool ? { codePool } : {}),
      });
      ctx.logFields.valid = outcome.valid;
      return outcome.valid ? answer(true, "the replay gives the same digest") : answer(false, outcome.reason);
    },
  };
}
