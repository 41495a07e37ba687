/** A task engine on a temp sqlite file, owners with real keys, and a small JSON client. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { authMessage } from "../../../src/task-engine/auth.js";
import {
  startTaskEngine,
  type TaskEngine,
  type TaskEngineOptions,
} from "../../../src/task-engine/service.js";

export interface Harness {
  engine: TaskEngine;
  dir: string;
  /** Every log line the engine wrote, as JSON text. */
  logs: string[];
  close(): Promise<void>;
}

export async function startHarness(opts: Partial<TaskEngineOptions> = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(tmpdir(), "avsctl-engine-"));
  const logs: string[] = [];
  const engine = await startTaskEngine({
    storeFile: path.join(dir, "engine.sqlite"),
    log: (record) => logs.push(JSON.stringify(record)),
    verbose: true,
    pollMs: 200,
    ...opts,
  });
  return {
    engine,
    dir,
    logs,
    close: async () => {
      await engine.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface Reply {
  status: number;
  body: any;
  text: string;
}

export async function call(
  url: string,
  method: string,
  route: string,
  token?: string,
  body?: unknown,
): Promise<Reply> {
  const res = await fetch(`${url}${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // metrics are text
  }
  return { status: res.status, body: parsed, text };
}

/** A key that signs sign-in messages (a Wallet or an HD wallet). */
export type Owner = Pick<Wallet, "address" | "signMessage">;

export async function signedBody(
  wallet: Owner,
  opts: { chainId?: number; issuedAt?: number; expiredAt?: number; wallet?: string } = {},
) {
  const now = Date.now();
  const message = authMessage({
    chainId: opts.chainId ?? 31337,
    wallet: opts.wallet ?? wallet.address,
    issuedAt: opts.issuedAt ?? now,
    expiredAt: opts.expiredAt ?? now + 600_000,
  });
  return {
    ownerAddress: opts.wallet ?? wallet.address,
    message,
    signature: await wallet.signMessage(message),
  };
}

/** Signs in and returns the token. */
export async function signIn(url: string, wallet: Owner): Promise<string> {
  const r = await call(url, "POST", "/auth:exchange", undefined, await signedBody(wallet));
  if (r.status !== 200) throw new Error(`sign-in failed: ${r.text}`);
  return r.body.token as string;
}

/** A small valid workflow: the trigger, then one customCode node. */
export function flow(
  extra: Record<string, unknown> = {},
  source = "return trig.data.n + 1",
): Record<string, unknown> {
  return {
    name: "flow",
    trigger: { id: "trigger", name: "trig", type: "manual", config: { data: { n: 1 } } },
    nodes: [{ id: "c", name: "c", type: "customCode", config: { lang: "javascript", source } }],
    edges: [{ id: "e1", source: "trigger", target: "c" }],
    ...extra,
  };
}

/** Waits (bounded) until `probe` gives a truthy value. */
export async function until<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export { Wallet };
