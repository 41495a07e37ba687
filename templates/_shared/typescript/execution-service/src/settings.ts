import { envValue, portFrom } from "./http.ts";
import { addressOf, normalizePrivateKey } from "./signing.ts";

export type SignatureType = "ecdsa" | "bls";

export interface ExecutionSettings {
  host: string;
  port: number;
  /** The aggregator's JSON-RPC endpoint. */
  rpcUrl: string;
  privateKey: string;
  performerAddress: string;
  taskDefinitionId: number;
  signatureType: SignatureType;
  sendTaskTimeoutMs: number;
}

/** Reads the settings from the environment, naming the variable when one is missing or wrong. */
export function loadExecutionSettings(env: NodeJS.ProcessEnv = process.env): ExecutionSettings {
  const rpcUrl = envValue(env, "OTHENTIC_CLIENT_RPC_ADDRESS");
  if (!rpcUrl) throw new Error("OTHENTIC_CLIENT_RPC_ADDRESS is not set (the aggregator's JSON-RPC URL)");
  const rawKey = envValue(env, "PRIVATE_KEY_PERFORMER");
  if (!rawKey) throw new Error("PRIVATE_KEY_PERFORMER is not set (the performer's private key)");
  const privateKey = normalizePrivateKey(rawKey);
  return {
    host: envValue(env, "HOST") ?? "0.0.0.0",
    port: portFrom(env, "EXECUTION_PORT", 4003),
    rpcUrl,
    privateKey,
    // With BLS the performer is still identified by its ECDSA address; Othentic derives the
    // BLS key from the same private key, so the address of that key is the right default.
    performerAddress: parsePerformerAddress(envValue(env, "PERFORMER_ADDRESS")) ?? addressOf(privateKey),
    taskDefinitionId: parseTaskDefinitionId(envValue(env, "TASK_DEFINITION_ID") ?? 1, "TASK_DEFINITION_ID"),
    signatureType: parseSignatureType(
      envValue(env, "PERFORMER_SIGNATURE_TYPE") ?? "ecdsa",
      "PERFORMER_SIGNATURE_TYPE",
    ),
    sendTaskTimeoutMs: Number(envValue(env, "SEND_TASK_TIMEOUT_MS") ?? 15000),
  };
}

function parsePerformerAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^0x[0-9a-fA-F]{40}$/.test(value))
    throw new Error(`PERFORMER_ADDRESS must be a 0x-prefixed 20-byte address, got "${value}"`);
  return value;
}

/** A uint16 task definition id, given as a number or a decimal string. */
export function parseTaskDefinitionId(value: unknown, name = "taskDefinitionId"): number {
  const id = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id > 65535) {
    throw new Error(`${name} must be an integer from 0 to 65535, got ${JSON.stringify(value)}`);
  }
  return id;
}

export function parseSignatureType(value: unknown, name = "signatureType"): SignatureType {
  if (value === "ecdsa" || value === "bls") return value;
  throw new Error(`${name} must be "ecdsa" or "bls", got ${JSON.stringify(value)}`);
}

export function parseChainId(value: unknown, name = "targetChainId"): number {
  const id = typeof value === "string" && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof id !== "number" || !Number.isSafeInteger(id) || id <= 0) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(value)}`);
  }
  return id;
}
