/**
 * Drains the queue: claims a triggered execution, runs its workflow with the graph engine
 * (src/workflow) with the trigger data and the owner's secrets as apContext.configVars, and
 * records the result once. `concurrency` executions run at a time. A run cut short by stop()
 * is not recorded: its queue row stays, and the next start runs it again.
 */

import type { Logger } from "../node/log.js";
import type { CodePool } from "../workflow/code-pool.js";
import {
  type ExecutionRecord,
  InputTape,
  type Limits,
  type RecordedInput,
  runWorkflow,
  type Workflow,
  type WorkflowChain,
} from "../workflow/index.js";
import { maskSecrets, recordSecrets } from "../workflow/mask.js";
import type { EngineMetrics } from "./metrics.js";
import { type ExecutionDocument, executionDigest, executionDocument } from "./record.js";
import type { ExecutionResult, TaskStore } from "./store.js";
import type { Execution, Task } from "./types.js";
import { ulid } from "./ulid.js";

export interface WorkerOptions {
  store: TaskStore;
  log: Logger;
  metrics: EngineMetrics;
  concurrency: number;
  /** How long a claim holds an execution before another worker may take it again. */
  leaseMs: number;
  /** How often an idle worker looks at the queue without being told. */
  pollMs: number;
  mode: "simulate" | "run";
  chain?: WorkflowChain;
  /** The chain of each L2 a workflow may name (trigger.config.chainId). */
  chainsById?: ReadonlyMap<number, WorkflowChain>;
  limits?: Partial<Limits>;
  /** Where customCode runs, off the thread that answers HTTP. */
  codePool?: CodePool;
  now: () => number;
  /** Called with each execution as recorded (blocking triggers wait on it). */
  onRecorded: (execution: Execution) => void;
  /** Called with each execution as recorded and its record, when executions are attested. */
  attest?: (execution: Execution, doc: ExecutionDocument) => void;
}

/**
 * What the engine keeps of one run: the record with every secret masked and its digest, and,
 * when runs are attested, the document attesters replay it from (its inputs masked the same
 * way; the replay sees "***" for each secret). A workflow that both spells out a secret's value
 * and reads the secret cannot be replayed: its record keeps the value, the replay sees "***".
 */
export function sealRun(
  execution: Execution,
  workflow: Workflow,
  record: ExecutionRecord,
  run: { configVars: Record<string, string>; inputs: RecordedInput[]; attest: boolean },
): { result: ExecutionResult; doc: ExecutionDocument | undefined } {
  const secrets = recordSecrets(workflow, run.configVars);
  const masked = maskSecrets(record, secrets);
  const result: ExecutionResult = {
    status: masked.status,
    error: masked.error,
    steps: masked.steps,
    startAt: masked.startAt,
    endAt: masked.endAt,
    digest: executionDigest(execution, masked),
  };
  const doc = run.attest
    ? executionDocument(
        execution,
        workflow,
        masked,
        maskSecrets(run.inputs, secrets),
        Object.keys(run.configVars),
        result.digest,
      )
    : undefined;
  return { result, doc };
}

export class Worker {
  private readonly opts: WorkerOptions;
  private readonly controller = new AbortController();
  private readonly id = `worker-${ulid()}`;
  private readonly waiters = new Set<() => void>();
  private lastSweep = 0;
  private loops: Promise<void>[] = [];

  constructor(opts: WorkerOptions) {
    this.opts = opts;
  }

  start(): void {
    for (let i = 0; i < Math.max(1, this.opts.concurrency); i++) this.loops.push(this.loop());
  }

  /** Something was queued: idle loops look now instead of at their next poll. */
  notify(): void {
    for (const wake of [...this.waiters]) wake();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    this.notify();
    await Promise.all(this.loops);
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, this.opts.pollMs);
      this.waiters.add(done);
    });
  }

  private async loop(): Promise<void> {
    const { store, log } = this.opts;
    const signal = this.controller.signal;
    while (!signal.aborted) {
      let claimed: ReturnType<TaskStore["claim"]>;
      try {
        if (this.opts.now() - this.lastSweep >= this.opts.pollMs) {
          this.lastSweep = this.opts.now();
          for (const taskId of store.expireDue(this.lastSweep)) log.info("task expired", { taskId });
        }
        claimed = store.claim(this.id, this.opts.now(), this.opts.leaseMs);
      } catch (error) {
        log.error("queue unavailable", { error });
        await this.idle();
        continue;
      }
      if (!claimed) {
        await this.idle();
        continue;
      }
      try {
        await this.runOne(claimed.execution, claimed.task);
      } catch (error) {
        // the store failed while recording: the queue row stays, and the lease brings it back
        log.error("execution not recorded", {
          taskId: claimed.task.id,
          executionId: claimed.execution.id,
          error,
        });
      }
      // A run may settle through microtasks alone; without a turn of the event loop between
      // runs, a long queue would keep the HTTP server from answering until it is empty.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private async runOne(execution: Execution, task: Task): Promise<void> {
    const { store, metrics, now } = this.opts;
    const log = this.opts.log.child({ taskId: task.id, executionId: execution.id });
    log.info("execution started", { index: execution.index, attempt: execution.attempts });
    const configVars = store.configVars(task.owner, task.id);
    const signal = this.controller.signal;
    const tape = InputTape.recording();
    // a workflow naming an L2 reads (and writes) that one; an L2 the engine lacks gives it none
    const named = task.workflow.trigger.config.chainId;
    const chain = named === undefined ? this.opts.chain : this.opts.chainsById?.get(Number(named));
    let record: ExecutionRecord;
    try {
      record = await runWorkflow(task.workflow, {
        tape,
        mode: this.opts.mode,
        configVars,
        triggerData: execution.triggerData === null ? undefined : execution.triggerData,
        index: execution.index,
        id: execution.id,
        signal,
        now,
        ...(chain ? { chain } : {}),
        ...(this.opts.limits ? { limits: this.opts.limits } : {}),
        ...(this.opts.codePool ? { codePool: this.opts.codePool } : {}),
      });
    } catch (error) {
      const at = now();
      record = {
        id: execution.id,
        startAt: at,
        endAt: at,
        status: "error",
        error: error instanceof Error ? error.message : String(error),
        index: execution.index,
        steps: [],
      };
    }
    if (signal.aborted) {
      log.info("execution interrupted by shutdown; it stays queued");
      return;
    }
    // Built before the record is written, so both land in one write (only the execution's
    // stable fields go into it: id, task, index, trigger reason).
    const { result, doc } = sealRun(execution, task.workflow, record, {
      configVars,
      inputs: tape.inputs(),
      attest: this.opts.attest !== undefined,
    });
    const recorded = store.record(execution.id, result, now(), doc && JSON.stringify(doc));
    if (!recorded) {
      log.info("execution already recorded; this delivery changes nothing");
      return;
    }
    metrics.executions.inc({ status: result.status });
    metrics.executionLatency.observe(Math.max(0, result.endAt - execution.queuedAt) / 1000);
    for (const step of result.steps.slice(1))
      metrics.stepLatency.observe(Math.max(0, step.endAt - step.startAt) / 1000);
    log.info("execution recorded", {
      status: result.status,
      index: execution.index,
      digest: result.digest,
      taskStatus: recorded.task.status,
    });
    this.opts.onRecorded(recorded.execution);
    if (doc) this.opts.attest?.(recorded.execution, doc);
  }
}
