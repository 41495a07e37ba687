/** A task engine on a temp sqlite file, owners with real keys, and a small JSON client. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll } from "vitest";
import { engineFetch, signInBody } from "../../../src/task-engine/client.js";
import {
  startTaskEngine,
  type TaskEngine,
  type TaskEngineOptions,
} from "../../../src/task-engine/service.js";
import type { Execution } from "../../../src/task-engine/types.js";
import { code } from "../../unit/workflow/build.js";

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

/** A file's engine and the owner it signed in as; set once the file's beforeAll has run. */
export interface Session {
  harness: Harness;
  url: string;
  token: string;
  /** A request as that owner. */
  call(method: string, route: string, body?: unknown): Promise<Reply>;
}

/**
 * One engine for the whole test file, signed in as a fresh owner before the first test and
 * closed after the last: the files that test one owner's view of the API all start this way.
 */
export function useSession(): Session {
  const session = {
    call: (method: string, route: string, body?: unknown) =>
      call(session.url, method, route, session.token, body),
  } as Session;
  beforeAll(async () => {
    session.harness = await startHarness();
    session.url = session.harness.engine.url;
    session.token = await signIn(session.url, Wallet.createRandom());
  });
  afterAll(async () => {
    await session.harness?.close();
  });
  return session;
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
  const res = await engineFetch(url, method, route, { token, body, signal: AbortSignal.timeout(30_000) });
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
  // `opts.wallet` lets a test name an owner other than the signer: a sign-in the engine refuses
  return signInBody(wallet, {
    chainId: opts.chainId ?? 31337,
    wallet: opts.wallet ?? wallet.address,
    issuedAt: opts.issuedAt ?? now,
    expiredAt: opts.expiredAt ?? now + 600_000,
  });
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
    nodes: [code("c", source)],
    edges: [{ id: "e1", source: "trigger", target: "c" }],
    ...extra,
  };
}

/** An execution as the engine's worker hands it to a run that is sealed for attesters. */
export function sampleExecution(): Execution {
  return {
    id: "01JEXEC0000000000000000000",
    taskId: "01JTASK0000000000000000000",
    index: 0,
    triggerReason: { type: "manual" },
    triggerData: null,
  } as unknown as Execution;
}

export { until } from "../../helpers/until.js";
// the workflow tests' customCode node builder, for the engine's tests' own workflows
export { code, Wallet };
