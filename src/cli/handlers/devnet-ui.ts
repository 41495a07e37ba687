/**
 * `avsctl devnet ui`: serves the live view of this project's devnet on 127.0.0.1 until Ctrl-C.
 * The URL is printed first (`{"url"}` under --json), so a script can read it and go on.
 */
import { spawn } from "node:child_process";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";

/** The system's way to open a URL in the browser; a machine without one just prints it. */
function openInBrowser(url: string): void {
  const [cmd, args] =
    process.platform === "darwin"
      ? ["open", [url]]
      : process.platform === "win32"
        ? ["cmd", ["/c", "start", "", url]]
        : ["xdg-open", [url]];
  try {
    const child = spawn(cmd, args, { stdio: "ignore", detached: true });
    child.on("error", () => undefined);
    child.unref();
  } catch {
    // no opener: the URL is printed anyway
  }
}

export async function devnetUiCommand(
  ctx: CommandContext,
  flags: { port?: number; open?: boolean },
): Promise<CommandResult> {
  const loaded = await ctx.loadConfig();
  const { startDashboard } = await import("../../dashboard/run.js");
  const signal = ctx.signal;
  const dashboard = await startDashboard({ projectDir: loaded.root, port: flags.port, signal });
  try {
    ctx.out.stdout(
      ctx.json
        ? `${JSON.stringify({ url: dashboard.url })}\n`
        : `devnet dashboard at ${dashboard.url}\nCtrl-C stops it; the devnet keeps running\n`,
    );
    if (flags.open) openInBrowser(dashboard.url);
    if (!signal.aborted)
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
  } finally {
    await dashboard.close();
  }
  // Printed above, under --json too.
  return { data: undefined, human: () => "" };
}
