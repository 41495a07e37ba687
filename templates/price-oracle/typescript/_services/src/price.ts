import { getBytes, hexlify, toUtf8Bytes } from "ethers";

/*
 * The price report and its proof, shared word for word by the execution service (which builds
 * them) and the validation service (which checks them), and identical in the TypeScript,
 * Python and Go versions of this template, so any of them can check the others' proofs:
 *
 *   canonical JSON = {"price":"<decimal>","round":<round>,"symbol":"<symbol>","timestamp":<unix seconds>}
 *                    exactly these keys in this order, no whitespace, ASCII only
 *   data           = "0x" + lowercase hex of the UTF-8 bytes of the canonical JSON
 *   proofOfTask    = the IPFS CID of the report, pinned through Pinata's pinJSONToIPFS (ipfs.ts)
 *
 * price matches PRICE_PATTERN (a plain decimal string, as the source sent it), symbol matches
 * SYMBOL_PATTERN, round and timestamp are integers from 0 to 2^53-1.
 *
 * round numbers the executions of one execution service process: max(previous round + 1,
 * current time in ms), so each execution is its own task (its own task hash) even when the
 * price and the source's timestamp have not moved, and rounds increase across restarts as long
 * as the clock does.
 */

export const PRICE_PATTERN = /^(0|[1-9][0-9]{0,59})(\.[0-9]{1,30})?$/;
export const SYMBOL_PATTERN = /^[A-Za-z0-9._-]{1,32}$/;
export const DEFAULT_PRICE_SOURCE_URL = "https://api.binance.com/api/v3/ticker/price";
export const DEFAULT_SYMBOL = "ETHUSDT";
export const DEFAULT_TOLERANCE_BPS = 100;

export interface PriceReport {
  price: string;
  round: number;
  symbol: string;
  timestamp: number;
}

export interface Proof {
  proofOfTask: string;
  data: string;
}

let lastRound = 0;

/** The next round of this process: max(previous round + 1, Date.now()). */
export function nextRound(now: number = Date.now()): number {
  lastRound = Math.max(lastRound + 1, now);
  return lastRound;
}

function isCount(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** The canonical JSON text of a report; throws when a field is outside the rule. */
export function canonicalJson(report: PriceReport): string {
  if (!PRICE_PATTERN.test(report.price)) throw new Error(`price "${report.price}" is not a plain decimal`);
  if (!isCount(report.round)) throw new Error(`round ${report.round} is not a non-negative integer`);
  if (!SYMBOL_PATTERN.test(report.symbol)) throw new Error(`symbol "${report.symbol}" is not allowed`);
  if (!isCount(report.timestamp)) {
    throw new Error(`timestamp ${report.timestamp} is not a non-negative integer`);
  }
  return `{"price":"${report.price}","round":${report.round},"symbol":"${report.symbol}","timestamp":${report.timestamp}}`;
}

/** The `data` of a report: "0x" + lowercase hex of the UTF-8 bytes of its canonical JSON. */
export function reportData(report: PriceReport): string {
  return hexlify(toUtf8Bytes(canonicalJson(report)));
}

/**
 * Reads a report back from `data`, or null when `data` is not exactly the canonical JSON of a
 * valid report (extra keys, other spacing or number forms are all refused).
 */
export function decodeReport(data: unknown): PriceReport | null {
  if (typeof data !== "string" || !/^0x([0-9a-fA-F]{2})*$/.test(data)) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(getBytes(data));
  } catch {
    return null;
  }
  const report = parseReport(text);
  return report && canonicalJson(report) === text ? report : null;
}

/**
 * A report from JSON text in any layout (a gateway may serve the pinned JSON reformatted), or
 * null when it is not an object of exactly the four fields, each within the rule.
 */
export function parseReport(text: string): PriceReport | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) return null;
  const keys = Object.keys(value).sort();
  if (keys.join(",") !== "price,round,symbol,timestamp") return null;
  const { price, round, symbol, timestamp } = value as Record<string, unknown>;
  if (
    typeof price !== "string" ||
    typeof round !== "number" ||
    typeof symbol !== "string" ||
    typeof timestamp !== "number"
  )
    return null;
  const report = { price, round, symbol, timestamp };
  try {
    canonicalJson(report);
  } catch {
    return null;
  }
  return report;
}

function scaled(decimal: string, decimals: number): bigint {
  const [whole = "0", fraction = ""] = decimal.split(".");
  return BigInt(whole + fraction.padEnd(decimals, "0"));
}

/**
 * Exact decimal comparison: approve when |claimed - reference| * 10000 <= toleranceBps * reference.
 * Both prices are decimal strings; no floating point is involved, so every language agrees.
 */
export function withinTolerance(claimed: string, reference: string, toleranceBps: number): boolean {
  const decimals = Math.max(claimed.split(".")[1]?.length ?? 0, reference.split(".")[1]?.length ?? 0);
  const a = scaled(claimed, decimals);
  const b = scaled(reference, decimals);
  const diff = a > b ? a - b : b - a;
  return diff * 10000n <= BigInt(toleranceBps) * b;
}

/** The URL asked for a symbol: the source URL with ?symbol=<symbol> (or &symbol=) appended. */
export function priceUrl(sourceUrl: string, symbol: string): string {
  return `${sourceUrl}${sourceUrl.includes("?") ? "&" : "?"}symbol=${symbol}`;
}

/**
 * Fetches {"price": "<decimal string>", "timestamp"?: <unix seconds>} from the source. The
 * price must be a string, as Binance's ticker and the avsctl devnet feed send it: a JSON
 * number would print differently in each language and break the shared proof rule.
 */
export async function fetchPrice(
  sourceUrl: string,
  symbol: string,
  timeoutMs = 10000,
): Promise<{ price: string; timestamp?: number }> {
  const url = priceUrl(sourceUrl, symbol);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(`price source ${url} unreachable: ${(error as Error).message}`);
  }
  if (!response.ok) throw new Error(`price source ${url} answered HTTP ${response.status}`);
  const body = (await response.json().catch(() => null)) as { price?: unknown; timestamp?: unknown } | null;
  if (!body || typeof body.price !== "string" || !PRICE_PATTERN.test(body.price)) {
    throw new Error(`price source ${url} did not answer {"price": "<decimal string>"}`);
  }
  const timestamp =
    typeof body.timestamp === "number" && Number.isSafeInteger(body.timestamp) && body.timestamp >= 0
      ? body.timestamp
      : undefined;
  return { price: body.price, timestamp };
}
