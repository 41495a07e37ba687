/**
 * Which task engine a `workflow create|list|...` or `secret` command talks to, and as whom:
 * `--engine <url>`, else the running devnet's engine (its state's `engine.url`); the owner's key
 * by the signer precedence of task-def (AVSCTL_PRIVATE_KEY, --keystore, the configured keystore),
 * else, on the devnet's own engine, the devnet's deployer.
 */

import { readDevnetState } from "../../devnet/state.js";
import { AvsctlError } from "../../errors.js";
import { loadSigner } from "../../keys/signer.js";
import { shellQuote } from "../../shell-quote.js";
import { EngineClient } from "../../task-engine/client.js";
import type { CommandContext } from "../context.js";
import { avsctlPrefix } from "../format.js";
import { signerSpec } from "./signer-flags.js";

export interface EngineFlags {
  engine?: string;
  keystore?: string;
  passwordStdin?: boolean;
}

/**
 * `avsctl <command>` with the flags that chose this command's project, engine and owner, for a
 * suggested command that must reach the same engine as the same owner.
 */
export function engineCommand(ctx: CommandContext, flags: EngineFlags, command: string): string {
  const words = [avsctlPrefix(ctx), command];
  if (flags.engine) words.push("--engine", shellQuote(flags.engine));
  if (flags.keystore) words.push("--keystore", shellQuote(flags.keystore));
  return words.join(" ");
}

export async function engineClient(ctx: CommandContext, flags: EngineFlags): Promise<EngineClient> {
  const client = await engineClientIfAny(ctx, flags);
  if (client) return client;
  const loaded = await ctx.loadConfig();
  const devnet = readDevnetState(loaded.root);
  if (!devnet)
    throw new AvsctlError("NO_DEVNET", "no devnet is running for this project", {
      hint: `start one with \`${avsctlPrefix(ctx)} devnet up --engine\`, or pass --engine <url> of a running task engine`,
    });
  // the running devnet's settings (its runtime, attesters, L2s, no services) kept: a bare
  // `up --fresh` would start the defaults instead (Docker where it answers)
  const { freshCommand } = await import("./devnet.js");
  const configured = new Set(Object.keys(loaded.sources).filter((k) => k.startsWith("devnet.")));
  const servicesOff = devnet.services.execution === null && devnet.services.validation === null;
  const up = { engine: true, ...(servicesOff ? { services: false } : {}) };
  const fresh = freshCommand(ctx, up, devnet, configured, loaded.config.devnet);
  throw new AvsctlError("NO_DEVNET", "the devnet runs no task engine", {
    hint: `start it with \`${fresh}\` (it removes the running devnet and its chain state), or pass --engine <url> of a running task engine`,
  });
}

/** The engine given or the devnet's, when there is one (`workflow run` records there). */
export async function engineClientIfAny(
  ctx: CommandContext,
  flags: EngineFlags & { privateKey?: string },
): Promise<EngineClient | undefined> {
  const loaded = await ctx.loadConfig();
  const devnet = readDevnetState(loaded.root);
  const devnetEngine = (devnet as { engine?: { url?: string } } | undefined)?.engine?.url;
  const url = flags.engine ?? devnetEngine;
  if (!url) return undefined;
  const onDevnet = devnet !== undefined && url === devnetEngine;
  const spec = signerSpec(ctx, loaded, flags, onDevnet ? devnet.deployer.privateKey : undefined);
  // the key only signs the sign-in message: nothing is sent to a chain
  const signer = await loadSigner(spec, null, {
    chainId: 0,
    devnetChainIds: [0],
    allowDevKeys: true,
    signerFlags: ["--keystore"],
  });
  return new EngineClient({ url, signer, signal: ctx.signal });
}
