/**
 * Wait strategies shared by the Docker and the process runtime: a component is ready when its
 * strategies pass, each within its own timeout. While waiting we keep checking whether the
 * component died, so a crash fails fast with its last log lines instead of waiting out the clock.
 */
import http from "node:http";
import net from "node:net";
import createDebug from "debug";
import { AvsctlError } from "../../errors.js";
import { sleep } from "../../util/sleep.js";
import type { WaitStrategy } from "./types.js";

const debug = createDebug("avsctl:devnet:runtime:wait");

export const DEFAULT_WAIT_TIMEOUT_MS = 60_000;
const DEFAULT_PROBE_TIMEOUT_MS = 2_000;
const LOG_TAIL_LINES = 20;

/** What a strategy needs to know about the component it waits for. */
export interface WaitTarget {
  component: string;
  /** Host the probes connect to (127.0.0.1). */
  host: string;
  /** Maps the strategy's port to the port reachable on `host`; throws when unpublished. */
  hostPort(port: number): number;
  /** The component's output lines since this start, following until `signal` aborts. */
  logLines(signal: AbortSignal): AsyncIterable<string>;
  /** `null` while the component runs; otherwise why it is not running (for the error). */
  exitReason(): Promise<string | null>;
  /** The last lines of its output, for error messages. */
  logTail(lines: number): Promise<string[]>;
}

/** One line describing a strategy, for messages: `HTTP GET :8080/health`. */
export function describeStrategy(strategy: WaitStrategy): string {
  switch (strategy.kind) {
    case "http":
      return `HTTP GET :${strategy.port}${strategy.path ?? "/"}`;
    case "json-rpc":
      return `JSON-RPC ${strategy.method ?? "eth_chainId"} on :${strategy.port}${strategy.path ?? "/"}`;
    case "tcp":
      return `TCP connect :${strategy.port}`;
    case "log":
      return `log line /${strategy.pattern}/${strategy.flags ?? ""}${(strategy.times ?? 1) > 1 ? ` x${strategy.times}` : ""}`;
  }
}

function httpRequest(
  url: URL,
  init: { method: string; body?: string; timeoutMs: number },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    // No keep-alive agent: a probe must not leave sockets behind that keep a CLI or test alive.
    const request = http.request(
      url,
      {
        method: init.method,
        agent: false,
        timeout: init.timeoutMs,
        headers: init.body === undefined ? {} : { "content-type": "application/json" },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on("data", (chunk: Buffer) => {
          if (size < 1_000_000) chunks.push(chunk);
          size += chunk.length;
        });
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }),
        );
        response.on("error", reject);
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${init.timeoutMs} ms`)));
    request.on("error", reject);
    request.end(init.body);
  });
}

function tcpConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no connection within ${timeoutMs} ms`)));
    socket.once("connect", () => {
      socket.destroy();
      resolve();
    });
    socket.once("error", reject);
  });
}

/**
 * Probe a strategy once. Returns `null` when it answers, else what went wrong. Log strategies
 * only make sense while starting, so a probe treats them as passed.
 */
export async function probe(
  strategy: WaitStrategy,
  target: Pick<WaitTarget, "host" | "hostPort">,
  timeoutMs: number = DEFAULT_PROBE_TIMEOUT_MS,
): Promise<string | null> {
  try {
    switch (strategy.kind) {
      case "log":
        return null;
      case "tcp":
        await tcpConnect(target.host, target.hostPort(strategy.port), timeoutMs);
        return null;
      case "http": {
        const url = new URL(`http://${target.host}:${target.hostPort(strategy.port)}${strategy.path ?? "/"}`);
        const { status } = await httpRequest(url, { method: "GET", timeoutMs });
        const ok = strategy.status === undefined ? status >= 200 && status < 300 : status === strategy.status;
        return ok ? null : `${describeStrategy(strategy)} answered HTTP ${status}`;
      }
      case "json-rpc": {
        const url = new URL(`http://${target.host}:${target.hostPort(strategy.port)}${strategy.path ?? "/"}`);
        const body = JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: strategy.method ?? "eth_chainId",
          params: strategy.params ?? [],
        });
        const response = await httpRequest(url, { method: "POST", body, timeoutMs });
        let parsed: unknown;
        try {
          parsed = JSON.parse(response.body);
        } catch {
          return `${describeStrategy(strategy)} answered HTTP ${response.status} without JSON`;
        }
        const reply = parsed as { jsonrpc?: unknown; result?: unknown; error?: unknown };
        if (reply?.jsonrpc !== "2.0" || !("result" in reply || "error" in reply)) {
          return `${describeStrategy(strategy)} answered something that is not JSON-RPC 2.0`;
        }
        if (strategy.requireResult && !("result" in reply)) {
          return `${describeStrategy(strategy)} answered an error: ${JSON.stringify(reply.error)}`;
        }
        return null;
      }
    }
  } catch (error) {
    if (error instanceof AvsctlError) return error.message;
    const code = (error as { code?: string }).code;
    return `${describeStrategy(strategy)}: ${code ?? (error as Error).message}`;
  }
}

function notReadyError(
  code: "TIMEOUT" | "DEVNET_START_FAILED",
  component: string,
  message: string,
  strategy: WaitStrategy,
  logTail: string[],
): AvsctlError {
  const tailText = logTail.length > 0 ? `Last log lines of ${component}:\n  ${logTail.join("\n  ")}` : "";
  const advice =
    code === "TIMEOUT"
      ? `Check that ${component} listens where its wait strategy looks (${describeStrategy(strategy)}).`
      : `${component} stopped on its own; its log usually says why.`;
  return new AvsctlError(code, message, {
    hint: tailText === "" ? advice : `${advice}\n${tailText}`,
    details: { component, strategy, logTail },
  });
}

async function safeTail(target: WaitTarget): Promise<string[]> {
  try {
    return await target.logTail(LOG_TAIL_LINES);
  } catch {
    return [];
  }
}

async function waitForProbe(
  strategy: Exclude<WaitStrategy, { kind: "log" }>,
  target: WaitTarget,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<{ exited: string } | { timedOut: string } | null> {
  // Probes are cheap local requests and every phase of a start waits on one: look again soon
  // (a 500 ms step left a component that was ready idle for up to half a second per phase).
  let delay = 25;
  let lastProblem = "no attempt yet";
  // Bounded by the deadline; each probe is bounded by its own timeout.
  while (Date.now() < deadline) {
    signal?.throwIfAborted();
    const remaining = Math.max(1, deadline - Date.now());
    const problem = await probe(strategy, target, Math.min(DEFAULT_PROBE_TIMEOUT_MS, remaining));
    if (problem === null) return null;
    lastProblem = problem;
    const exited = await target.exitReason();
    if (exited !== null) return { exited };
    await sleep(Math.min(delay, Math.max(0, deadline - Date.now())), signal);
    signal?.throwIfAborted();
    delay = Math.min(delay * 2, 100);
  }
  return { timedOut: lastProblem };
}

async function waitForLog(
  strategy: Extract<WaitStrategy, { kind: "log" }>,
  target: WaitTarget,
  deadline: number,
  signal: AbortSignal | undefined,
): Promise<{ exited: string } | { timedOut: string } | null> {
  const pattern = new RegExp(strategy.pattern, strategy.flags);
  const wanted = strategy.times ?? 1;
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => controller.abort(new Error("deadline")), Math.max(0, deadline - Date.now()));
  let seen = 0;
  const matcher = (async () => {
    try {
      for await (const line of target.logLines(controller.signal)) {
        if (pattern.test(line)) {
          pattern.lastIndex = 0;
          seen += 1;
          if (seen >= wanted) return null;
        }
      }
    } catch (error) {
      if (!controller.signal.aborted) throw error;
    }
    // The stream ended (component exited) or was cut by the deadline.
    return undefined;
  })();
  const watcher = (async () => {
    // Polls for a crash; ends with the controller (deadline, outer abort or match).
    while (!controller.signal.aborted) {
      const exited = await target.exitReason();
      if (exited !== null) return exited;
      await sleep(300, controller.signal);
    }
    return null;
  })();
  try {
    const first = await Promise.race([
      matcher.then((r) => ({ matched: r })),
      watcher.then((e) => ({ exited: e })),
    ]);
    if ("matched" in first && first.matched === null) return null;
    signal?.throwIfAborted();
    // Output that ends before the deadline is a component exiting, which the engine may report
    // a moment later (Docker closes the log stream before its state says exited): the watcher
    // goes on until it does, or until the deadline.
    const exited = "exited" in first ? first.exited : await watcher.catch(() => null);
    signal?.throwIfAborted();
    if (exited !== null) return { exited };
    return { timedOut: `saw ${seen} of ${wanted} matching line(s)` };
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
    controller.abort();
    await Promise.allSettled([matcher, watcher]);
  }
}

/**
 * Wait until every strategy passes, in order. Throws DEVNET_START_FAILED when the component
 * exits meanwhile, TIMEOUT when a strategy runs out of time (both with the log tail in the hint
 * and `details.logTail`), or the signal's reason when aborted.
 */
export async function waitForReady(
  strategies: readonly WaitStrategy[],
  target: WaitTarget,
  options: { signal?: AbortSignal; defaultTimeoutMs?: number } = {},
): Promise<void> {
  for (const strategy of strategies) {
    const timeoutMs = strategy.timeoutMs ?? options.defaultTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
    const deadline = Date.now() + timeoutMs;
    debug("%s: waiting for %s (%d ms)", target.component, describeStrategy(strategy), timeoutMs);
    const outcome =
      strategy.kind === "log"
        ? await waitForLog(strategy, target, deadline, options.signal)
        : await waitForProbe(strategy, target, deadline, options.signal);
    if (outcome === null) continue;
    const tail = await safeTail(target);
    if ("exited" in outcome) {
      throw notReadyError(
        "DEVNET_START_FAILED",
        target.component,
        `${target.component} exited before it was ready (${outcome.exited})`,
        strategy,
        tail,
      );
    }
    throw notReadyError(
      "TIMEOUT",
      target.component,
      `${target.component} was not ready after ${Math.round(timeoutMs / 1000)} s: ${describeStrategy(strategy)} (${outcome.timedOut})`,
      strategy,
      tail,
    );
  }
  // Even with no strategy (or only passed ones), a component that already died is not "started".
  const exited = await target.exitReason();
  if (exited !== null) {
    const tail = await safeTail(target);
    throw notReadyError(
      "DEVNET_START_FAILED",
      target.component,
      `${target.component} exited right after starting (${exited})`,
      strategies[0] ?? { kind: "tcp", port: 0 },
      tail,
    );
  }
}

/** Validate strategies early (a bad regular expression is a usage error, not a start failure). */
export function checkStrategies(component: string, strategies: readonly WaitStrategy[]): void {
  for (const strategy of strategies) {
    if (strategy.kind === "log") {
      try {
        new RegExp(strategy.pattern, strategy.flags);
      } catch (error) {
        throw new AvsctlError(
          "INVALID_ARGUMENT",
          `${component}: bad log wait pattern /${strategy.pattern}/: ${(error as Error).message}`,
        );
      }
    } else if (!Number.isInteger(strategy.port) || strategy.port <= 0 || strategy.port > 65535) {
      throw new AvsctlError(
        "INVALID_ARGUMENT",
        `${component}: wait strategy port ${strategy.port} is not a port`,
      );
    }
  }
}
