/**
 * A process entry for the task engine, until the devnet and the CLI start it:
 *
 *   node dist/task-engine/main.js --store <file> [--port 0] [--host 127.0.0.1]
 *        [--chain-id 31337] [--concurrency 4] [--verbose] [--operator-secret s]
 *
 * Logs are JSON lines on stdout; the "task engine listening" line carries the URL. SIGTERM and
 * SIGINT stop it cleanly (a running execution stays queued and runs at the next start).
 */

import { parseArgs } from "node:util";
import { startTaskEngine } from "./service.js";
import { attestSettings } from "./settings.js";
import { watcherFromEnv } from "./watch.js";

function intOption(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
}

async function main(): Promise<void> {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      options: {
        store: { type: "string" },
        port: { type: "string" },
        host: { type: "string" },
        "chain-id": { type: "string" },
        concurrency: { type: "string" },
        verbose: { type: "boolean" },
        "operator-secret": { type: "string" },
      },
    }).values;
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  const storeFile = typeof values.store === "string" ? values.store : process.env.AVSCTL_ENGINE_STORE;
  if (!storeFile) {
    process.stderr.write(
      "usage: main.js --store <file> [--port n] [--host h] [--chain-id n] [--concurrency n]\n",
    );
    process.exitCode = 2;
    return;
  }
  const operatorSecret =
    typeof values["operator-secret"] === "string"
      ? values["operator-secret"]
      : process.env.AVSCTL_ENGINE_OPERATOR_SECRET;
  const engine = await startTaskEngine({
    storeFile,
    host: typeof values.host === "string" ? values.host : "127.0.0.1",
    port: intOption(values.port as string | undefined, "port", 0),
    chainId: intOption(values["chain-id"] as string | undefined, "chain-id", 31337),
    concurrency: intOption(values.concurrency as string | undefined, "concurrency", 4),
    verbose: values.verbose === true,
    ...(operatorSecret ? { operatorSecret } : {}),
    ...(await attestSettings(process.env)),
    log: (record) => {
      process.stdout.write(`${JSON.stringify(record)}\n`);
    },
  });
  const watcher = await watcherFromEnv(process.env, engine.url, operatorSecret);
  const shutdown = (): void => {
    void Promise.resolve(watcher?.stop())
      .then(() => engine.stop())
      .finally(() => {
        process.exitCode ??= 0;
      });
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`task engine: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
