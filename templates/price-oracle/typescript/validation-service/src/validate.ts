import { envValue } from "./http.ts";
import { fetchReport, isCid } from "./ipfs.ts";
import {
  canonicalJson,
  DEFAULT_PRICE_SOURCE_URL,
  DEFAULT_TOLERANCE_BPS,
  decodeReport,
  fetchPrice,
  type PriceReport,
  withinTolerance,
} from "./price.ts";

/** What the attesters send to POST /task/validate. */
export interface ValidationRequest {
  proofOfTask: unknown;
  data: unknown;
  taskDefinitionId: unknown;
  performer: unknown;
}

/**
 * Approves a price report when `proofOfTask` is a CID whose content, fetched from
 * PINATA_GATEWAY, is a report; `data`, when the request has it, is exactly the canonical JSON
 * of that same report; and its price is within PRICE_TOLERANCE_BPS (default 100 = 1%) of the
 * price this service fetches itself. Content the gateway does not have (a 4xx other than 408
 * and 429) is a rejection. Throws (HTTP 500) only when it cannot decide: the gateway or the price
 * source unreachable or failing, or the gateway timing out (408) or rate limiting (429).
 */
export async function validateTask(request: ValidationRequest, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (!isCid(request.proofOfTask)) return false;
  let claimed: PriceReport | null = null;
  // A task may carry its result in IPFS alone (data missing or null); data that is sent must be
  // the report, so "" or "0x" is rejected without asking the gateway.
  if (request.data !== undefined && request.data !== null) {
    claimed = decodeReport(request.data);
    if (!claimed) return false;
  }
  const report = await fetchReport(request.proofOfTask, env);
  if (!report || (claimed && canonicalJson(claimed) !== canonicalJson(report))) return false;
  const source = envValue(env, "PRICE_SOURCE_URL") ?? DEFAULT_PRICE_SOURCE_URL;
  const tolerance = toleranceBps(env);
  const reference = await fetchPrice(source, report.symbol);
  return withinTolerance(report.price, reference.price, tolerance);
}

function toleranceBps(env: NodeJS.ProcessEnv): number {
  const raw = envValue(env, "PRICE_TOLERANCE_BPS");
  if (raw === undefined) return DEFAULT_TOLERANCE_BPS;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 10000) {
    throw new Error(`PRICE_TOLERANCE_BPS must be an integer from 0 to 10000, got "${raw}"`);
  }
  return value;
}
