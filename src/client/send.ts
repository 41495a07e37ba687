import { randomBytes } from "node:crypto";
import { redactUrl } from "../chain/rpc.js";
import { sampleProof, toDataHex } from "../devnet/samples/sample-rule.js";
import { AvsctlError, type ErrorCode, invalidArgument } from "../errors.js";

export type SignatureType = "ecdsa" | "bls";

export interface TaskInput {
  proofOfTask: string;
  data: string;
  taskDefinitionId: number;
}

export interface SendTarget {
  aggregatorUrl: string;
  performerKey: string;
  sigType: SignatureType;
  /** Sent as the 7th parameter when given (requires the 6th, the signature type). */
  targetChainId?: number;
}

export interface SentTask extends TaskInput {
  taskHash: string;
  performer: string;
  sentAt: number;
  /** The aggregator already had this very task (JSON-RPC -32022): nothing new was created. */
  known?: boolean;
}

/** What an aggregator's JSON-RPC error means for the user: the stable code and its exit. */
const RPC_REASON_CODES: Record<string, ErrorCode> = {
  TASK_DEFINITION_NOT_FOUND: "TASK_DEF_NOT_FOUND",
  INVALID_PARAMS: "INVALID_ARGUMENT",
  UNKNOWN_CHAIN: "INVALID_ARGUMENT",
  PAYLOAD_TOO_LARGE: "INVALID_ARGUMENT",
  CHAIN_UNAVAILABLE: "RPC_UNREACHABLE",
};

/** What to do about each refusal; `def` is the task definition the send named. */
const RPC_REASON_HINTS: Record<string, (def: string) => string> = {
  TASK_DEFINITION_NOT_FOUND: () =>
    "`avsctl task-def list` shows the definitions; pass one with --task-def <id>",
  PERFORMER_NOT_ACTIVE: () =>
    "the performer must be a registered operator: `avsctl devnet status` lists them",
  RESTRICTED_OPERATOR: (def) =>
    `the definition restricts its operators and the performer is not among them: \`avsctl task-def show ${def}\``,
  INSUFFICIENT_VOTING_POWER: (def) =>
    `the performer's voting power is below the definition's minimum: \`avsctl task-def show ${def}\``,
  TASK_DEFINITION_EXPIRED: () =>
    "the definition's blockExpiry has passed; create a new one with `avsctl task-def create`",
  OVERLOADED: () => "the aggregator is busy; send fewer tasks at once (--concurrency)",
};

/** A JSON-RPC refusal as an avsctl error; the aggregator's reason decides the code. */
function rpcRefusal(
  method: string,
  params: unknown[],
  error: { code: number; message: string; data?: { reason?: string } },
) {
  const reason = error.data?.reason ?? "";
  // sendTask's third parameter is the task definition id
  const def = method === "sendTask" ? String(params[2]) : "<id>";
  return new AvsctlError(
    RPC_REASON_CODES[reason] ?? "COMMAND_FAILED",
    `${method} refused by the aggregator: ${error.message}`,
    {
      hint: RPC_REASON_HINTS[reason]?.(def) ?? "`avsctl devnet logs aggregator` shows why",
      details: { rpcError: error },
    },
  );
}

/** JSON-RPC -32022 (docs/protocol.md): the aggregator answers a re-sent task with the task it has. */
export const TASK_KNOWN_CODE = -32022;

/**
 * The task to send: `--data` as text or 0x-hex (default: a fresh unique payload), `--proof`
 * as given or, by default, the built-in sample service's proof of that data.
 */
export function buildTask(opts: { proof?: string; data?: string; taskDefinitionId: number }): TaskInput {
  const data = toDataHex(
    opts.data ?? JSON.stringify({ nonce: randomBytes(8).toString("hex"), at: Date.now() }),
  );
  return { proofOfTask: opts.proof ?? sampleProof(data), data, taskDefinitionId: opts.taskDefinitionId };
}

let idCounter = 0;

/** One JSON-RPC call to the aggregator; JSON-RPC errors become TASK_REJECTED-free input errors. */
export async function aggregatorCall(
  url: string,
  method: string,
  params: unknown[],
  timeoutMs = 15_000,
): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: ++idCounter, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    const timedOut = (error as Error).name === "TimeoutError";
    throw new AvsctlError(
      timedOut ? "TIMEOUT" : "RPC_UNREACHABLE",
      `the aggregator at ${redactUrl(url)} ${timedOut ? "did not answer in time" : "is unreachable"}`,
      {
        hint: "is the devnet up? `avsctl devnet status` checks every component",
        cause: error,
      },
    );
  }
  const body = (await response.json().catch(() => undefined)) as
    | { result?: unknown; error?: { code: number; message: string } }
    | undefined;
  if (!body)
    throw new AvsctlError("COMMAND_FAILED", `the aggregator answered HTTP ${response.status} without JSON`);
  if (body.error) throw rpcRefusal(method, params, body.error);
  return body.result;
}

/**
 * One JSON-RPC batch to the aggregator; each answer in the order of `calls`, as a result or an
 * error object. Throws only when the endpoint cannot be reached or answers no batch.
 */
export async function aggregatorBatch(
  url: string,
  calls: Array<{ method: string; params: unknown[] }>,
  timeoutMs = 15_000,
): Promise<Array<{ result?: unknown; error?: { code: number; message: string } }>> {
  if (calls.length === 0) return [];
  const first = ++idCounter;
  idCounter += calls.length;
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(calls.map((c, i) => ({ jsonrpc: "2.0", id: first + i, ...c }))),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const body = (await response.json().catch(() => undefined)) as
    | Array<{ id: number; result?: unknown; error?: { code: number; message: string } }>
    | undefined;
  if (!Array.isArray(body))
    throw new Error(`the aggregator answered HTTP ${response.status} without a batch`);
  const byId = new Map(body.map((r) => [r.id, r]));
  return calls.map((_, i) => byId.get(first + i) ?? { error: { code: -32603, message: "no answer" } });
}

/** Signs the task hash as the performer (raw ECDSA, or BLS as Othentic's JSON) and calls sendTask. */
export async function sendTaskRpc(task: TaskInput, target: SendTarget): Promise<SentTask> {
  const { Wallet } = await import("ethers");
  const { taskHash } = await import("../crypto/task-hash.js");
  const performer = new Wallet(target.performerKey).address;
  const hash = taskHash({ ...task, performer });
  let signature: string;
  if (target.sigType === "bls") {
    const bls = await import("../crypto/bls.js");
    const { blsSignatureToJson } = await import("../crypto/bls-encoding.js");
    await bls.initBls();
    signature = blsSignatureToJson(bls.signTaskBls(bls.blsSecretFromSeed(target.performerKey), hash));
  } else {
    const { signTaskEcdsa } = await import("../crypto/ecdsa.js");
    signature = signTaskEcdsa(target.performerKey, hash);
  }
  const params: unknown[] = [task.proofOfTask, task.data, task.taskDefinitionId, performer, signature];
  if (target.sigType !== "ecdsa" || target.targetChainId !== undefined) params.push(target.sigType);
  if (target.targetChainId !== undefined) params.push(target.targetChainId);
  const sentAt = Date.now();
  try {
    await aggregatorCall(target.aggregatorUrl, "sendTask", params);
  } catch (error) {
    if (rpcErrorCode(error) !== TASK_KNOWN_CODE) throw error;
    return { ...task, taskHash: hash, performer, sentAt, known: true };
  }
  return { ...task, taskHash: hash, performer, sentAt };
}

function rpcErrorCode(error: unknown): number | undefined {
  return ((error as AvsctlError).details?.rpcError as { code?: number } | undefined)?.code;
}

/**
 * The body POSTed to /task/execute: `--data` holding a JSON object gives the task's inputs
 * (`{"symbol":"BTCUSDT"}`); any other text travels as `data`.
 */
export function executionInput(
  taskDefinitionId: number,
  data: string | undefined,
  targetChainId: number | undefined,
): { taskDefinitionId: number; [field: string]: unknown } {
  let inputs: Record<string, unknown> = {};
  if (data !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      parsed = undefined;
    }
    inputs =
      parsed !== null && typeof parsed === "object" && !Array.isArray(parsed)
        ? (parsed as Record<string, unknown>)
        : { data };
  }
  return { ...inputs, taskDefinitionId, ...(targetChainId === undefined ? {} : { targetChainId }) };
}

/** POSTs the execution service's /task/execute; the service signs and sends by itself. */
export async function sendTaskViaExecution(
  executionUrl: string,
  input: { taskDefinitionId: number; [field: string]: unknown },
  performer: string,
): Promise<SentTask> {
  const sentAt = Date.now();
  let response: Response;
  try {
    response = await fetch(`${executionUrl.replace(/\/$/, "")}/task/execute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(30_000),
    });
  } catch (error) {
    throw new AvsctlError(
      "RPC_UNREACHABLE",
      `the execution service at ${redactUrl(executionUrl)} is unreachable`,
      {
        hint: "is the devnet up with services? `avsctl devnet status`",
        cause: error,
      },
    );
  }
  const body = (await response.json().catch(() => undefined)) as
    | {
        data?: { proofOfTask?: string; data?: string; taskDefinitionId?: number };
        error?: boolean;
        message?: string;
      }
    | undefined;
  const d = body?.data;
  if (!response.ok || body?.error || typeof d?.proofOfTask !== "string") {
    throw new AvsctlError(
      "EXECUTION_FAILED",
      `the execution service failed: ${body?.message ?? `HTTP ${response.status}`}`,
      {
        hint: "`avsctl devnet logs execution` shows the service's own log",
        details: { status: response.status },
      },
    );
  }
  const task: TaskInput = {
    proofOfTask: d.proofOfTask,
    data: toDataHex(d.data ?? "0x"),
    taskDefinitionId: Number(d.taskDefinitionId ?? input.taskDefinitionId),
  };
  const { taskHash } = await import("../crypto/task-hash.js");
  const known = (d as { known?: unknown }).known === true;
  return {
    ...task,
    taskHash: taskHash({ ...task, performer }),
    performer,
    sentAt,
    ...(known ? { known } : {}),
  };
}

export function parseSigType(value: string | undefined): SignatureType {
  const v = (value ?? "ecdsa").toLowerCase();
  if (v !== "ecdsa" && v !== "bls")
    throw invalidArgument("--sig-type", `expected ecdsa or bls, got "${value}"`);
  return v;
}

export interface LatencySummary {
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function percentiles(values: readonly number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted.length ? sorted[sorted.length - 1]! : 0 };
}
