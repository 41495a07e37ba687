import { envValue } from "./http.ts";
import {
  DEFAULT_PRICE_SOURCE_URL,
  DEFAULT_TOLERANCE_BPS,
  decodeReport,
  fetchPrice,
  proofMatchesData,
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
 * Approves a price report when `data` is the canonical JSON of a report, `proofOfTask` is its
 * keccak256 digest, and the price is within PRICE_TOLERANCE_BPS (default 100 = 1%) of the
 * price this service fetches itself. Throws (HTTP 500) only when it cannot fetch that price.
 */
export async function validateTask(request: ValidationRequest, env: NodeJS.ProcessEnv): Promise<boolean> {
  const report = decodeReport(request.data);
  if (!report || !proofMatchesData(request.proofOfTask, request.data as string)) return false;
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
