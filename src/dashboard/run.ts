/**
 * `avsctl devnet ui`: the live view of the project's running devnet. Starts the feed and the
 * server and returns their handle; the caller keeps it until Ctrl-C, then closes it, which
 * stops every loop, every event stream and the chain connections.
 */

import { requireDevnetState } from "../devnet/state.js";
import { AvsctlError } from "../errors.js";
import { startFeed } from "./feed.js";
import { startDashboardServer } from "./server.js";

export interface DashboardOptions {
  projectDir: string;
  /** 0 or absent: any free port. */
  port?: number;
  /** Where the built web app is (default: the package's dist/ui/). */
  uiDir?: string;
  signal?: AbortSignal;
}

export interface Dashboard {
  url: string;
  close(): Promise<void>;
}

export async function startDashboard(opts: DashboardOptions): Promise<Dashboard> {
  const state = requireDevnetState(opts.projectDir);
  const feed = await startFeed(opts.projectDir, state, opts.signal);
  try {
    const server = await startDashboardServer({ feed, port: opts.port, uiDir: opts.uiDir });
    return {
      url: server.url,
      async close() {
        await server.close();
        await feed.close();
      },
    };
  } catch (error) {
    await feed.close();
    if ((error as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new AvsctlError("PORT_IN_USE", `port ${opts.port} on 127.0.0.1 is in use`, {
        hint: "pick another with --port, or leave it out for any free port",
        details: { port: opts.port },
      });
    }
    throw error;
  }
}
