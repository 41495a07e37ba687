import { randomBytes } from "node:crypto";
import { redactUrl } from "../chain/rpc.js";
import { sampleProof, toDataHex } from "../devnet/samples/sample-rule.js";
import { AvsctlError, invalidArgument } from "../errors.js";

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
}

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
  if (body.error) {
    throw new AvsctlError("COMMAND_FAILED", `${method} refused by the aggregator: ${body.error.message}`, {
      details: { rpcError: body.error },
    });
  }
  return body.result;
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
  await aggregatorCall(target.aggregatorUrl, "sendTask", params);
  return { ...task, taskHash: hash, performer, sentAt };
}

/** POSTs the execution service's /task/execute; the service signs and sends by itself. */
export async function sendTaskViaExecution(
  executionUrl: string,
  input: { taskDefinitionId: number; data?: string; targetChainId?: number },
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
      "COMMAND_FAILED",
      `the execution service failed: ${body?.message ?? `HTTP ${response.status}`}`,
      {
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
  return { ...task, taskHash: taskHash({ ...task, performer }), performer, sentAt };
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
