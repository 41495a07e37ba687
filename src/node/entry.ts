/**
 * A minimal process entry for one node, until `avsctl node aggregator|attester` takes over:
 *
 *   node dist/node/entry.js aggregator|attester ['<options JSON>']
 *
 * Options come from the Othentic environment names (nodeOptionsFromEnv), overlaid with the
 * JSON argument or the AVSCTL_NODE_OPTIONS variable (fields of AggregatorOptions /
 * AttesterOptions, plus `attesterIndex` to pick PRIVATE_KEY_ATTESTER<n>). Logs are JSON lines
 * on stdout; SIGTERM / SIGINT stop the node cleanly.
 */

import { jsonLinesSink } from "./log.js";
import type { AggregatorOptions, AttesterOptions, NodeRole } from "./options.js";
import { nodeOptionsFromEnv } from "./options.js";
import { tuneNodeProcess } from "./process-tuning.js";

// Log lines leave one write per event-loop turn (see jsonLinesSink), and what is pending on exit.
const logLines = jsonLinesSink((text) => void process.stdout.write(text));
process.on("exit", logLines.flush);

async function main(): Promise<void> {
  tuneNodeProcess();
  const role = process.argv[2] as NodeRole;
  if (role !== "aggregator" && role !== "attester") {
    process.stderr.write("usage: entry.js aggregator|attester ['<options JSON>']\n");
    process.exitCode = 2;
    return;
  }
  const raw = process.argv[3] ?? process.env.AVSCTL_NODE_OPTIONS ?? "{}";
  const given = JSON.parse(raw) as Record<string, unknown> & { attesterIndex?: number };
  const fromEnv = nodeOptionsFromEnv(process.env, role, given.attesterIndex);
  const controller = new AbortController();
  const common = {
    privateKey: fromEnv.privateKey,
    l1: fromEnv.l1,
    l2: fromEnv.l2,
    avsWebapi: fromEnv.avsWebapi,
    log: logLines.sink,
    signal: controller.signal,
  };
  let stop: () => Promise<void>;
  if (role === "aggregator") {
    const { startAggregator } = await import("./aggregator.js");
    const opts = { ...common, internalTasks: fromEnv.internalTasks, ...given } as AggregatorOptions;
    stop = (await startAggregator({ ...opts, log: common.log, signal: controller.signal })).stop;
  } else {
    const { startAttester } = await import("./attester.js");
    const opts = {
      ...common,
      aggregatorUrl: fromEnv.aggregatorUrl,
      blsSecretKey: fromEnv.blsSecretKey,
      ...(fromEnv.avsWebapiFor ? { avsWebapiFor: fromEnv.avsWebapiFor } : {}),
      ...given,
    } as AttesterOptions;
    stop = (await startAttester({ ...opts, log: common.log, signal: controller.signal })).stop;
  }
  const shutdown = (): void => {
    controller.abort();
    void stop().finally(() => {
      // Idle keep-alive sockets of fetch may hold the loop open for a while; nothing else should.
      setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
    });
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
}

main().catch((error: unknown) => {
  const e = error as { code?: string; message?: string };
  logLines.flush();
  process.stdout.write(
    `${JSON.stringify({ time: new Date().toISOString(), level: "error", msg: "node failed to start", code: e.code, error: e.message })}\n`,
  );
  process.exitCode = 1;
});
