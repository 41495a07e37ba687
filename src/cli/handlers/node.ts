import path from "node:path";
import { withDotEnv } from "../../config/load.js";
import { missingArgument } from "../../errors.js";
import type { AggregatorOptions, AttesterOptions, NodeRole } from "../../node/options.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { passwordSource } from "./signer-flags.js";

/** commander keeps dotted flags (`--json-rpc.port`) under their camel-cased dotted names. */
function flag(opts: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (opts[n] !== undefined) return opts[n];
  return undefined;
}

/** Ports arrive as numbers: src/cli/commands/node.ts parses them. */
const port = (value: unknown) => value as number | undefined;

/**
 * `avsctl node aggregator|attester`: Othentic's flags and environment names onto the node
 * runtime's options; runs until SIGINT/SIGTERM, logging JSON lines on stdout.
 */
export async function nodeCommand(
  ctx: CommandContext,
  role: NodeRole,
  opts: Record<string, unknown>,
): Promise<CommandResult> {
  const { nodeOptionsFromEnv, parseInternalTasks, parseWebapiRoutes } = await import("../../node/options.js");
  const env = withDotEnv(ctx.cwd, ctx.env);
  const fromEnv = nodeOptionsFromEnv(env, role);
  // chain ids and ports arrive parsed (src/cli/commands/node.ts)
  const l1Chain = opts.l1Chain as number | undefined;
  const l2Chains = opts.l2Chain as number[] | undefined;
  const l2 = fromEnv.l2.map((t, i) => ({ ...t, chainId: t.chainId || l2Chains?.[i] || 0 }));
  const l1 = fromEnv.l1 && l1Chain ? { ...fromEnv.l1, chainId: l1Chain } : fromEnv.l1;
  if (l2.length === 0) {
    throw missingArgument(
      "ATTESTATION_CENTER_ADDRESS",
      "no L2 to serve",
      "set L2_RPC and ATTESTATION_CENTER_ADDRESS (single or chainId@0x.. list)",
    );
  }

  let privateKey = fromEnv.privateKey;
  const keystore = opts.keystore as string | undefined;
  if (keystore) {
    const { readEcdsaKeystoreFile } = await import("../../keys/formats.js");
    const key = await readEcdsaKeystoreFile(path.resolve(ctx.cwd, keystore), passwordSource(ctx, env, {}), {
      argument: "--keystore",
    });
    privateKey = key.privateKey;
  }

  const controller = new AbortController();
  // One write per event-loop turn (a busy node logs several lines per task); the rest on exit.
  const { jsonLinesSink } = await import("../../node/log.js");
  const logLines = jsonLinesSink((text) => ctx.out.stdout(text));
  process.once("exit", logLines.flush);
  const log = logLines.sink;
  const common = {
    privateKey,
    l1,
    l2,
    host: (opts.host as string | undefined) ?? "127.0.0.1",
    metrics: opts.metrics === true,
    metricsPort: port(flag(opts, "metrics.port", "metricsPort")),
    avsWebapi: (opts.avsWebapi as string | undefined) ?? fromEnv.avsWebapi,
    avsWebapiPort: port(opts.avsWebapiPort),
    log,
    signal: controller.signal,
  };

  let stop: () => Promise<void>;
  // This process is the node until it is stopped: its heap is tuned for that.
  (await import("../../node/process-tuning.js")).tuneNodeProcess();
  if (role === "aggregator") {
    const syncInterval = opts.syncInterval as number | undefined;
    const internalTasks =
      opts.internalTasks === true || syncInterval !== undefined
        ? parseInternalTasks(env.INTERNAL_TASKS ?? '[{"name":"VOTING_POWER_SYNC"}]', syncInterval)
        : undefined;
    const relayerKey = env.AVSCTL_RELAYER_KEY ?? privateKey;
    const options: AggregatorOptions = {
      ...common,
      jsonRpc: flag(opts, "jsonRpc") !== false,
      jsonRpcPort: port(flag(opts, "jsonRpc.port", "json-rpc.port", "jsonRpcPort")),
      customMessageEnabled:
        flag(opts, "jsonRpc.customMessageEnabled", "jsonRpcCustomMessageEnabled") === true,
      internalTasks,
      journalPath: opts.journal === undefined ? undefined : path.resolve(ctx.cwd, String(opts.journal)),
      relayer: opts.relayer === true && relayerKey ? { privateKey: relayerKey } : undefined,
      ...(opts.maxPendingTasks === undefined
        ? {}
        : { limits: { maxPendingTasks: opts.maxPendingTasks as number } }),
    };
    const { startAggregator } = await import("../../node/aggregator.js");
    stop = (await startAggregator(options)).stop;
  } else {
    const aggregatorUrl = (opts.aggregator as string | undefined) ?? fromEnv.aggregatorUrl;
    if (!aggregatorUrl) {
      throw missingArgument(
        "OTHENTIC_CLIENT_RPC_ADDRESS",
        "the attester needs the aggregator's URL",
        "set OTHENTIC_CLIENT_RPC_ADDRESS or pass --aggregator",
      );
    }
    const given = opts.avsWebapiFor as string[] | undefined;
    const avsWebapiFor = given ? parseWebapiRoutes(given) : fromEnv.avsWebapiFor;
    const options: AttesterOptions = {
      ...common,
      aggregatorUrl,
      blsSecretKey: fromEnv.blsSecretKey,
      ...(avsWebapiFor ? { avsWebapiFor } : {}),
    };
    const { startAttester } = await import("../../node/attester.js");
    stop = (await startAttester(options)).stop;
  }

  const { signal } = ctx;
  if (!signal.aborted)
    await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  controller.abort();
  await stop();
  logLines.flush();
  process.off("exit", logLines.flush);
  // Idle keep-alive sockets may hold the event loop for a while; nothing else should.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
  return { data: undefined, human: () => "" };
}
