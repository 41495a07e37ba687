import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface PriceFeed {
  /** Use as PRICE_SOURCE_URL. */
  url: string;
  setPrice(symbol: string, price: string): void;
  close(): Promise<void>;
}

/**
 * A local price source in the format the avsctl devnet feed uses:
 * GET /price?symbol=ETHUSDT -> {"symbol": "ETHUSDT", "price": "3000.00", "timestamp": 1700000000}.
 */
export async function startPriceFeed(
  prices: Record<string, string>,
  timestamp = 1700000000,
): Promise<PriceFeed> {
  const table = new Map(Object.entries(prices));
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const symbol = url.searchParams.get("symbol") ?? "";
    const price = table.get(symbol);
    const [status, body] =
      url.pathname === "/price" && price !== undefined
        ? [200, { symbol, price, timestamp }]
        : [404, { error: `unknown symbol ${symbol}` }];
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/price`,
    setPrice: (symbol, price) => table.set(symbol, price),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
