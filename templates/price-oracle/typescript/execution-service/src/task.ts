import { envValue, HttpError } from "./http.ts";
import { pinReport } from "./ipfs.ts";
import {
  DEFAULT_PRICE_SOURCE_URL,
  DEFAULT_SYMBOL,
  fetchPrice,
  nextRound,
  type PriceReport,
  type Proof,
  reportData,
  SYMBOL_PATTERN,
} from "./price.ts";

/**
 * The task: fetch the current price of a symbol as this process's next round (so each
 * execution is its own task), pin the report to IPFS and prove it with its CID; `data` carries
 * the report itself. Body fields it reads: `symbol` (default PRICE_SYMBOL or ETHUSDT). Change
 * this function to change what the AVS does; keep validation-service/src/validate.ts in step
 * with it.
 */
export async function performTask(input: Record<string, unknown>, env: NodeJS.ProcessEnv): Promise<Proof> {
  const symbol = input.symbol ?? envValue(env, "PRICE_SYMBOL") ?? DEFAULT_SYMBOL;
  if (typeof symbol !== "string" || !SYMBOL_PATTERN.test(symbol)) {
    throw new HttpError(400, `symbol must match ${SYMBOL_PATTERN}, got ${JSON.stringify(symbol)}`);
  }
  const source = envValue(env, "PRICE_SOURCE_URL") ?? DEFAULT_PRICE_SOURCE_URL;
  const quote = await fetchPrice(source, symbol);
  const report: PriceReport = {
    price: quote.price,
    round: nextRound(),
    symbol,
    // The source's own time when it sends one: the time of the quote, not of this run.
    timestamp: quote.timestamp ?? Math.floor(Date.now() / 1000),
  };
  return { proofOfTask: await pinReport(report, env), data: reportData(report) };
}
