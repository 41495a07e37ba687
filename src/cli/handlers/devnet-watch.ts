import path from "node:path";
import type { LoadedConfig } from "../../config/load.js";
import type { WatchEvent } from "../../devnet/watch.js";
import { AvsctlError } from "../../errors.js";
import { shellQuote } from "../../shell-quote.js";
import type { CommandContext } from "../context.js";
import { follow } from "../follow.js";
import type { CommandResult } from "../runner.js";

/** One line per event: a JSON object under --json, else a sentence. */
export function renderWatchEvent(event: WatchEvent, json: boolean): string {
  if (json) return `${JSON.stringify(event)}\n`;
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  switch (event.action) {
    case "watching":
      return `${event.services
        .map((s) => `watching ${s.service} (${s.runtime}) in ${s.dir}`)
        .join("\n")}\nCtrl-C stops watching; the devnet keeps running\n`;
    case "reloading":
      return `${event.service}: ${event.trigger} changed, reloading\n`;
    case "restarted":
      return `${event.service}: restarted in ${seconds(event.ms)} (${event.trigger})\n`;
    case "failed":
      return (
        `${event.service}: reload failed after ${seconds(event.ms)} (${event.trigger}): ${event.error}\n` +
        (event.logTail?.length ? `${event.logTail.map((l) => `  ${l}`).join("\n")}\n` : "") +
        (event.hint ? `${event.service}: ${event.hint}\n` : "") +
        `${event.service}: ${event.previousKept ? "the previous version still runs" : "down until the next change"}; still watching\n`
      );
    case "stopped":
      return "stopped watching; the devnet is still running (`avsctl devnet down` stops it)\n";
  }
}

/**
 * Watches the project's services of the running devnet until Ctrl-C or SIGTERM, printing each
 * event as it comes (stdout), then leaves the devnet running and throws INTERRUPTED: watching
 * has no other end, and a script must tell it from a watch that could not start.
 */
export async function watchUntilInterrupted(
  ctx: CommandContext,
  loaded: Pick<LoadedConfig, "config" | "root" | "env">,
  caCerts: string | undefined,
  command = "devnet watch",
): Promise<void> {
  const certs = caCerts ? path.resolve(ctx.cwd, caCerts) : caCerts;
  const again = `avsctl devnet watch${certs ? ` --ca-certs ${shellQuote(certs)}` : ""}`;
  // no grace: a reload under way finishes first, so no service is left half replaced
  await follow(
    ctx,
    async () => {
      const { watchServices } = await import("../../devnet/watch.js");
      await watchServices({
        config: loaded.config,
        projectDir: loaded.root,
        caCerts: certs,
        env: loaded.env,
        signal: ctx.signal,
        onEvent: (event) => ctx.out.stdout(renderWatchEvent(event, ctx.json)),
      });
    },
    (cause) =>
      new AvsctlError("INTERRUPTED", `${command} was interrupted; the devnet keeps running`, {
        hint: `\`${again}\` watches again; \`avsctl devnet down\` stops the devnet`,
        cause,
      }),
  );
}

export async function devnetWatchCommand(
  ctx: CommandContext,
  flags: { caCerts?: string },
): Promise<CommandResult> {
  const loaded = await ctx.loadConfig();
  await watchUntilInterrupted(ctx, loaded, flags.caCerts);
  // Streamed above, under --json too.
  return { data: undefined, human: () => "" };
}
