import { type RpcAnswer, type RpcErrorObject, rpcRequest } from "../chain/json-rpc.js";
import { redactUrl } from "../chain/rpc.js";
import type { ChainTarget } from "../chain/target.js";
import { toDataHex } from "../crypto/bytes.js";
import { AvsctlError, type ErrorCode, invalidArgument, isAvsctlError } from "../errors.js";
import { shellQuote } from "../shell-quote.js";

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

/**
 * Where a send goes, for its hints: the project's devnet (whose commands can look into it), or an
 * aggregator the user named with --aggregator, where no devnet command reaches and only the
 * flags and variables the user gave name the chain.
 */
export interface SendSite {
  /** The user's --aggregator URL; absent on the devnet. */
  aggregator?: string;
  /**
   * Off the devnet, the target flags a task-def command needs to read that network's
   * definitions, spelled with the values the user gave (placeholders where none was given).
   */
  taskDefTarget?: string;
}

/** `avsctl task-def <args>` against the send's network: the devnet's by default, else the user's. */
function taskDefCommand(args: string, site: SendSite): string {
  return `\`avsctl task-def ${args}${site.aggregator === undefined ? "" : ` ${site.taskDefTarget ?? TASK_DEF_TARGET_PLACEHOLDER}`}\``;
}

export const TASK_DEF_TARGET_PLACEHOLDER = "--rpc-url <l2-url> --attestation-center <address>";

/** What to do about each refusal; `def` is the task definition the send named. */
const RPC_REASON_HINTS: Record<
  string,
  (def: string, site: SendSite, data: Record<string, unknown> | undefined) => string
> = {
  TASK_DEFINITION_NOT_FOUND: (_def, site) =>
    `${taskDefCommand("list", site)} shows the definitions; pass one with --task-def <id>`,
  PERFORMER_NOT_ACTIVE: (_def, site) =>
    site.aggregator === undefined
      ? "the performer must be a registered operator: `avsctl devnet status` lists them"
      : "the performer (the address of PRIVATE_KEY_PERFORMER or AVSCTL_PRIVATE_KEY) must be a registered operator of the AVS the aggregator serves",
  RESTRICTED_OPERATOR: (def, site) =>
    `the definition restricts its operators and the performer is not among them: ${taskDefCommand(`show ${def}`, site)}`,
  INSUFFICIENT_VOTING_POWER: (def, site) =>
    `the performer's voting power is below the definition's minimum: ${taskDefCommand(`show ${def}`, site)}`,
  TASK_DEFINITION_EXPIRED: (def, site) => expiredDefinitionHint(def, undefined, site),
  OVERLOADED: () => "the aggregator is busy; send fewer tasks at once (--concurrency, --rate)",
  INSUFFICIENT_CONNECTED_POWER: (_def, site) =>
    site.aggregator === undefined
      ? "too few attesters are connected to the aggregator: `avsctl devnet status` shows which are down"
      : "too few attesters are connected to the aggregator: its own log names those that are",
  NO_ELIGIBLE_ATTESTERS: (def, site) =>
    `the definition's restricted operators and minimum voting power leave no attester to approve its tasks: ${taskDefCommand(`show ${def}`, site)} shows them${site.aggregator === undefined ? ", `avsctl devnet status` the attesters' operator ids" : ""}`,
  CHAIN_UNAVAILABLE: (_def, site) =>
    site.aggregator === undefined
      ? "the aggregator could not read its L2, and took nothing: `avsctl devnet status` shows whether the L2 is down; send the task again once it answers"
      : "the aggregator could not read its L2, and took nothing: send the task again once its L2 RPC answers",
  UNKNOWN_CHAIN: (_def, site, data) => {
    // the execution service relays no data: on the devnet the hint is the same by either path
    if (site.aggregator === undefined)
      return "pass a --target-chain of one of the devnet's L2s (`avsctl devnet status` lists them), or none for the first";
    const served = Array.isArray(data?.chains) ? (data.chains as unknown[]).join(", ") : undefined;
    return served
      ? `this aggregator serves chain ${served}: pass one of them with --target-chain, or none for the first`
      : "pass a --target-chain this aggregator serves, or none for its first";
  },
};

/**
 * What to do about a definition whose blockExpiry has passed: create one of the same name (which
 * gets a new id). Its name is on the chain, not in the refusal: without it, the hint says where
 * to read it rather than print a `<name>` that no shell takes.
 */
export function expiredDefinitionHint(def: string, name: string | undefined, site: SendSite): string {
  return name === undefined
    ? `the definition's blockExpiry has passed: ${taskDefCommand(`show ${def}`, site)} shows its name, to create a new one of that name with task-def create`
    : `the definition's blockExpiry has passed; create a new one of its name with ${taskDefCommand(`create --name ${shellQuote(name, { always: true })}`, site)} and send with the --task-def it prints`;
}

/** The aggregator's reason for refusing a send, whichever path the refusal came back by. */
export function refusalReason(error: AvsctlError): string | undefined {
  const rpc = (error.details?.rpcError as { data?: { reason?: unknown } } | undefined)?.data?.reason;
  const reason = rpc ?? error.details?.reason;
  return typeof reason === "string" ? reason : undefined;
}

/** The hint for a refusal no entry above knows: where the aggregator says why. */
function aggregatorLogHint(site: SendSite): string {
  return site.aggregator === undefined
    ? "`avsctl devnet logs aggregator` shows why"
    : `the aggregator's own log (the process serving --aggregator ${redactUrl(site.aggregator)}) shows why`;
}

/** What a refusal with this reason is for the user, by whichever path it came back. */
function refusalOutcome(
  reason: string,
  def: string,
  site: SendSite,
  data?: Record<string, unknown>,
): { code: ErrorCode; hint: string } {
  return {
    code: RPC_REASON_CODES[reason] ?? "COMMAND_FAILED",
    hint: RPC_REASON_HINTS[reason]?.(def, site, data) ?? aggregatorLogHint(site),
  };
}

/** JSON-RPC's "method not found": what any JSON-RPC server other than an aggregator answers sendTask. */
const METHOD_NOT_FOUND = -32601;

/** A JSON-RPC refusal as an avsctl error; the aggregator's reason decides the code. */
function rpcRefusal(
  method: string,
  params: unknown[],
  error: RpcErrorObject,
  extra: Record<string, unknown>,
  site: SendSite,
) {
  const data = error.data as ({ reason?: string } & Record<string, unknown>) | undefined;
  const reason = data?.reason ?? "";
  // sendTask's third parameter is the task definition id
  const outcome = refusalOutcome(reason, method === "sendTask" ? String(params[2]) : "<id>", site, data);
  const notAnAggregator = reason === "" && error.code === METHOD_NOT_FOUND;
  const hint = notAnAggregator
    ? `${site.aggregator === undefined ? "the devnet's aggregator URL" : `--aggregator ${redactUrl(site.aggregator)}`} answers JSON-RPC but has no ${method}: is it an L2 node's URL rather than the aggregator's?`
    : outcome.hint;
  return new AvsctlError(outcome.code, `${method} refused by the aggregator: ${error.message}`, {
    hint,
    details: { rpcError: error, ...extra },
  });
}

/** JSON-RPC -32022 (docs/protocol.md): the aggregator answers a re-sent task with the task it has. */
export const TASK_KNOWN_CODE = -32022;

/** One JSON-RPC call to the aggregator; a refusal becomes the avsctl error its reason names. */
export async function aggregatorCall(
  url: string,
  method: string,
  params: unknown[],
  timeoutMs = 15_000,
  /** Facts added to the details of any error (the task hash of a send). */
  extra: Record<string, unknown> = {},
  site: SendSite = {},
): Promise<unknown> {
  let answer: RpcAnswer;
  try {
    answer = await rpcRequest(url, method, params, { timeoutMs });
  } catch (error) {
    const code = (error as AvsctlError).code === "TIMEOUT" ? "TIMEOUT" : "RPC_UNREACHABLE";
    // what the connection met (refused, cut, no JSON): the sample execution service passes this
    // message on, and task send reads a refused connection back from it
    const why = ((error as { cause?: unknown }).cause as Error | undefined)?.message;
    throw new AvsctlError(
      code,
      `the aggregator at ${redactUrl(url)} ${code === "TIMEOUT" ? "did not answer in time" : `is unreachable${why ? `: ${why}` : ""}`}`,
      {
        hint:
          site.aggregator === undefined
            ? "is the devnet up? `avsctl devnet status` checks every component"
            : "check the --aggregator URL, and that the aggregator runs there and serves JSON-RPC",
        cause: error,
        details: extra,
      },
    );
  }
  if (answer.error) throw rpcRefusal(method, params, answer.error, extra, site);
  return answer.result;
}

/**
 * A task signed once. Every send of it, the first and each retry, carries these very
 * parameters, so the aggregator sees one task hash however often it arrives.
 */
export interface PreparedTask extends TaskInput {
  taskHash: string;
  performer: string;
  params: unknown[];
}

/** Signs the task hash as the performer (raw ECDSA, or BLS as Othentic's JSON) and calls sendTask. */
export async function sendTaskRpc(task: TaskInput, target: SendTarget): Promise<SentTask> {
  return sendPrepared(await prepareTask(task, target), target.aggregatorUrl);
}

const performerAddresses = new Map<string, string>();

/** Signs a task as the performer and builds its sendTask parameters. */
export async function prepareTask(task: TaskInput, target: SendTarget): Promise<PreparedTask> {
  const { Wallet } = await import("ethers");
  const { taskHash } = await import("../crypto/task-hash.js");
  // Deriving the address costs an elliptic-curve multiplication: once per key, not per task.
  let performer = performerAddresses.get(target.performerKey);
  if (performer === undefined) {
    performer = new Wallet(target.performerKey).address;
    performerAddresses.set(target.performerKey, performer);
  }
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
  return { ...task, taskHash: hash, performer, params };
}

/**
 * Whether an aggregatorCall failed without the aggregator's answer (the connection was refused or
 * cut, or no answer came in time), rather than with its refusal.
 */
export function unanswered(error: unknown): boolean {
  if (!isAvsctlError(error) || (error.code !== "RPC_UNREACHABLE" && error.code !== "TIMEOUT")) return false;
  return error.details?.rpcError === undefined;
}

/** One sendTask of a prepared task; TASK_KNOWN comes back as `known`, not as an error. */
export async function sendPrepared(
  prepared: PreparedTask,
  aggregatorUrl: string,
  timeoutMs = 15_000,
  site: SendSite = {},
): Promise<SentTask> {
  const { params, ...task } = prepared;
  const sentAt = Date.now();
  try {
    await aggregatorCall(aggregatorUrl, "sendTask", params, timeoutMs, { taskHash: task.taskHash }, site);
  } catch (error) {
    if (rpcErrorCode(error) !== TASK_KNOWN_CODE) throw error;
    return { ...task, sentAt, known: true };
  }
  return { ...task, sentAt };
}

export function rpcErrorCode(error: unknown): number | undefined {
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

/**
 * The aggregator's INSUFFICIENT_CONNECTED_POWER message (src/node/aggregator/refusals.ts),
 * with or without a maximum of signers: the refusal itself, connected power, required power.
 */
const CONNECTED_POWER_REFUSAL =
  /((?:the connected attesters|at most \d+ attester\(s\) may sign for definition \d+ \(maximumNumberOfAttesters\), and the strongest connected ones) hold (\d+) voting power, below the (\d+) needed to approve a task of definition \d+)/;

/**
 * The aggregator's sendTask refusals as an execution service passes them on: only the message
 * travels ("sendTask failed: <message>"), not its `data.reason`, so the reason is read from the
 * words the aggregator ends the message with (a definition check's revert name, from
 * src/node/chain-errors.ts) or words it in (src/node/aggregator/refusals.ts), with the figures
 * it carries. Refusals of what the service built itself (a malformed parameter, a signature that
 * does not verify, a bad request) are left out: those are the service's own failure.
 */
const RELAYED_REFUSALS: Array<{
  reason: string;
  words: RegExp;
  facts?: (m: RegExpExecArray) => Record<string, unknown>;
}> = [
  { reason: "TASK_DEFINITION_NOT_FOUND", words: /\(TaskDefinitionNotFound\)/ },
  { reason: "TASK_DEFINITION_EXPIRED", words: /\(InvalidTaskDefinition\)/ },
  { reason: "RESTRICTED_OPERATOR", words: /\(InvalidRestricted(?:Attester|Operator)\)/ },
  { reason: "INSUFFICIENT_VOTING_POWER", words: /\(InsufficientVotingPowerForTaskDefinition\)/ },
  // by the aggregator's own operator list, or by the definition check (OperatorNotRegistered)
  { reason: "PERFORMER_NOT_ACTIVE", words: /0x[0-9a-fA-F]{40} is not an active operator\b/ },
  {
    reason: "OVERLOADED",
    words: /aggregator busy: (\d+) tasks in progress \(limit (\d+)\); retry after (\d+) ms/,
    facts: (m) => ({ pending: Number(m[1]), limit: Number(m[2]), retryAfterMs: Number(m[3]) }),
  },
  {
    reason: "INSUFFICIENT_CONNECTED_POWER",
    words: CONNECTED_POWER_REFUSAL,
    facts: (m) => ({ refusal: m[1], connectedPower: m[2], requiredPower: m[3] }),
  },
  { reason: "NO_ELIGIBLE_ATTESTERS", words: /no voting power can attest task definition \d+: / },
  { reason: "UNKNOWN_CHAIN", words: /this aggregator does not serve chain \d+/ },
  { reason: "CHAIN_UNAVAILABLE", words: /cannot (?:check|read) task definition \d+: / },
  // a revert of the definition check the aggregator has no name for
  { reason: "INVALID_PARAMS", words: /the task definition check failed: / },
  // the data the service built from the task's inputs
  { reason: "INVALID_PARAMS", words: /\bdata is larger than \d+ bytes/ },
  { reason: "PAYLOAD_TOO_LARGE", words: /the request body exceeds \d+ bytes/ },
  // the aggregator's journal failed (a full disk), not the service
  { reason: "INTERNAL_ERROR", words: /the aggregator could not record the task: / },
];

/**
 * How the execution services avsctl ships say that their sendTask could not connect to the
 * aggregator at all (the aggregator down, or starting again): the templates' TypeScript service
 * (ethers passes on Node's error), Go and Python services, and avsctl's sample service. A refused
 * connection reached nothing, so the task may be asked for again without making a second one.
 */
const AGGREGATOR_REFUSED_CONNECTION = [
  /^sendTask failed: connect ECONNREFUSED \S+$/,
  /^sendTask failed: \S+ unreachable: .*\bconnect: connection refused$/,
  /^sendTask failed: \S+ unreachable or answered garbage: <urlopen error \[Errno \d+\] Connection refused>$/,
  /^the aggregator at \S+ is unreachable: connect ECONNREFUSED \S+$/,
];

/**
 * The tasks execution services handed back in their error (docs/protocol.md#execution-service):
 * signed and sent, but the aggregator's answer never came, so it may have taken them.
 */
const handedBack = new WeakMap<object, PreparedTask>();

/** The task an execution service's error handed back, to send again as that very task. */
export function signedTaskOf(error: unknown): PreparedTask | undefined {
  return typeof error === "object" && error !== null ? handedBack.get(error) : undefined;
}

/**
 * The task in an execution service's error `data.sendTaskParams`: the sendTask params it signed,
 * and the hash the aggregator computes from them. Undefined for params no aggregator would read.
 */
async function handedBackTask(data: unknown): Promise<PreparedTask | undefined> {
  const params = (data as { sendTaskParams?: unknown } | undefined)?.sendTaskParams;
  if (!Array.isArray(params) || params.length < 5 || params.length > 7) return undefined;
  const [proofOfTask, hex, definition, performer] = params;
  if (typeof proofOfTask !== "string" || typeof hex !== "string" || typeof performer !== "string")
    return undefined;
  if (typeof definition !== "number" && typeof definition !== "string") return undefined;
  const { getAddress } = await import("ethers");
  const { taskHash } = await import("../crypto/task-hash.js");
  try {
    const task = { proofOfTask, data: hex.toLowerCase(), taskDefinitionId: Number(definition) };
    const address = getAddress(performer);
    return { ...task, performer: address, taskHash: taskHash({ ...task, performer: address }), params };
  } catch {
    return undefined;
  }
}

/** The aggregator's reason inside an execution service's error, if it carries one. */
function relayedReason(
  message: string | undefined,
): { reason: string; facts: Record<string, unknown> } | undefined {
  if (message === undefined) return undefined;
  for (const { reason, words, facts } of RELAYED_REFUSALS) {
    const m = words.exec(message);
    if (m) return { reason, facts: facts?.(m) ?? {} };
  }
  return undefined;
}

/**
 * Refuses a task definition the AttestationCenter does not have before anything is sent, with
 * one eth_call of the check the aggregator makes (`verifyOperatorValidForTaskDefinition`): the
 * execution service would do its work for a task the aggregator then refuses. Any other
 * outcome (another revert, as for a performer that is not registered) is the aggregator's to
 * answer.
 */
export async function checkTaskDefinitionExists(
  target: Pick<ChainTarget, "provider" | "attestationCenter" | "chainId">,
  performer: string,
  taskDefinitionId: number,
): Promise<void> {
  const { operatorRefusal } = await import("../chain/reverts.js");
  const refusal = await operatorRefusal(
    target.provider,
    target.attestationCenter,
    performer,
    taskDefinitionId,
  ).catch(() => undefined);
  if (refusal?.name !== "TaskDefinitionNotFound") return;
  throw new AvsctlError(
    "TASK_DEF_NOT_FOUND",
    `task definition ${taskDefinitionId} does not exist on ${target.attestationCenter} (chain ${target.chainId}); nothing was sent`,
    {
      hint: RPC_REASON_HINTS.TASK_DEFINITION_NOT_FOUND!(String(taskDefinitionId), {}, undefined),
      details: { taskDefinitionId },
    },
  );
}

/** POSTs the execution service's /task/execute; the service signs and sends by itself. */
export async function sendTaskViaExecution(
  executionUrl: string,
  input: { taskDefinitionId: number; [field: string]: unknown },
  performer: string,
  timeoutMs = 30_000,
): Promise<SentTask> {
  const sentAt = Date.now();
  let response: Response;
  try {
    response = await fetch(`${executionUrl.replace(/\/$/, "")}/task/execute`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    // A service that took the request and is still working on it is not unreachable: under
    // load (a slow pin, a queue) it is the timeout that ends the call.
    if ((error as Error).name === "TimeoutError") {
      throw new AvsctlError(
        "TIMEOUT",
        `the execution service at ${redactUrl(executionUrl)} did not answer within ${Math.round(timeoutMs / 100) / 10} s`,
        {
          hint: "`avsctl devnet logs execution` shows what it was doing; under load, lower --concurrency or --rate",
          cause: error,
        },
      );
    }
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
        data?: { proofOfTask?: string; data?: string; taskDefinitionId?: number; sendTaskParams?: unknown };
        error?: boolean;
        message?: string;
      }
    | undefined;
  const d = body?.data;
  if (!response.ok || body?.error || typeof d?.proofOfTask !== "string") {
    const relayed = relayedReason(body?.message);
    if (relayed) {
      const { reason, facts } = relayed;
      const { code, hint } = refusalOutcome(reason, String(input.taskDefinitionId), {});
      throw new AvsctlError(
        code,
        `the execution service's task was refused by the aggregator: ${body!.message}`,
        {
          hint,
          details: { status: response.status, reason, taskDefinitionId: input.taskDefinitionId, ...facts },
        },
      );
    }
    const message = body?.message;
    const refused =
      typeof message === "string" && AGGREGATOR_REFUSED_CONNECTION.some((words) => words.test(message));
    const signed = await handedBackTask(body?.data);
    if (signed && !refused) {
      // The service's sendTask got no answer: the aggregator may have taken the task, or not. The
      // service hands it back so that it is followed and sent again as that very task (the
      // aggregator takes a task once); a new call would build another.
      const error = new AvsctlError(
        "RPC_UNREACHABLE",
        `the execution service got no answer from the aggregator to its sendTask of task ${signed.taskHash}, which the aggregator may have taken: ${message ?? `HTTP ${response.status}`}`,
        {
          hint: "is the devnet up? `avsctl devnet status` checks every component",
          details: { status: response.status, taskHash: signed.taskHash },
        },
      );
      handedBack.set(error, signed);
      throw error;
    }
    if (refused) {
      // the same error as the aggregator refusing avsctl's own connection, so it is sent again
      // as over --via rpc (retry.ts reads the refused connection from the cause's code)
      const error = new AvsctlError(
        "RPC_UNREACHABLE",
        `the execution service could not reach the aggregator: ${message}`,
        {
          hint: "is the devnet up? `avsctl devnet status` checks every component",
          details: { status: response.status, ...(signed ? { taskHash: signed.taskHash } : {}) },
          cause: Object.assign(new Error(message), { code: "ECONNREFUSED" }),
        },
      );
      if (signed) handedBack.set(error, signed);
      throw error;
    }
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

/**
 * task send's attempts through the execution service, per task index. The service builds a new
 * task on each call, so it is called again only when nothing reached the aggregator. Once it
 * hands back a task it signed and got no answer for, every later attempt of that index sends that
 * very task to the aggregator itself: the aggregator takes a task once (TASK_KNOWN to a repeat),
 * so no attempt makes a second one.
 */
export function executionSends(
  executionUrl: string,
  input: { taskDefinitionId: number; [field: string]: unknown },
  performer: string,
  aggregatorUrl: string,
  site: SendSite = {},
): {
  sendOne: (index: number, timeLeftMs: number) => Promise<SentTask>;
  /** The task the service handed back for an index, once it did. */
  signedTask: (index: number) => PreparedTask | undefined;
} {
  const signed = new Map<number, PreparedTask>();
  return {
    sendOne: async (index, timeLeftMs) => {
      const task = signed.get(index);
      if (task) return sendPrepared(task, aggregatorUrl, Math.min(15_000, timeLeftMs), site);
      try {
        return await sendTaskViaExecution(executionUrl, input, performer, Math.min(30_000, timeLeftMs));
      } catch (error) {
        const back = signedTaskOf(error);
        if (back) signed.set(index, back);
        throw error;
      }
    },
    signedTask: (index) => signed.get(index),
  };
}

export function parseSigType(value: string | undefined): SignatureType {
  const v = (value ?? "ecdsa").toLowerCase();
  if (v !== "ecdsa" && v !== "bls")
    throw invalidArgument("--sig-type", `expected ecdsa or bls, got "${value}"`);
  return v;
}
