/**
 * Tuning for a process that is one node (an aggregator or attester running alone), applied
 * before the node's modules load.
 */

import { setFlagsFromString } from "node:v8";

/**
 * node:http's lazy exports that load Node's bundled undici (WebSocket and its events). ethers'
 * ES modules import node:http, and the ES-module facade Node builds for it reads every
 * enumerable export once: these three load undici and what it needs (tls, http2, zlib, worker
 * threads, web streams), about 4 MB of every node's resident memory, though no node uses them.
 */
const UNDICI_EXPORTS = ["WebSocket", "CloseEvent", "MessageEvent"] as const;

export function tuneNodeProcess(): void {
  // A task's objects live about a second, long enough to be promoted to V8's old generation,
  // and V8 lets that generation grow to a multiple of its live size before collecting it: under
  // overload an aggregator with 25 MB live went past 80 MB of heap (RSS 176 MB) in 15 s.
  // Collecting once it is a quarter above its live size keeps RSS near 120 MB there, at about
  // one major GC a second (10-20 ms each). Unlike --max-old-space-size this is no limit: a
  // larger live set (more pending tasks) still fits, it is only collected sooner.
  setFlagsFromString("--heap-growing-percent=25");

  // Made non-enumerable, they stay on node:http (`http.WebSocket` still works) but out of the
  // facade; only a named `import { WebSocket } from "node:http"` would miss them.
  const http = process.getBuiltinModule("node:http") as unknown as Record<string, unknown>;
  for (const name of UNDICI_EXPORTS) {
    const d = Object.getOwnPropertyDescriptor(http, name);
    if (d?.enumerable && d.configurable) Object.defineProperty(http, name, { enumerable: false });
  }
}
