/**
 * An aggregator whose connection is cut while a sendTask waits for its answer, as when the
 * devnet's supervisor restarts it: a proxy on 127.0.0.1 in front of a real aggregator's JSON-RPC
 * that resets the connection of the sendTask calls it is told to, after the aggregator took the
 * task or before it reached it. Used by the tests of what `task send` and the trigger runner
 * report of such a send (it may have been taken: never `failed`).
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { postRaw, type TestNetwork, taskEvents } from "./node.js";

/** What the proxy does with the next sendTask calls, in order (then it forwards). */
export type Cut = "after-taken" | "before-taken";

export interface CuttingProxy {
  /** The URL to give the sender instead of the aggregator's. */
  url: string;
  /** The cuts still to make, one per sendTask, in order; push to plan more. */
  plan: Cut[];
  /** The body of every sendTask that reached the proxy, in order. */
  sendTasks: string[];
  /** Stops listening, as an aggregator that does not come back. */
  away(): void;
  close(): Promise<void>;
}

/**
 * The aggregator's JSON-RPC behind a proxy. A planned cut resets the connection instead of
 * answering: `after-taken` once the aggregator answered (it took the task), `before-taken`
 * without forwarding anything (it never saw it). `onCut` is called right after each cut.
 */
export async function cuttingProxy(
  upstream: string,
  opts: { onCut?: (cut: Cut) => void } = {},
): Promise<CuttingProxy> {
  const plan: Cut[] = [];
  const sendTasks: string[] = [];
  const cutHere = (req: http.IncomingMessage, cut: Cut) => {
    req.socket.resetAndDestroy();
    opts.onCut?.(cut);
  };
  const server = http.createServer(async (req, res) => {
    let text = "";
    for await (const chunk of req) text += chunk;
    if (text.includes('"sendTask"')) sendTasks.push(text);
    const cut = text.includes('"sendTask"') ? plan.shift() : undefined;
    if (cut === "before-taken") return cutHere(req, cut);
    const answer = await fetch(upstream, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: text,
    });
    const body = await answer.text();
    if (cut === "after-taken") return cutHere(req, cut);
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    plan,
    sendTasks,
    away: () => {
      server.close();
      server.closeAllConnections();
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** How often each task hash has a verdict on the network's L2. */
export async function verdictCounts(net: TestNetwork): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const e of await taskEvents(net)) counts.set(e.taskHash, (counts.get(e.taskHash) ?? 0) + 1);
  return counts;
}

/** What the aggregator's journal says of a task (null: it never had it). */
export async function journalEntry(aggregatorUrl: string, hash: string): Promise<{ status: string } | null> {
  const r = await postRaw(
    aggregatorUrl,
    JSON.stringify({ jsonrpc: "2.0", id: 1, method: "avsctl_taskStatus", params: [hash] }),
  );
  return r.json.error ? null : r.json.result;
}
