import path from "node:path";
import { parseUint } from "../../chain/units.js";
import { withDotEnv } from "../../config/load.js";
import { invalidArgument } from "../../errors.js";
import type { AggregatorOptions, AttesterOptions, NodeRole } from "../../node/options.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { passwordSource } from "./signer-flags.js";

/** commander keeps dotted flags (`--json-rpc.port`) under their camel-cased dotted names. */
function flag(opts: Record<string, unknown>, ...names: string[]): unknown {
  for (const n of names) if (opts[n] !== undefined) return opts[n];
  return undefined;
}

function port(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(parseUint(String(value), name, 16));
  return n;
}

/**
 * `avsctl node aggregator|attester`: Othentic's flags and environment names onto the node
 * runtime's options; runs until SIGINT/SIGTERM, logging JSON lines on stdout.
 */
export async function nodeCommand(
  ctx: CommandContext,
  role: NodeRole,
  opts: Record<string, unknown>,
): Promise<CommandResult> {
  const { nodeOptionsFromEnv, parseInternalTasks, parseChainId } = await import("../../node/options.js");
  const env = withDotEnv(ctx.cwd, ctx.env);
  const fromEnv = nodeOptionsFromEnv(env, role);
  const l1Chain = opts.l1Chain as string | undefined;
  const l2Chains = (opts.l2Chain as string | undefined)
    ?.split(",")
    .map((c) => parseChainId(c.trim(), "--l2-chain"));
  const l2 = fromEnv.l2.map((t, i) => ({ ...t, chainId: t.chainId || l2Chains?.[i] || 0 }));
  const l1 =
    fromEnv.l1 && l1Chain ? { ...fromEnv.l1, chainId: parseChainId(l1Chain, "--l1-chain") } : fromEnv.l1;
  if (l2.length === 0) {
    throw invalidArgument(
      "ATTESTATION_CENTER_ADDRESS",
      "no L2 to serve",
      "set L2_RPC and ATTESTATION_CENTER_ADDRESS (single or chainId@0x.. list)",
    );
  }

  let privateKey = fromEnv.privateKey;
  const keystore = opts.keystore as string | undefined;
  if (keystore) {
    const { Wallet } = await import("ethers");
    const { readFileSync } = await import("node:fs");
    const file = path.resolve(ctx.cwd, keystore);
    const password = await passwordSource(ctx, env, {})();
    try {
      privateKey = (await Wallet.fromEncryptedJson(readFileSync(file, "utf8"), password)).privateKey;
    } catch (error) {
      const { AvsctlError } = await import("../../errors.js");
      throw new AvsctlError("WRONG_PASSWORD", `cannot open keystore ${file}: ${(error as Error).message}`, {
        details: { argument: "--keystore" },
      });
    }
  }

  const controller = new AbortController();
  const log = (record: Record<string, unknown>) => ctx.out.stdout(`${JSON.stringify(record)}\n`);
  const common = {
    privateKey,
    l1,
    l2,
    host: (opts.host as string | undefined) ?? "127.0.0.1",
    metrics: opts.metrics === true,
    metricsPort: port(flag(opts, "metrics.port", "metricsPort"), "--metrics.port"),
    avsWebapi: (opts.avsWebapi as string | undefined) ?? fromEnv.avsWebapi,
    avsWebapiPort: port(opts.avsWebapiPort, "--avs-webapi-port"),
    log,
    signal: controller.signal,
  };

  let stop: () => Promise<void>;
  if (role === "aggregator") {
    const syncInterval =
      opts.syncInterval === undefined
        ? undefined
        : Number(parseUint(String(opts.syncInterval), "--sync-interval", 53));
    const internalTasks =
      opts.internalTasks === true || syncInterval !== undefined
        ? parseInternalTasks(env.INTERNAL_TASKS ?? '[{"name":"VOTING_POWER_SYNC"}]', syncInterval)
        : undefined;
    const relayerKey = env.AVSCTL_RELAYER_KEY ?? privateKey;
    const options: AggregatorOptions = {
      ...common,
      jsonRpc: flag(opts, "jsonRpc") !== false,
      jsonRpcPort: port(flag(opts, "jsonRpc.port", "json-rpc.port", "jsonRpcPort"), "--json-rpc.port"),
      customMessageEnabled:
        flag(opts, "jsonRpc.customMessageEnabled", "jsonRpcCustomMessageEnabled") === true,
      internalTasks,
      journalPath: opts.journal === undefined ? undefined : path.resolve(ctx.cwd, String(opts.journal)),
      relayer: opts.relayer === true && relayerKey ? { privateKey: relayerKey } : undefined,
    };
    const { startAggregator } = await import("../../node/aggregator.js");
    stop = (await startAggregator(options)).stop;
  } else {
    const aggregatorUrl = (opts.aggregator as string | undefined) ?? fromEnv.aggregatorUrl;
    if (!aggregatorUrl) {
      throw invalidArgument(
        "OTHENTIC_CLIENT_RPC_ADDRESS",
        "the attester needs the aggregator's URL",
        "set OTHENTIC_CLIENT_RPC_ADDRESS or pass --aggregator",
      );
    }
    const options: AttesterOptions = { ...common, aggregatorUrl, blsSecretKey: fromEnv.blsSecretKey };
    const { startAttester } = await import("../../node/attester.js");
    stop = (await startAttester(options)).stop;
  }

  await new Promise<void>((resolve) => {
    process.once("SIGTERM", resolve);
    process.once("SIGINT", resolve);
  });
  controller.abort();
  await stop();
  // Idle keep-alive sockets may hold the event loop for a while; nothing else should.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2_000).unref();
  return { data: undefined, human: () => "" };
}
