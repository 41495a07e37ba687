import type { FetchGetUrlFunc, JsonRpcApiProviderOptions, JsonRpcProvider } from "ethers";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { httpPost, PostTimeoutError } from "../util/http-post.js";
import { redactUrl, rpcRequest } from "./json-rpc.js";

export { redactUrl } from "./json-rpc.js";

/**
 * Asks the endpoint for its chain id with a deadline. ethers' provider retries a dead
 * endpoint forever, so reachability is checked here first and reported as RPC_UNREACHABLE.
 */
export async function fetchChainId(rpcUrl: string, timeoutMs = 5000): Promise<number> {
  let result: unknown;
  try {
    result = (await rpcRequest<string>(rpcUrl, "eth_chainId", [], { timeoutMs })).result;
  } catch (error) {
    throw new AvsctlError("RPC_UNREACHABLE", `cannot reach the RPC endpoint ${redactUrl(rpcUrl)}`, {
      hint: "check --rpc-url (or AVSCTL_RPC_URL / L2_RPC): nothing answers JSON-RPC at that URL (a typo, or the node is down)",
      details: { rpcUrl: redactUrl(rpcUrl) },
      cause: error,
    });
  }
  if (typeof result !== "string") {
    throw new AvsctlError("RPC_UNREACHABLE", `${redactUrl(rpcUrl)} is not an Ethereum JSON-RPC endpoint`, {
      details: { rpcUrl: redactUrl(rpcUrl) },
    });
  }
  return Number(BigInt(result));
}

/**
 * How long one request to a chain may go unanswered before the chain counts as not answering.
 * A frozen node (a stopped or wedged process) still has its connections accepted by the kernel
 * and never answers: ethers would wait 300 s for it. A command with a --timeout bounds its
 * requests by what is left of it instead (boundChainRequests).
 */
export const CHAIN_REQUEST_TIMEOUT_MS = 30_000;
/** What a request made at or past a command's deadline still gets (the last reads of a wait). */
const PAST_DEADLINE_MS = 2_000;

interface RequestLimits {
  timeoutMs: number;
  /** ms since the epoch; no request outlasts it by more than PAST_DEADLINE_MS. */
  deadline?: number;
  /** What to do about a chain that did not answer (the catalog's hint otherwise). */
  hint?: string;
}

/** How a provider's requests are bounded: see chainProvider. */
export interface ChainRequestOptions {
  /** Default CHAIN_REQUEST_TIMEOUT_MS. */
  requestTimeoutMs?: number;
  /** The hint of the error a request the chain did not answer ends with. */
  unansweredHint?: string;
}

/** The limits of each provider chainProvider made, which boundChainRequests tightens. */
const limitsOf = new WeakMap<object, RequestLimits>();

/**
 * Bounds every later request of `provider` (one chainProvider made; any other is left as it is)
 * by `deadline` too, ms since the epoch: a command's --timeout. A request that would outlast it
 * is given what is left, at least PAST_DEADLINE_MS, and then ends as a chain that did not answer.
 */
export function boundChainRequests(provider: object, deadline: number): void {
  const limits = limitsOf.get(provider);
  if (limits) limits.deadline = deadline;
}

function requestTimeoutMs(limits: RequestLimits): number {
  if (limits.deadline === undefined) return limits.timeoutMs;
  return Math.min(limits.timeoutMs, Math.max(PAST_DEADLINE_MS, limits.deadline - Date.now()));
}

/** RPC_UNREACHABLE, as for a chain that refuses connections: callers retry or report it alike. */
function unansweredWithin(rpcUrl: string, limits: RequestLimits, timeoutMs: number, cause: unknown) {
  return new AvsctlError(
    "RPC_UNREACHABLE",
    `the chain at ${redactUrl(rpcUrl)} did not answer within ${Math.round(timeoutMs / 100) / 10} s`,
    { hint: limits.hint, details: { rpcUrl: redactUrl(rpcUrl), timeoutMs }, cause },
  );
}

/**
 * Every request of avsctl's ethers providers goes out here rather than through ethers' own
 * transport, whose timeout leaves the request open (a frozen node kept its socket, and the
 * process, alive) and defaults to 300 s: over the project's http client, cut and closed when
 * its time is up.
 */
function chainTransport(rpcUrl: string, limits: RequestLimits): FetchGetUrlFunc {
  return async (req, signal) => {
    const timeoutMs = requestTimeoutMs(limits);
    const abort = new AbortController();
    signal?.addListener(() => abort.abort());
    const { "content-length": _length, "accept-encoding": _encoding, ...headers } = req.headers;
    try {
      const response = await httpPost(req.url, req.body ?? "", {
        headers,
        timeoutMs,
        signal: abort.signal,
        // as ethers' transport: the command's own concurrency is the bound
        maxSockets: Number.POSITIVE_INFINITY,
      });
      return {
        statusCode: response.status,
        statusMessage: "",
        headers: {},
        body: Buffer.from(response.text, "utf8"),
      };
    } catch (error) {
      if (error instanceof PostTimeoutError) throw unansweredWithin(rpcUrl, limits, timeoutMs, error);
      throw error;
    }
  };
}

/**
 * The one way avsctl makes an ethers provider for a chain: pinned to its chain id, so ethers
 * never polls for the network, and each request bounded (CHAIN_REQUEST_TIMEOUT_MS unless
 * `requestTimeoutMs` says otherwise; boundChainRequests tightens it to a deadline).
 */
export async function chainProvider(
  rpcUrl: string,
  chainId: number,
  options: Omit<JsonRpcApiProviderOptions, "staticNetwork"> = {},
  limits: ChainRequestOptions = {},
): Promise<JsonRpcProvider> {
  const { FetchRequest, JsonRpcProvider, Network } = await import("ethers");
  const network = Network.from(chainId);
  const held: RequestLimits = {
    timeoutMs: limits.requestTimeoutMs ?? CHAIN_REQUEST_TIMEOUT_MS,
    hint: limits.unansweredHint,
  };
  const { url, user, password } = splitCredentials(rpcUrl);
  const request = new FetchRequest(url);
  if (user !== undefined) request.setCredentials(user, password);
  request.allowGzip = false;
  request.getUrlFunc = chainTransport(rpcUrl, held);
  const provider = new JsonRpcProvider(request, network, { ...options, staticNetwork: network });
  limitsOf.set(provider, held);
  return provider;
}

/** A URL's credentials go as a header: in the URL they would not reach an https node (fetch refuses them). */
function splitCredentials(rpcUrl: string): { url: string; user?: string; password: string } {
  let u: URL;
  try {
    u = new URL(rpcUrl);
  } catch {
    return { url: rpcUrl, password: "" }; // its requests fail as such
  }
  if (!u.username && !u.password) return { url: rpcUrl, password: "" };
  const user = decodeURIComponent(u.username);
  const password = decodeURIComponent(u.password);
  u.username = "";
  u.password = "";
  return { url: u.toString(), user, password };
}

/**
 * A provider pinned to a known chain id, so ethers never polls for the network. Its response
 * cache is off: with it, a second transaction sent within 250 ms reused the first one's nonce
 * and views read right after a transaction returned the old values. Each request is bounded as
 * chainProvider's are.
 */
export async function connectRpc(
  rpcUrl: string,
  opts: ChainRequestOptions = {},
): Promise<{ provider: JsonRpcProvider; chainId: number }> {
  const chainId = await fetchChainId(rpcUrl, Math.min(5000, opts.requestTimeoutMs ?? 5000));
  const provider = await chainProvider(
    rpcUrl,
    chainId,
    {
      pollingInterval: 250,
      cacheTimeout: -1,
      // Calls made in the same turn still share a batch, but a lone call leaves at once instead
      // of after ethers' 10 ms batching stall (a devnet start makes ~150 calls one after another).
      batchStallTime: 0,
    },
    opts,
  );
  return { provider, chainId };
}

/** Node's codes for a connection that could not be made, broke, or timed out. */
const UNANSWERED_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
]);

/**
 * Whether a read failed because the node did not answer at all (down, restarting, cut off or
 * silent), as ethers passes it on (Node's own error, or its TIMEOUT and NETWORK_ERROR), rather
 * than answering an error of its own. Such a read may succeed when asked again.
 */
export function chainDidNotAnswer(error: unknown): boolean {
  let e = error as { code?: unknown; message?: unknown; cause?: unknown; error?: unknown } | undefined;
  for (let depth = 0; e && typeof e === "object" && depth < 6; depth++) {
    if (isAvsctlError(e)) return e.code === "RPC_UNREACHABLE" || e.code === "TIMEOUT";
    const code = typeof e.code === "string" ? e.code : "";
    if (UNANSWERED_CODES.has(code) || code === "TIMEOUT" || code === "NETWORK_ERROR") return true;
    if (typeof e.message === "string" && /socket hang up|fetch failed/i.test(e.message)) return true;
    e = (e.cause ?? e.error) as typeof e;
  }
  return false;
}

export interface DecodedRevert {
  name: string;
  signature: string;
  args: Record<string, string>;
}

/**
 * Decodes revert data by name: every custom error of the contracts we ship (from their
 * compiled ABIs), Othentic's error names, Error(string) and Panic(uint256). The one decoder
 * behind CLI errors and node logs alike; undefined when the data matches nothing known.
 */
export async function decodeRevertData(data: string | undefined | null): Promise<DecodedRevert | undefined> {
  if (!data || data === "0x" || data.length < 10) return undefined;
  const { decodeRevert } = await import("./reverts.js");
  const decoded = decodeRevert(data);
  if (!decoded) return undefined;
  const args: Record<string, string> = {};
  for (const [name, value] of Object.entries(decoded.namedArgs)) args[name] = String(value);
  return { name: decoded.name, signature: decoded.signature, args };
}

/**
 * The one translation of ethers/anvil failures into avsctl errors: reverts become TX_REVERTED
 * with the custom error decoded by name, connection failures RPC_UNREACHABLE.
 */
export async function translateChainError(
  error: unknown,
  context: { action: string; rpcUrl?: string },
): Promise<AvsctlError> {
  if (isAvsctlError(error)) return error;
  const e = error as any;
  const { revertDataOf } = await import("./reverts.js");
  const data = revertDataOf(error);
  const decoded = await decodeRevertData(data);
  if (decoded || e?.code === "CALL_EXCEPTION") {
    const what = decoded
      ? `${decoded.name}(${Object.entries(decoded.args)
          .map(([k, v]) => `${k}=${v}`)
          .join(", ")})`
      : e?.reason
        ? `"${e.reason}"`
        : "without a reason";
    return new AvsctlError("TX_REVERTED", `${context.action} reverted: ${what}`, {
      hint: revertHint(decoded?.name),
      details: {
        error: decoded?.name ?? null,
        args: decoded?.args ?? null,
        revert: decoded ?? null,
        data: data ?? null,
      },
      cause: error,
    });
  }
  const text = String(e?.message ?? error);
  if (
    /ECONNREFUSED|ENOTFOUND|ECONNRESET|fetch failed|socket hang up|NETWORK_ERROR/i.test(text) ||
    e?.code === "NETWORK_ERROR"
  ) {
    return new AvsctlError("RPC_UNREACHABLE", `${context.action}: the RPC endpoint stopped answering`, {
      details: context.rpcUrl ? { rpcUrl: redactUrl(context.rpcUrl) } : undefined,
      cause: error,
    });
  }
  if (e?.code === "INSUFFICIENT_FUNDS") {
    return new AvsctlError("TX_FAILED", `${context.action}: the signer cannot pay for gas`, {
      hint: "fund the signer's account",
      cause: error,
    });
  }
  return new AvsctlError("TX_FAILED", `${context.action} failed: ${e?.shortMessage ?? text.split("\n")[0]}`, {
    cause: error,
  });
}

function revertHint(name: string | undefined): string | undefined {
  switch (name) {
    case "AccessControlUnauthorizedAccount":
    case "OwnableUnauthorizedAccount":
      return "the signer lacks the AVS governance role; use the governance multisig's key";
    case "InvalidBlockExpiry":
      return "--block-expiry must be a future block (or never)";
    case "InvalidRestrictedOperatorIndexes":
    case "InvalidRestrictedAttesterIds":
      return "restricted ids must be strictly ascending";
    case "InvalidMaximumNumberOfAttesters":
      return "--max-attesters may not exceed the number of restricted operators";
    default:
      return undefined;
  }
}
