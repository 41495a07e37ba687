/**
 * A worker thread of the code pool (code-pool.ts): runs one customCode node at a time in a
 * fresh sandbox, exactly as the main thread would (same Sandbox, same templates, same limits),
 * so its answer is the one a replay on any thread gives.
 */

import { parentPort } from "node:worker_threads";
import { runCodeJob } from "./code-job.ts";

parentPort?.on("message", (job) => {
  parentPort?.postMessage(runCodeJob(job));
});
