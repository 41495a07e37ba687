/**
 * JSON-RPC 2.0 over HTTP POST for the aggregator endpoint: single requests and batches (ethers'
 * JsonRpcProvider batches `eth_chainId` with `sendTask`), notifications, and one table of
 * stable error codes. Bad input of any kind becomes an error response; nothing here throws.
 */

import { registerCatalog } from "../errors.js";

/**
 * Stable JSON-RPC error codes. -32700..-32600 are the JSON-RPC 2.0 codes; -32001.. are ours.
 * Every error also carries `data.reason` (the key below) so clients can match on a name.
 */
export const RPC_ERRORS = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
  PAYLOAD_TOO_LARGE: -32001,
  BATCH_TOO_LARGE: -32002,
  OVERLOADED: -32003,
  INVALID_SIGNATURE: -32010,
  PERFORMER_NOT_ACTIVE: -32011,
  TASK_DEFINITION_NOT_FOUND: -32012,
  TASK_DEFINITION_EXPIRED: -32013,
  INSUFFICIENT_VOTING_POWER: -32014,
  RESTRICTED_OPERATOR: -32015,
  UNKNOWN_CHAIN: -32016,
  NO_ELIGIBLE_ATTESTERS: -32017,
  METHOD_DISABLED: -32018,
  TASK_NOT_FOUND: -32019,
  CHAIN_UNAVAILABLE: -32020,
  TASK_ALREADY_SUBMITTED: -32021,
  /** A re-sent task the aggregator already has; `data` carries its hash and state. Not a failure. */
  TASK_KNOWN: -32022,
  /** The connected attesters hold too little voting power to approve a task; `data` says how much. */
  INSUFFICIENT_CONNECTED_POWER: -32023,
} as const;
registerCatalog("json-rpc", RPC_ERRORS);

export type RpcErrorReason = keyof typeof RPC_ERRORS;

/** An error answered to the client as a JSON-RPC error object. */
export class RpcError extends Error {
  readonly code: number;
  constructor(
    readonly reason: RpcErrorReason,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.code = RPC_ERRORS[reason];
  }
  toJSON(): { code: number; message: string; data: Record<string, unknown> } {
    return { code: this.code, message: this.message, data: { reason: this.reason, ...this.details } };
  }
}

type Id = string | number | null;

export interface RpcResponse {
  jsonrpc: "2.0";
  id: Id;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

/** A method implementation: positional (array) or named (object) params, as sent. */
export type RpcMethod = (params: unknown[] | Record<string, unknown>) => unknown | Promise<unknown>;

export interface DispatchOptions {
  methods: Record<string, RpcMethod>;
  maxBatch: number;
  /** Called once per call with the method name and the error reason (undefined on success). */
  onCall?: (method: string, reason: RpcErrorReason | undefined, error?: unknown) => void;
}

function errorResponse(id: Id, err: RpcError): RpcResponse {
  return { jsonrpc: "2.0", id, error: err.toJSON() };
}

function isValidId(id: unknown): id is Id {
  return id === null || typeof id === "string" || (typeof id === "number" && Number.isFinite(id));
}

async function handleOne(request: unknown, opts: DispatchOptions): Promise<RpcResponse | undefined> {
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    return errorResponse(null, new RpcError("INVALID_REQUEST", "a request must be a JSON object"));
  }
  const r = request as Record<string, unknown>;
  const hasId = Object.hasOwn(r, "id");
  const id: Id = hasId && isValidId(r.id) ? r.id : null;
  if (hasId && !isValidId(r.id)) {
    return errorResponse(null, new RpcError("INVALID_REQUEST", "id must be a string, a number or null"));
  }
  if (r.jsonrpc !== undefined && r.jsonrpc !== "2.0") {
    return errorResponse(id, new RpcError("INVALID_REQUEST", 'jsonrpc must be "2.0"'));
  }
  if (typeof r.method !== "string" || r.method.length === 0 || r.method.length > 128) {
    return errorResponse(id, new RpcError("INVALID_REQUEST", "method must be a non-empty string"));
  }
  const params = r.params ?? [];
  if (typeof params !== "object" || params === null) {
    return errorResponse(id, new RpcError("INVALID_REQUEST", "params must be an array or an object"));
  }
  const method = Object.hasOwn(opts.methods, r.method) ? opts.methods[r.method] : undefined;
  if (!method) {
    opts.onCall?.("(unknown)", "METHOD_NOT_FOUND");
    return errorResponse(
      id,
      new RpcError("METHOD_NOT_FOUND", `method ${JSON.stringify(r.method)} does not exist`),
    );
  }
  try {
    const result = await method(params as unknown[] | Record<string, unknown>);
    opts.onCall?.(r.method, undefined);
    return hasId ? { jsonrpc: "2.0", id, result: result ?? null } : undefined;
  } catch (error) {
    const err =
      error instanceof RpcError
        ? error
        : new RpcError("INTERNAL_ERROR", "internal error while handling the request");
    opts.onCall?.(r.method, err.reason, error);
    return hasId ? errorResponse(id, err) : undefined;
  }
}

/**
 * Handles one HTTP body: returns the JSON text to answer (undefined when only notifications
 * were sent) and never throws.
 */
export async function dispatchJsonRpc(body: string, opts: DispatchOptions): Promise<string | undefined> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return JSON.stringify(errorResponse(null, new RpcError("PARSE_ERROR", "the body is not valid JSON")));
  }
  if (Array.isArray(parsed)) {
    if (parsed.length === 0) {
      return JSON.stringify(errorResponse(null, new RpcError("INVALID_REQUEST", "empty batch")));
    }
    if (parsed.length > opts.maxBatch) {
      return JSON.stringify(
        errorResponse(
          null,
          new RpcError("BATCH_TOO_LARGE", `a batch may hold at most ${opts.maxBatch} requests`),
        ),
      );
    }
    const responses = (await Promise.all(parsed.map((req) => handleOne(req, opts)))).filter(
      (r): r is RpcResponse => r !== undefined,
    );
    return responses.length > 0 ? JSON.stringify(responses) : undefined;
  }
  const response = await handleOne(parsed, opts);
  return response ? JSON.stringify(response) : undefined;
}

/** The JSON text of an error answered outside dispatch (e.g. body too large). */
export function rpcErrorBody(err: RpcError): string {
  return JSON.stringify(errorResponse(null, err));
}
