import { envValue, HttpError } from "./http.ts";
import { canonicalJson, type PriceReport, parseReport } from "./price.ts";

/*
 * Where a report lives: pinned to IPFS through Pinata's API, its CID the proofOfTask, as in
 * Othentic's own simple-price-oracle. Anything that speaks Pinata's pinJSONToIPFS and serves a
 * path gateway works: Pinata itself, or the IPFS node `avsctl devnet up` starts (which sets
 * PINATA_API_URL and PINATA_GATEWAY for these services). The rule is the same in the
 * TypeScript, Python and Go versions of this template.
 *
 *   pin:   POST {PINATA_API_URL}/pinning/pinJSONToIPFS
 *          {"pinataContent": <report>, "pinataMetadata": {"name": "price-report-<round>"}}
 *          (Authorization: Bearer <PINATA_JWT> when set) -> {"IpfsHash": "<cid>", ...}
 *   fetch: GET {PINATA_GATEWAY}<cid>
 */

export const DEFAULT_PINATA_API_URL = "https://api.pinata.cloud";
export const DEFAULT_PINATA_GATEWAY = "https://gateway.pinata.cloud/ipfs/";

/** CIDv0 (base58btc sha2-256, "Qm...") or CIDv1 in base32 ("b..."), the forms gateways answer for. */
const CID_PATTERN = /^(Qm[1-9A-HJ-NP-Za-km-z]{44}|b[a-z2-7]{58,120})$/;

export function isCid(value: unknown): value is string {
  return typeof value === "string" && CID_PATTERN.test(value);
}

function pinataApiUrl(env: NodeJS.ProcessEnv): string {
  return (envValue(env, "PINATA_API_URL") ?? DEFAULT_PINATA_API_URL).replace(/\/+$/, "");
}

/** The gateway prefix a CID is appended to; a missing final slash is supplied. */
export function gatewayUrl(env: NodeJS.ProcessEnv, cid: string): string {
  const gateway = envValue(env, "PINATA_GATEWAY") ?? DEFAULT_PINATA_GATEWAY;
  return `${gateway}${gateway.endsWith("/") ? "" : "/"}${cid}`;
}

/**
 * Pins the report and answers its CID. Any failure is an HTTP 502: the task cannot be proved,
 * so nothing may be sent to the aggregator.
 */
export async function pinReport(
  report: PriceReport,
  env: NodeJS.ProcessEnv,
  timeoutMs = 15000,
): Promise<string> {
  const url = `${pinataApiUrl(env)}/pinning/pinJSONToIPFS`;
  const headers: Record<string, string> = { "content-type": "application/json" };
  const jwt = envValue(env, "PINATA_JWT");
  if (jwt !== undefined) headers.authorization = `Bearer ${jwt}`;
  // Parsed from the canonical text, so the pinned object has the canonical key order.
  const body = JSON.stringify({
    pinataContent: JSON.parse(canonicalJson(report)),
    pinataMetadata: { name: `price-report-${report.round}` },
  });
  let response: Response;
  try {
    response = await fetch(url, { method: "POST", headers, body, signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new HttpError(
      502,
      `pinning the report to IPFS failed: ${url} unreachable: ${(error as Error).message}`,
    );
  }
  const text = await response.text().catch(() => "");
  if (!response.ok) {
    const hint = response.status === 401 || response.status === 403 ? " (is PINATA_JWT set and valid?)" : "";
    throw new HttpError(
      502,
      `pinning the report to IPFS failed: ${url} answered HTTP ${response.status}${hint}: ${text.slice(0, 300)}`,
    );
  }
  let cid: unknown;
  try {
    cid = (JSON.parse(text) as { IpfsHash?: unknown }).IpfsHash;
  } catch {
    cid = undefined;
  }
  if (!isCid(cid)) {
    throw new HttpError(
      502,
      `pinning the report to IPFS failed: ${url} answered no CID as IpfsHash: ${text.slice(0, 300)}`,
    );
  }
  return cid;
}

/**
 * Gateway answers that say nothing about the content: 408 (it timed out) and 429 (rate limited)
 * are 4xx, but mean "ask again later", like a 5xx.
 */
const UNDECIDED_4XX = new Set([408, 429]);

/**
 * The report stored under a CID, or null when the gateway has no such content (a 4xx other than
 * 408 and 429) or the content is not a report: both are a verdict against the proof. Throws when
 * the gateway is unreachable, fails (5xx), times out (408) or is rate limited (429): that says
 * nothing about the proof, so the caller must not vote.
 */
export async function fetchReport(
  cid: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = 15000,
): Promise<PriceReport | null> {
  const url = gatewayUrl(env, cid);
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (error) {
    throw new Error(`IPFS gateway ${url} unreachable: ${(error as Error).message}`);
  }
  if (response.status >= 400 && response.status < 500 && !UNDECIDED_4XX.has(response.status)) {
    await response.body?.cancel();
    return null;
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`IPFS gateway ${url} answered HTTP ${response.status}`);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new Error(`IPFS gateway ${url} broke off the content: ${(error as Error).message}`);
  }
  return parseReport(text);
}
