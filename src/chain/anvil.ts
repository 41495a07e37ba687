/**
 * Launch a local anvil chain from the @foundry-rs/anvil npm binary: 127.0.0.1 only, a free port,
 * ready once eth_chainId answers, and never outliving its parent (stop(), AbortSignal, or the
 * process 'exit' hook as a last resort).
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import createDebug from "debug";
import { AvsctlError } from "../errors.js";
import { sleep } from "../util/sleep.js";
import { ANVIL_ENV, ANVIL_HISTORY_ARGS, anvilBinaryPath } from "./anvil-command.js";
import { rpcRequest } from "./json-rpc.js";

const debug = createDebug("avsctl:chain:anvil");

export interface StartAnvilOptions {
  /** Chain id (default 31337). */
  chainId?: number;
  /** Seconds between blocks; 0 or unset means automine (a block per transaction). */
  blockTime?: number;
  /** Port on 127.0.0.1; unset picks a free one. A taken explicit port fails with PORT_IN_USE. */
  port?: number;
  /** Mnemonic of the dev accounts (default: anvil's "test test ... junk"). */
  mnemonic?: string;
  /** Number of dev accounts (default 10). */
  accounts?: number;
  /** Balance of every dev account, in ether (default 10000). */
  balance?: string;
  /** Aborting kills the chain, during start-up or afterwards. */
  signal?: AbortSignal;
  /** How long to wait for the chain to answer (default 30 s). */
  startTimeoutMs?: number;
  /**
   * anvil's state file (`--state`): loaded at start when it exists, saved every second (as a
   * devnet's chains are) and on exit.
   */
  stateFile?: string;
}

/** How an anvil process ended. */
export interface AnvilExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface AnvilInstance {
  /** http://127.0.0.1:<port> */
  readonly rpcUrl: string;
  readonly port: number;
  readonly chainId: number;
  readonly pid: number;
  /** Settles when the process ends, whether by stop() or by a crash (for supervisors). */
  readonly exited: Promise<AnvilExit>;
  /** Stop the chain: SIGTERM, then SIGKILL after a grace period. Idempotent. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_CHAIN_ID = 31337;
const DEFAULT_START_TIMEOUT_MS = 30_000;
const STOP_GRACE_MS = 3_000;
const KILL_WAIT_MS = 5_000;
const PORT_ATTEMPTS = 5;
const OUTPUT_TAIL_CHARS = 8_192;

// Last resort for chains whose owner never called stop(): 'exit' handlers must be synchronous,
// so this can only send SIGKILL.
const liveChildren = new Set<ChildProcess>();
let exitHookInstalled = false;

function track(child: ChildProcess): void {
  liveChildren.add(child);
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on("exit", () => {
      for (const c of liveChildren) {
        try {
          c.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    });
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") {
    throw new AvsctlError("INTERNAL", "could not read the port the OS assigned");
  }
  return address.port;
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (hasExited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.off("exit", onExit);
      resolve(hasExited(child));
    }, ms);
    const onExit = () => {
      clearTimeout(timer);
      resolve(true);
    };
    child.once("exit", onExit);
  });
}

async function killChild(child: ChildProcess): Promise<void> {
  if (child.pid !== undefined && !hasExited(child)) {
    child.kill("SIGTERM");
    if (!(await waitExit(child, STOP_GRACE_MS))) {
      debug("pid %d ignored SIGTERM, sending SIGKILL", child.pid);
      child.kill("SIGKILL");
      await waitExit(child, KILL_WAIT_MS);
    }
  }
  liveChildren.delete(child);
}

async function rpcChainId(rpcUrl: string, signal: AbortSignal): Promise<number> {
  // not answering yet is a plain Error, which the caller retries; an AvsctlError ends the start
  const { result, error } = await rpcRequest<string>(rpcUrl, "eth_chainId", [], { signal }).catch(
    (cause: unknown) => {
      throw new Error("no answer yet", { cause });
    },
  );
  if (typeof result !== "string") throw new Error(`unexpected eth_chainId answer: ${JSON.stringify(error)}`);
  return Number(BigInt(result));
}

class PortCollision extends Error {}

interface Launched {
  child: ChildProcess;
  pid: number;
  exited: Promise<AnvilExit>;
}

/** One start attempt on a given port; rejects with PortCollision when the port was taken. */
/**
 * On Linux, `setpriv --pdeathsig` makes the kernel kill the chain when its owner dies however it
 * dies (SIGKILL included, where no 'exit' hook runs); setpriv execs anvil, so the pid stays
 * anvil's. Elsewhere, or without setpriv, the 'exit' hook is the last resort.
 */
function withParentDeathSignal(bin: string, args: string[]): [string, string[]] {
  if (process.platform === "linux" && existsSync(SETPRIV))
    return [SETPRIV, ["--pdeathsig", "KILL", "--", bin, ...args]];
  return [bin, args];
}
const SETPRIV = "/usr/bin/setpriv";

async function launch(
  bin: string,
  args: string[],
  port: number,
  chainId: number,
  timeoutMs: number,
  signal: AbortSignal | undefined,
): Promise<Launched> {
  const [command, commandArgs] = withParentDeathSignal(bin, [...args, "--port", String(port)]);
  const child = spawn(command, commandArgs, {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...ANVIL_ENV },
  });
  if (child.pid !== undefined) track(child);
  const exited = new Promise<AnvilExit>((resolve) => {
    child.once("exit", (code, signal) => {
      liveChildren.delete(child);
      resolve({ code, signal });
    });
  });
  let tail = "";
  let listening = false;
  let notifyListening: (() => void) | undefined;
  const onData = (chunk: Buffer) => {
    tail = (tail + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
    if (!listening && tail.includes(`Listening on 127.0.0.1:${port}`)) {
      listening = true;
      notifyListening?.();
    }
  };
  // Keep draining after start-up so a chatty anvil never blocks on a full pipe.
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);

  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  signal?.addEventListener("abort", onAbort, { once: true });
  const deadline = setTimeout(() => controller.abort(new Error("timeout")), timeoutMs);

  try {
    await new Promise<void>((resolve, reject) => {
      const fail = (error: unknown) => {
        cleanup();
        reject(error);
      };
      const onError = (error: NodeJS.ErrnoException) =>
        fail(
          new AvsctlError("TOOLCHAIN_MISSING", `could not run anvil (${error.code ?? error.message})`, {
            details: { bin },
            cause: error,
          }),
        );
      const onExit = (code: number | null, sig: string | null) => {
        if (/Address already in use/i.test(tail)) return fail(new PortCollision(tail));
        fail(
          new AvsctlError(
            "DEVNET_START_FAILED",
            `anvil exited during start-up (code ${code}, signal ${sig})`,
            {
              details: { output: tail.slice(-2_000) },
            },
          ),
        );
      };
      const onAbortWait = () => fail(controller.signal.reason);
      const cleanup = () => {
        child.off("error", onError);
        child.off("close", onExit);
        controller.signal.removeEventListener("abort", onAbortWait);
      };
      child.once("error", onError);
      // 'close' rather than 'exit': the bind error may still sit in the pipes when 'exit' fires.
      child.once("close", onExit);
      controller.signal.addEventListener("abort", onAbortWait, { once: true });
      if (controller.signal.aborted) return onAbortWait();
      const ready = () => {
        cleanup();
        resolve();
      };
      if (listening) ready();
      else notifyListening = ready;
    });
    notifyListening = undefined;

    // The line means the socket is bound; confirm it is our chain answering before handing it out.
    const rpcUrl = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt++) {
      try {
        const answered = await rpcChainId(rpcUrl, controller.signal);
        if (answered !== chainId) {
          throw new AvsctlError("DEVNET_START_FAILED", `anvil on port ${port} reports chain id ${answered}`, {
            details: { expected: chainId, answered },
          });
        }
        break;
      } catch (error) {
        if (controller.signal.aborted) throw controller.signal.reason;
        if (error instanceof AvsctlError || attempt >= 50 || hasExited(child)) throw error;
        await sleep(100);
      }
    }
    return { child, pid: child.pid!, exited };
  } catch (error) {
    await killChild(child);
    if (!(error instanceof Error) || error.message !== "timeout" || signal?.aborted) throw error;
    throw new AvsctlError("TIMEOUT", `anvil did not answer within ${timeoutMs} ms`, {
      details: { output: tail.slice(-2_000) },
    });
  } finally {
    clearTimeout(deadline);
    signal?.removeEventListener("abort", onAbort);
  }
}

/**
 * Start an anvil chain on 127.0.0.1 and resolve once it answers eth_chainId. Without a port, a
 * free one is picked (and picked again if another process grabs it first).
 *
 * @example
 * await using chain = await startAnvil({ chainId: 31338 });
 * const provider = new JsonRpcProvider(chain.rpcUrl);
 */
export async function startAnvil(opts: StartAnvilOptions = {}): Promise<AnvilInstance> {
  const chainId = opts.chainId ?? DEFAULT_CHAIN_ID;
  if (!Number.isSafeInteger(chainId) || chainId <= 0) {
    throw new AvsctlError("INVALID_ARGUMENT", "chainId: expected a positive integer", {
      details: { argument: "chainId" },
    });
  }
  const blockTime = opts.blockTime ?? 0;
  if (!Number.isFinite(blockTime) || blockTime < 0) {
    throw new AvsctlError("INVALID_ARGUMENT", "blockTime: expected seconds >= 0", {
      details: { argument: "blockTime" },
    });
  }
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 1 || opts.port > 65_535)) {
    throw new AvsctlError("INVALID_ARGUMENT", "port: expected 1-65535", { details: { argument: "port" } });
  }
  opts.signal?.throwIfAborted();

  const bin = anvilBinaryPath();
  const args = ["--host", "127.0.0.1", "--chain-id", String(chainId), ...ANVIL_HISTORY_ARGS];
  if (blockTime > 0) args.push("--block-time", String(blockTime));
  if (opts.mnemonic !== undefined) args.push("--mnemonic", opts.mnemonic);
  if (opts.accounts !== undefined) args.push("--accounts", String(opts.accounts));
  if (opts.balance !== undefined) args.push("--balance", opts.balance);
  if (opts.stateFile !== undefined) args.push("--state", opts.stateFile, "--state-interval", "1");
  const timeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;

  let launched: Launched | undefined;
  let port = 0;
  for (let attempt = 1; !launched; attempt++) {
    port = opts.port ?? (await freePort());
    debug("starting anvil chain %d on port %d (attempt %d)", chainId, port, attempt);
    try {
      launched = await launch(bin, args, port, chainId, timeoutMs, opts.signal);
    } catch (error) {
      if (!(error instanceof PortCollision)) throw error;
      if (opts.port !== undefined || attempt >= PORT_ATTEMPTS) {
        throw new AvsctlError("PORT_IN_USE", `port ${port} on 127.0.0.1 is already in use`, {
          hint: opts.port !== undefined ? "choose another port or stop what is using it" : undefined,
          details: { port },
        });
      }
    }
  }

  const { child, pid, exited } = launched;
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      opts.signal?.removeEventListener("abort", onAbort);
      debug("stopping anvil pid %d", pid);
      await killChild(child);
    })();
    return stopping;
  };
  const onAbort = () => void stop();
  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) {
    await stop();
    throw opts.signal.reason;
  }
  debug("anvil chain %d ready on port %d (pid %d)", chainId, port, pid);

  return {
    rpcUrl: `http://127.0.0.1:${port}`,
    port,
    chainId,
    pid,
    exited,
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
