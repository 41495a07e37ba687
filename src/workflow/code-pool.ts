/**
 * Worker threads for customCode. node:vm's time limit stops code, but until it does the code
 * holds the thread it runs on: on the engine's main thread, one node busy for 1.5 s held every
 * other execution, every replay an attester asked for, and GET /health. A pool thread runs
 * the same job (code-job.ts) with the same sandbox and limits, so the answer is the same.
 * `size` jobs run at once; the rest wait their turn. Idle threads do not keep the process up.
 */

import { Worker } from "node:worker_threads";
import type { CodeAnswer, CodeJob } from "./code-job.ts";

interface Pending {
  job: CodeJob;
  resolve: (answer: CodeAnswer) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  current: Pending | undefined;
}

// dist runs compiled .js; tests run the sources, which Node strips of their types
const WORKER_URL = new URL(
  import.meta.url.endsWith(".ts") ? "./code-worker.ts" : "./code-worker.js",
  import.meta.url,
);

export class CodePool {
  private readonly size: number;
  private readonly slots: Slot[] = [];
  private readonly queue: Pending[] = [];
  private closed = false;

  constructor(size: number) {
    this.size = Math.max(1, Math.floor(size));
  }

  run(job: CodeJob): Promise<CodeAnswer> {
    if (this.closed) return Promise.reject(new Error("the code pool is closed"));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const pending of this.queue.splice(0)) pending.reject(new Error("the code pool is closed"));
    await Promise.all(this.slots.splice(0).map((slot) => slot.worker.terminate()));
  }

  private dispatch(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => s.current === undefined);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const pending = this.queue.shift()!;
      slot.current = pending;
      slot.worker.ref();
      slot.worker.postMessage(pending.job);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_URL, { name: "avsctl customCode" });
    const slot: Slot = { worker, current: undefined };
    worker.unref();
    worker.on("message", (answer: CodeAnswer) => {
      const pending = slot.current;
      slot.current = undefined;
      worker.unref();
      pending?.resolve(answer);
      this.dispatch();
    });
    const lost = (why: string): void => {
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      slot.current?.reject(new Error(`custom code stopped its worker thread: ${why}`));
      slot.current = undefined;
      if (!this.closed) this.dispatch();
    };
    worker.on("error", (error) => lost(error.message));
    worker.on("exit", (code) => lost(`it exited with code ${code}`));
    this.slots.push(slot);
    return slot;
  }
}
