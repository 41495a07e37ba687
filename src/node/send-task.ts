/**
 * Shape checks of the `sendTask` parameters (docs/protocol.md#node-json-rpc), before anything touches the
 * chain: positional 5- and 7-parameter forms (and the same keys as an object), hex, sizes,
 * signature encodings. Every failure is an RpcError with a stable code.
 */

import { getAddress } from "ethers/address";
import { FIRST_INTERNAL_TASK_DEFINITION_ID, isInternalTaskDefinitionId } from "../chain/well-known.js";
import { isOnCurveG1 } from "../crypto/bn254-field.js";
import { RpcError } from "./json-rpc.js";
import type { RequestLimits } from "./options.js";

export type SignatureType = "ecdsa" | "bls";

/** A checked sendTask request. Hex is lowercase; the performer is checksummed. */
export interface TaskRequest {
  proofOfTask: string;
  data: string;
  taskDefinitionId: number;
  performer: string;
  signatureType: SignatureType;
  /** 65-byte r||s||v with v normalised to 27/28 (ECDSA). */
  ecdsaSignature?: string;
  /** [x, y] of the G1 signature (BLS). */
  blsSignature?: readonly [bigint, bigint];
  /** The L2 the task targets; undefined = the first configured L2. */
  targetChainId?: number;
}

const HEX_RE = /^0x([0-9a-fA-F]{2})*$/;
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

function invalid(message: string, param: string): RpcError {
  return new RpcError("INVALID_PARAMS", message, { param });
}

function asString(value: unknown, name: string): string {
  if (typeof value !== "string") throw invalid(`${name} must be a string`, name);
  return value;
}

/** An integer id given as a JSON number or a decimal / 0x string. */
function asInteger(value: unknown, name: string, max: number): number {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string" && /^(0|[1-9][0-9]{0,15}|0x[0-9a-fA-F]{1,13})$/.test(value))
    n = Number(value);
  else throw invalid(`${name} must be an integer`, name);
  if (!Number.isSafeInteger(n) || n < 0 || n > max)
    throw invalid(`${name} must be an integer in [0, ${max}]`, name);
  return n;
}

function checkAddress(value: unknown, name: string): string {
  const s = asString(value, name);
  if (!/^0x[0-9a-fA-F]{40}$/.test(s)) throw invalid(`${name} must be a 0x-prefixed 20-byte address`, name);
  try {
    return getAddress(s);
  } catch {
    throw invalid(`${name} has a bad checksum`, name);
  }
}

function parseEcdsaSignature(value: unknown): string {
  const sig = asString(value, "signature");
  if (!HEX_RE.test(sig) || sig.length !== 132) {
    throw invalid("an ECDSA signature must be 65 bytes of 0x-hex (r, s, v)", "signature");
  }
  const s = BigInt(`0x${sig.slice(66, 130)}`);
  let v = Number.parseInt(sig.slice(130, 132), 16);
  if (v === 0 || v === 1) v += 27;
  if (v !== 27 && v !== 28)
    throw new RpcError("INVALID_SIGNATURE", "ECDSA signature v must be 27 or 28", { param: "signature" });
  if (s === 0n || s > SECP256K1_HALF_N) {
    throw new RpcError(
      "INVALID_SIGNATURE",
      "ECDSA signature s must be in the lower half of the curve order",
      {
        param: "signature",
      },
    );
  }
  return `${sig.slice(0, 130).toLowerCase()}${v.toString(16)}`;
}

/** A BLS performer signature: the JSON text `{"x":"0x..","y":"0x.."}` (or that object). */
function parseBlsSignature(value: unknown): readonly [bigint, bigint] {
  let obj: unknown = value;
  if (typeof value === "string") {
    if (value.length > 512) throw invalid("a BLS signature is the JSON text {x, y}", "signature");
    try {
      obj = JSON.parse(value);
    } catch {
      throw invalid('a BLS signature must be the JSON text {"x":"0x..","y":"0x.."}', "signature");
    }
  }
  const { x, y } = (obj ?? {}) as { x?: unknown; y?: unknown };
  const word = (w: unknown, name: string): bigint => {
    if (typeof w !== "string" || !/^0x[0-9a-fA-F]{1,64}$/.test(w)) {
      throw invalid(`BLS signature ${name} must be a 0x-hex 32-byte word`, "signature");
    }
    return BigInt(w);
  };
  const point = [word(x, "x"), word(y, "y")] as const;
  if (!isOnCurveG1(point[0], point[1]) || (point[0] === 0n && point[1] === 0n)) {
    throw new RpcError("INVALID_SIGNATURE", "the BLS signature is not a point of G1", { param: "signature" });
  }
  return point;
}

const KEYS = [
  "proofOfTask",
  "data",
  "taskDefinitionId",
  "performerAddress",
  "signature",
  "signatureType",
  "targetChainId",
] as const;

/** Checks the raw params of one sendTask call. */
export function parseSendTaskParams(
  params: unknown[] | Record<string, unknown>,
  limits: RequestLimits,
): TaskRequest {
  let list: unknown[];
  if (Array.isArray(params)) {
    if (params.length < 5 || params.length > 7) {
      throw invalid(
        "sendTask takes [proofOfTask, data, taskDefinitionId, performerAddress, signature, signatureType?, targetChainId?]",
        "params",
      );
    }
    list = params;
  } else {
    const o = params as Record<string, unknown>;
    list = KEYS.map((k) => (k === "performerAddress" ? (o.performerAddress ?? o.performer) : o[k]));
    while (list.length > 5 && list[list.length - 1] === undefined) list.pop();
  }
  const [proofRaw, dataRaw, defRaw, performerRaw, sigRaw, typeRaw, chainRaw] = list;

  const proofOfTask = asString(proofRaw, "proofOfTask");
  if (proofOfTask.length === 0) throw invalid("proofOfTask must not be empty", "proofOfTask");
  if (proofOfTask.length > limits.maxProofLength) {
    throw invalid(`proofOfTask is longer than ${limits.maxProofLength} characters`, "proofOfTask");
  }
  const data = asString(dataRaw, "data");
  if (!HEX_RE.test(data)) throw invalid("data must be 0x-prefixed hex with an even number of digits", "data");
  if ((data.length - 2) / 2 > limits.maxDataBytes)
    throw invalid(`data is larger than ${limits.maxDataBytes} bytes`, "data");

  const taskDefinitionId = asInteger(defRaw, "taskDefinitionId", 0xffff);
  if (isInternalTaskDefinitionId(taskDefinitionId)) {
    throw invalid(
      `task definition ids from ${FIRST_INTERNAL_TASK_DEFINITION_ID} are reserved for internal tasks`,
      "taskDefinitionId",
    );
  }
  const performer = checkAddress(performerRaw, "performerAddress");

  let signatureType: SignatureType = "ecdsa";
  if (list.length >= 6 && typeRaw !== undefined) {
    if (typeRaw === null && list.length === 6) signatureType = "ecdsa";
    else if (typeof typeRaw === "string" && /^(ecdsa|bls)$/i.test(typeRaw)) {
      signatureType = typeRaw.toLowerCase() as SignatureType;
    } else throw invalid('signatureType must be "ecdsa" or "bls"', "signatureType");
  }
  let targetChainId: number | undefined;
  if (chainRaw !== undefined && chainRaw !== null) {
    if (typeRaw === undefined || typeRaw === null) {
      throw invalid("targetChainId requires signatureType", "signatureType");
    }
    targetChainId = asInteger(chainRaw, "targetChainId", Number.MAX_SAFE_INTEGER);
    if (targetChainId === 0) throw invalid("targetChainId must be positive", "targetChainId");
  }

  const request: TaskRequest = {
    proofOfTask,
    data: data.toLowerCase(),
    taskDefinitionId,
    performer,
    signatureType,
    targetChainId,
  };
  if (signatureType === "ecdsa") request.ecdsaSignature = parseEcdsaSignature(sigRaw);
  else request.blsSignature = parseBlsSignature(sigRaw);
  return request;
}

/** Checks the params of `sendCustomMessage`: `[0x-hex data]`. */
export function parseCustomMessageParams(
  params: unknown[] | Record<string, unknown>,
  limits: RequestLimits,
): string {
  const value = Array.isArray(params) ? params[0] : (params as Record<string, unknown>).data;
  if (Array.isArray(params) && params.length !== 1) throw invalid("sendCustomMessage takes [data]", "params");
  const data = asString(value, "data");
  if (!HEX_RE.test(data)) throw invalid("data must be 0x-prefixed hex with an even number of digits", "data");
  if ((data.length - 2) / 2 > limits.maxDataBytes)
    throw invalid(`data is larger than ${limits.maxDataBytes} bytes`, "data");
  return data.toLowerCase();
}
