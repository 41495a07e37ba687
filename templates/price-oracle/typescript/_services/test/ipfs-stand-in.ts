import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { concat, encodeBase58, sha256, toUtf8Bytes } from "ethers";

export interface PinRequest {
  body: any;
  authorization: string | undefined;
}

export interface IpfsStandIn {
  /** Use as PINATA_API_URL. */
  apiUrl: string;
  /** Use as PINATA_GATEWAY (ends in /ipfs/). */
  gatewayUrl: string;
  /** Every pinJSONToIPFS request received, in order. */
  pins: PinRequest[];
  /** Stores bytes as if pinned and answers their CID. */
  put(text: string): string;
  /** When set, pinJSONToIPFS answers this HTTP status with an error body. */
  failPinsWith: number | undefined;
  /** When set, the gateway answers this HTTP status with an error body. */
  failGatewayWith: number | undefined;
  close(): Promise<void>;
}

/** A CIDv0-shaped id: base58btc of the sha2-256 multihash (0x12 0x20 + digest) of the bytes. */
export function standInCid(text: string): string {
  return encodeBase58(concat(["0x1220", sha256(toUtf8Bytes(text))]));
}

/**
 * A local stand-in for Pinata (and for the IPFS node `avsctl devnet up` runs), so the tests
 * need no account and no network beyond 127.0.0.1: POST /pinning/pinJSONToIPFS stores
 * JSON.stringify(pinataContent) and answers {"IpfsHash": <cid>}; GET /ipfs/<cid> serves it back,
 * 404 for anything never pinned. The id is CID-shaped but, unlike real IPFS, is the hash of the
 * raw bytes rather than of a UnixFS node; the services only pass CIDs along, so that is enough.
 */
export async function startIpfsStandIn(): Promise<IpfsStandIn> {
  const stored = new Map<string, string>();
  const put = (text: string) => {
    const cid = standInCid(text);
    stored.set(cid, text);
    return cid;
  };
  const standIn: IpfsStandIn = {
    apiUrl: "",
    gatewayUrl: "",
    pins: [],
    put,
    failPinsWith: undefined,
    failGatewayWith: undefined,
    close: async () => {},
  };
  const server = createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const send = (status: number, body: string, type = "application/json") => {
      res.writeHead(status, { "content-type": type });
      res.end(body);
    };
    if (req.method === "POST" && url.pathname === "/pinning/pinJSONToIPFS") {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        send(400, JSON.stringify({ error: "the body is not JSON" }));
        return;
      }
      standIn.pins.push({ body, authorization: req.headers.authorization });
      if (standIn.failPinsWith !== undefined) {
        send(standIn.failPinsWith, JSON.stringify({ error: "pinning refused by the test" }));
        return;
      }
      const text = JSON.stringify(body?.pinataContent);
      const cid = put(text);
      send(
        200,
        JSON.stringify({
          IpfsHash: cid,
          PinSize: Buffer.byteLength(text),
          Timestamp: new Date().toISOString(),
        }),
      );
      return;
    }
    if (req.method === "GET" && url.pathname.startsWith("/ipfs/")) {
      if (standIn.failGatewayWith !== undefined) {
        send(standIn.failGatewayWith, JSON.stringify({ error: "gateway failure made by the test" }));
        return;
      }
      const text = stored.get(url.pathname.slice("/ipfs/".length));
      if (text === undefined) send(404, JSON.stringify({ error: "not found" }));
      else send(200, text);
      return;
    }
    send(404, JSON.stringify({ error: `no route for ${req.method} ${url.pathname}` }));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  standIn.apiUrl = `http://127.0.0.1:${port}`;
  standIn.gatewayUrl = `http://127.0.0.1:${port}/ipfs/`;
  standIn.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return standIn;
}
