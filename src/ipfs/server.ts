/**
 * The devnet's IPFS node over HTTP on 127.0.0.1: the subset of Kubo's RPC API, of Pinata's
 * pinning API and of a path gateway that AVS services use to store a result and read it back.
 * Pinata's credentials are accepted and never checked: the node is local and holds test data.
 */

import http from "node:http";
import type { AddressInfo } from "node:net";
import { AvsctlError } from "../errors.js";
import { readBodyBytes } from "../util/http-body.js";
import { type IpfsStore, openIpfsStore } from "./store.js";

export interface IpfsServerOptions {
  /** The blockstore and pin list live here; a new server on the same directory sees the same content. */
  dataDir: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Largest request body accepted, in bytes (413 above it). */
  maxBodyBytes?: number;
}

export interface IpfsServer {
  url: string;
  apiUrl: string;
  gatewayUrl: string;
  pinataUrl: string;
  port: number;
  close(): Promise<void>;
}

export const IPFS_VERSION = "0.1.0-avsctl";
const DEFAULT_MAX_BODY = 32 * 1024 * 1024;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function startIpfsServer(options: IpfsServerOptions): Promise<IpfsServer> {
  const store = await openIpfsStore(options.dataDir);
  const limit = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
  const server = http.createServer((req, res) => {
    handle(store, limit, req, res).catch((err: unknown) => {
      const status =
        err instanceof HttpError
          ? err.status
          : err instanceof AvsctlError && err.code === "NOT_FOUND"
            ? 404
            : 500;
      const message = err instanceof Error ? err.message : String(err);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      // Kubo answers errors as {Message, Code, Type}; Pinata as {error}. Both keys let either
      // client library show the reason.
      sendJson(res, status, { Message: message, Code: 0, Type: "error", error: message });
    });
  });
  const host = options.host ?? "127.0.0.1";
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (err) {
    await store.close();
    if ((err as NodeJS.ErrnoException).code === "EADDRINUSE") {
      throw new AvsctlError("PORT_IN_USE", `the IPFS node cannot listen on ${host}:${options.port}`);
    }
    throw err;
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://${host}:${port}`;
  return {
    url,
    apiUrl: `${url}/api/v0`,
    gatewayUrl: `${url}/ipfs/`,
    pinataUrl: url,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

async function handle(
  store: IpfsStore,
  limit: number,
  req: http.IncomingMessage,
  res: http.ServerResponse,
): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  const route = url.pathname.replace(/\/+$/, "");
  const method = req.method ?? "GET";
  const query = url.searchParams;

  if (route.startsWith("/ipfs/")) {
    if (method !== "GET" && method !== "HEAD") throw new HttpError(405, "the gateway is read-only");
    const cid = decodeURIComponent(route.slice("/ipfs/".length));
    const bytes = await store.cat(cid);
    res.writeHead(200, {
      "content-type": looksLikeJson(bytes) ? "application/json" : "application/octet-stream",
      "content-length": bytes.byteLength,
      etag: `"${cid}"`,
      "cache-control": "public, max-age=29030400, immutable",
    });
    res.end(method === "HEAD" ? undefined : bytes);
    return;
  }
  if (route === "/health") {
    sendJson(res, 200, { ok: true });
    return;
  }
  if (route === "/data/testAuthentication") {
    sendJson(res, 200, { message: "Congratulations! You are communicating with the Pinata API!" });
    return;
  }
  // Kubo's RPC and Pinata's pinning endpoints are POST only (Kubo refuses GET since 0.5).
  if (method !== "POST") throw new HttpError(405, `${method} ${route} is not served; use POST`);

  switch (route) {
    case "/api/v0/version":
      sendJson(res, 200, { Version: IPFS_VERSION, Commit: "", Repo: "", System: process.arch, Golang: "" });
      return;
    case "/api/v0/add": {
      const { name, bytes } = await readFilePart(req, limit);
      const cidVersion = parseCidVersion(query.get("cid-version"));
      const added = await store.add(bytes, {
        cidVersion,
        rawLeaves: parseBool(query.get("raw-leaves"), "raw-leaves"),
        pin: parseBool(query.get("pin"), "pin"),
      });
      sendJson(res, 200, { Name: name ?? added.cid, Hash: added.cid, Size: String(added.dagSize) });
      return;
    }
    case "/api/v0/cat": {
      const bytes = await store.cat(requireArg(query));
      res.writeHead(200, { "content-type": "text/plain", "content-length": bytes.byteLength });
      res.end(bytes);
      return;
    }
    case "/api/v0/pin/add": {
      const cid = requireArg(query);
      await store.pin(cid);
      sendJson(res, 200, { Pins: [cid] });
      return;
    }
    case "/pinning/pinJSONToIPFS": {
      const body = await readBody(req, limit);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString("utf8"));
      } catch {
        throw new HttpError(400, "the body is not JSON");
      }
      // Pinata's own clients wrap the document; plain fetch callers often send it bare.
      const content =
        parsed !== null && typeof parsed === "object" && !Array.isArray(parsed) && "pinataContent" in parsed
          ? (parsed as { pinataContent: unknown }).pinataContent
          : parsed;
      const options = pinataCidVersion(parsed);
      const added = await store.add(Buffer.from(JSON.stringify(content)), options);
      sendPinata(res, added.cid, added.dagSize);
      return;
    }
    case "/pinning/pinFileToIPFS": {
      const { bytes, fields } = await readFilePart(req, limit);
      let pinataOptions: unknown;
      try {
        pinataOptions = fields.pinataOptions === undefined ? undefined : JSON.parse(fields.pinataOptions);
      } catch {
        throw new HttpError(400, "pinataOptions is not JSON");
      }
      const added = await store.add(bytes, pinataCidVersion({ pinataOptions }));
      sendPinata(res, added.cid, added.dagSize);
      return;
    }
    default:
      throw new HttpError(404, `${route} is not served by the devnet IPFS node`);
  }
}

function sendPinata(res: http.ServerResponse, cid: string, size: number): void {
  sendJson(res, 200, { IpfsHash: cid, PinSize: size, Timestamp: new Date().toISOString() });
}

/** Pinata pins as CIDv1 only when `pinataOptions.cidVersion` is 1; Kubo's CIDv1 defaults apply then. */
function pinataCidVersion(body: unknown): { cidVersion: 0 | 1 } {
  const options = (body as { pinataOptions?: { cidVersion?: unknown } } | null)?.pinataOptions;
  const version = options?.cidVersion;
  return { cidVersion: version === 1 || version === "1" ? 1 : 0 };
}

function looksLikeJson(bytes: Uint8Array): boolean {
  const first = bytes.find((byte) => byte !== 0x20 && byte !== 0x0a && byte !== 0x0d && byte !== 0x09);
  if (first !== 0x7b && first !== 0x5b) return false;
  try {
    JSON.parse(Buffer.from(bytes).toString("utf8"));
    return true;
  } catch {
    return false;
  }
}

function requireArg(query: URLSearchParams): string {
  const arg = query.get("arg");
  if (arg === null || arg === "") throw new HttpError(400, 'argument "arg" is required');
  // Kubo accepts /ipfs/<cid> paths as well as bare CIDs.
  return arg.replace(/^\/ipfs\//, "");
}

function parseCidVersion(text: string | null): 0 | 1 | undefined {
  if (text === null || text === "") return undefined;
  if (text === "0" || text === "1") return Number(text) as 0 | 1;
  throw new HttpError(400, `cid-version must be 0 or 1, not "${text}"`);
}

function parseBool(text: string | null, name: string): boolean | undefined {
  if (text === null) return undefined;
  if (text === "" || text === "true" || text === "1") return true;
  if (text === "false" || text === "0") return false;
  throw new HttpError(400, `${name} must be true or false, not "${text}"`);
}

async function readFilePart(
  req: http.IncomingMessage,
  limit: number,
): Promise<{ name: string | undefined; bytes: Uint8Array; fields: Record<string, string> }> {
  const type = req.headers["content-type"] ?? "";
  if (!type.startsWith("multipart/form-data")) {
    throw new HttpError(400, 'send the file as multipart/form-data in a part named "file"');
  }
  const body = await readBody(req, limit);
  let form: FormData;
  try {
    form = await new Response(body, { headers: { "content-type": type } }).formData();
  } catch {
    throw new HttpError(400, "the multipart body cannot be parsed");
  }
  let file: File | undefined;
  const fields: Record<string, string> = {};
  for (const [key, value] of form) {
    if (typeof value === "string") fields[key] = value;
    else if (file === undefined) file = value;
  }
  if (file === undefined) throw new HttpError(400, "the multipart body has no file part");
  return { name: file.name || undefined, bytes: new Uint8Array(await file.arrayBuffer()), fields };
}

/** The whole body, refused with 413 as soon as the header or the bytes received pass `limit`. */
function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return readBodyBytes(req, limit, () => new HttpError(413, `request body larger than ${limit} bytes`));
}

function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}
