/**
 * The authenticated channel between the aggregator and its attesters, over plain HTTP.
 *
 * Attesters dial the aggregator (only the aggregator needs a reachable address, as with
 * Othentic's bootstrap node):
 *   1. `POST /p2p/hello`: the attester's hello (address, ephemeral X25519 key, nonce, time),
 *      signed with its operator ECDSA key (EIP-191). The aggregator checks the signature, the
 *      clock skew, replay, and that the address is an active operator on chain.
 *   2. The answer is the aggregator's welcome (session id, its own ephemeral key, the hash of
 *      the hello), signed by the aggregator's operator key; the attester checks it the same way.
 *   3. Both derive two HMAC keys from the X25519 secret (HKDF-SHA256). Every later message
 *      carries a sequence number and an HMAC-SHA256, so a message is as good as signed by the
 *      sender's operator key at microseconds per message instead of milliseconds.
 *   4. `GET /p2p/stream` (authenticated) stays open: the aggregator writes tasks, custom
 *      messages and pings as lines `<seq> <mac> <json>`. `POST /p2p/votes` carries votes back;
 *      a vote is also self-authenticating through the attester's on-chain BLS key.
 * When the stream ends (aggregator restart, attester restart, network), the attester says
 * hello again with backoff: rejoining needs no manual step. A new hello from the same
 * address replaces the old session.
 */

import crypto from "node:crypto";
import http from "node:http";
import { keccak256, toUtf8Bytes, verifyMessage, type Wallet } from "ethers";
import { sleep } from "../util/sleep.js";
import { readBody, sendJson } from "./http.js";
import type { Logger } from "./log.js";

const PROTOCOL_VERSION = 1;
const MAX_CLOCK_SKEW_MS = 120_000;
const REPLAY_WINDOW = 4096;
const HELLO_BODY_LIMIT = 8 * 1024;
const VOTES_BODY_LIMIT = 4 * 1024 * 1024;
const PING_INTERVAL_MS = 5_000;
const STREAM_IDLE_TIMEOUT_MS = 20_000;
const MAX_STREAM_BUFFER_BYTES = 16 * 1024 * 1024;

export interface Hello {
  v: number;
  role: "attester";
  address: string;
  ephemeralKey: string;
  nonce: string;
  timestamp: number;
}

export interface Welcome {
  v: number;
  sessionId: string;
  aggregator: string;
  ephemeralKey: string;
  helloHash: string;
  timestamp: number;
}

/** A signed envelope: the exact JSON text and its EIP-191 signature. */
interface Signed {
  payload: string;
  signature: string;
}

/** Messages on the aggregator -> attester stream. */
export type DownMessage =
  | { type: "tasks"; tasks: TaskMessage[] }
  | { type: "custom"; data: string }
  | { type: "ping"; time: number };

/** A task as attesters receive it. */
export interface TaskMessage {
  chainId: number;
  attestationCenter: string;
  taskHash: string;
  proofOfTask: string;
  data: string;
  performer: string;
  taskDefinitionId: number;
  /** Unix ms after which the aggregator stops collecting votes. */
  deadline: number;
}

/** One attester answer about one task. */
export interface VoteMessage {
  chainId: number;
  taskHash: string;
  /** Present for a vote: the verdict and the G1 signature [x, y] as 0x-hex words. */
  isApproved?: boolean;
  signature?: [string, string];
  /** Present for an abstention: why (logged by the aggregator). */
  abstain?: string;
}

function randomHex(bytes: number): string {
  return crypto.randomBytes(bytes).toString("hex");
}

function newEphemeral(): { privateKey: crypto.KeyObject; publicRaw: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("x25519");
  return { privateKey, publicRaw: (publicKey.export({ format: "jwk" }) as { x: string }).x };
}

function deriveKeys(
  privateKey: crypto.KeyObject,
  peerPublicRaw: string,
  sessionId: string,
  transcript: string,
): { down: Buffer; up: Buffer } {
  const publicKey = crypto.createPublicKey({
    key: { kty: "OKP", crv: "X25519", x: peerPublicRaw },
    format: "jwk",
  });
  const shared = crypto.diffieHellman({ privateKey, publicKey });
  const okm = Buffer.from(
    crypto.hkdfSync(
      "sha256",
      shared,
      Buffer.from(sessionId, "hex"),
      Buffer.from(`avsctl/node/v1|${transcript}`),
      64,
    ),
  );
  return { down: okm.subarray(0, 32), up: okm.subarray(32, 64) };
}

function mac(key: Buffer, seq: number, text: string): string {
  return crypto.createHmac("sha256", key).update(`${seq} `).update(text).digest("hex");
}

function macEquals(a: string, b: string): boolean {
  if (a.length !== b.length || a.length !== 64) return false;
  return crypto.timingSafeEqual(Buffer.from(a, "hex"), Buffer.from(b, "hex"));
}

/** Accepts each sequence number once, out of order within a window (votes travel on several sockets). */
export class ReplayWindow {
  private max = 0;
  private readonly seen = new Set<number>();
  accept(seq: number): boolean {
    if (!Number.isSafeInteger(seq) || seq <= 0 || seq <= this.max - REPLAY_WINDOW || this.seen.has(seq))
      return false;
    this.seen.add(seq);
    if (seq > this.max) {
      this.max = seq;
      if (this.seen.size > REPLAY_WINDOW * 2) {
        for (const s of this.seen) if (s <= this.max - REPLAY_WINDOW) this.seen.delete(s);
      }
    }
    return true;
  }
}

function signEnvelope(wallet: Wallet, payload: object): Signed {
  const text = JSON.stringify(payload);
  return { payload: text, signature: wallet.signMessageSync(text) };
}

/** The signer of an envelope, or undefined when the envelope is malformed. */
function openEnvelope(
  body: unknown,
): { text: string; signer: string; value: Record<string, unknown> } | undefined {
  const env = body as Partial<Signed> | null;
  if (!env || typeof env.payload !== "string" || typeof env.signature !== "string") return undefined;
  if (env.payload.length > HELLO_BODY_LIMIT || !/^0x[0-9a-fA-F]{130}$/.test(env.signature)) return undefined;
  try {
    const value = JSON.parse(env.payload) as Record<string, unknown>;
    if (value === null || typeof value !== "object") return undefined;
    return { text: env.payload, signer: verifyMessage(env.payload, env.signature), value };
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Aggregator side
// ---------------------------------------------------------------------------------------------

export interface PeerSession {
  sessionId: string;
  address: string;
  connectedAt: number;
  down: Buffer;
  up: Buffer;
  downSeq: number;
  replay: ReplayWindow;
  stream?: http.ServerResponse;
}

export interface PeerHubOptions {
  wallet: Wallet;
  log: Logger;
  /** Whether `address` may join (an active operator on a served L2). */
  isOperator(address: string): Promise<boolean>;
  /** Called when an attester's stream opens (e.g. to replay pending tasks to it). */
  onJoin(session: PeerSession): void;
  onLeave?(session: PeerSession): void;
  /** Votes from an authenticated attester. */
  onVotes(address: string, votes: VoteMessage[]): void;
}

/** The aggregator's end: sessions by attester address, the streams, and the /p2p routes. */
export class PeerHub {
  private readonly sessions = new Map<string, PeerSession>();
  private readonly byAddress = new Map<string, PeerSession>();
  private readonly seenNonces = new Map<string, number>();
  private readonly pingTimer: NodeJS.Timeout;

  constructor(private readonly opts: PeerHubOptions) {
    this.pingTimer = setInterval(() => this.broadcast({ type: "ping", time: Date.now() }), PING_INTERVAL_MS);
    this.pingTimer.unref();
  }

  /** Attesters with an open stream. */
  connected(): PeerSession[] {
    return [...this.byAddress.values()].filter((s) => s.stream !== undefined);
  }

  /** Routes /p2p/*; returns false when the path is not ours. */
  handle(req: http.IncomingMessage, res: http.ServerResponse, path: string): boolean {
    if (path === "/p2p/hello" && req.method === "POST") void this.hello(req, res);
    else if (path === "/p2p/stream" && req.method === "GET") this.openStream(req, res);
    else if (path === "/p2p/votes" && req.method === "POST") void this.votes(req, res);
    else return false;
    return true;
  }

  private async hello(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const body = await readBody(req, HELLO_BODY_LIMIT);
      let parsed: unknown;
      try {
        parsed = JSON.parse(body);
      } catch {
        return sendJson(res, 400, { error: "hello is not JSON" });
      }
      const env = openEnvelope(parsed);
      const hello = env?.value as Partial<Hello> | undefined;
      if (
        !env ||
        !hello ||
        hello.v !== PROTOCOL_VERSION ||
        hello.role !== "attester" ||
        typeof hello.address !== "string" ||
        typeof hello.ephemeralKey !== "string" ||
        !/^[A-Za-z0-9_-]{43}$/.test(hello.ephemeralKey) ||
        typeof hello.nonce !== "string" ||
        !/^[0-9a-f]{32}$/.test(hello.nonce) ||
        typeof hello.timestamp !== "number"
      ) {
        return sendJson(res, 400, { error: "malformed hello" });
      }
      if (env.signer.toLowerCase() !== hello.address.toLowerCase()) {
        return sendJson(res, 401, { error: "hello not signed by its address" });
      }
      const now = Date.now();
      if (Math.abs(now - hello.timestamp) > MAX_CLOCK_SKEW_MS)
        return sendJson(res, 401, { error: "hello too old or clock skew" });
      if (this.seenNonces.has(hello.nonce)) return sendJson(res, 401, { error: "hello replayed" });
      for (const [n, t] of this.seenNonces) if (now - t > MAX_CLOCK_SKEW_MS * 2) this.seenNonces.delete(n);
      this.seenNonces.set(hello.nonce, now);
      if (!(await this.opts.isOperator(env.signer))) {
        this.opts.log.warn("hello refused: not an active operator", { peer: env.signer });
        return sendJson(res, 403, { error: "not an active operator on any served chain" });
      }
      const eph = newEphemeral();
      const welcome: Welcome = {
        v: PROTOCOL_VERSION,
        sessionId: randomHex(16),
        aggregator: this.opts.wallet.address,
        ephemeralKey: eph.publicRaw,
        helloHash: keccak256(toUtf8Bytes(env.text)),
        timestamp: now,
      };
      const signed = signEnvelope(this.opts.wallet, welcome);
      const keys = deriveKeys(
        eph.privateKey,
        hello.ephemeralKey,
        welcome.sessionId,
        `${env.text}|${signed.payload}`,
      );
      const address = env.signer.toLowerCase();
      const previous = this.byAddress.get(address);
      if (previous) this.drop(previous, "replaced by a new hello");
      const session: PeerSession = {
        sessionId: welcome.sessionId,
        address: env.signer,
        connectedAt: now,
        down: keys.down,
        up: keys.up,
        downSeq: 0,
        replay: new ReplayWindow(),
      };
      this.sessions.set(session.sessionId, session);
      this.byAddress.set(address, session);
      sendJson(res, 200, signed);
    } catch (error) {
      if (!res.headersSent) sendJson(res, 400, { error: (error as Error).message });
    }
  }

  /** The session of an authenticated request (headers session/seq/mac over `text`). */
  private authenticate(req: http.IncomingMessage, text: string): PeerSession | undefined {
    const id = req.headers["x-avsctl-session"];
    const seq = Number(req.headers["x-avsctl-seq"]);
    const tag = req.headers["x-avsctl-mac"];
    if (typeof id !== "string" || typeof tag !== "string") return undefined;
    const session = this.sessions.get(id);
    if (!session || !macEquals(mac(session.up, seq, text), tag)) return undefined;
    if (!session.replay.accept(seq)) return undefined;
    return session;
  }

  private openStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    const session = this.authenticate(req, "stream");
    if (!session) {
      sendJson(res, 401, { error: "unauthenticated" });
      return;
    }
    if (session.stream) session.stream.end();
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.socket.setKeepAlive(true, 5_000);
    session.stream = res;
    const onClose = (): void => {
      if (session.stream === res) {
        session.stream = undefined;
        this.opts.log.info("attester disconnected", { peer: session.address });
        this.opts.onLeave?.(session);
      }
    };
    res.on("close", onClose);
    this.opts.log.info("attester connected", { peer: session.address });
    this.send(session, { type: "ping", time: Date.now() });
    this.opts.onJoin(session);
  }

  private async votes(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req, VOTES_BODY_LIMIT);
    } catch {
      return sendJson(res, 413, { error: "too large" });
    }
    const session = this.authenticate(req, body);
    if (!session) return sendJson(res, 401, { error: "unauthenticated" });
    let votes: unknown;
    try {
      votes = (JSON.parse(body) as { votes?: unknown }).votes;
    } catch {
      return sendJson(res, 400, { error: "not JSON" });
    }
    if (!Array.isArray(votes)) return sendJson(res, 400, { error: "votes must be an array" });
    res.writeHead(204).end();
    this.opts.onVotes(session.address, votes as VoteMessage[]);
  }

  /** Writes a message to one attester's stream; false when it has none. */
  send(session: PeerSession, message: DownMessage): boolean {
    return this.write(session, JSON.stringify(message));
  }

  /** Writes a message to every connected attester; returns how many got it. */
  broadcast(message: DownMessage): number {
    const text = JSON.stringify(message);
    let n = 0;
    for (const session of [...this.byAddress.values()]) if (this.write(session, text)) n++;
    return n;
  }

  private write(session: PeerSession, text: string): boolean {
    const stream = session.stream;
    if (!stream || stream.writableEnded) return false;
    // An attester that stops reading would make us buffer without end: cut it off; it says
    // hello again and gets the open tasks replayed.
    if (stream.writableLength > MAX_STREAM_BUFFER_BYTES) {
      this.opts.log.warn("attester not reading its stream; disconnecting it", { peer: session.address });
      this.drop(session, "stream buffer full");
      return false;
    }
    const seq = ++session.downSeq;
    stream.write(`${seq} ${mac(session.down, seq, text)} ${text}\n`);
    return true;
  }

  private drop(session: PeerSession, why: string): void {
    this.sessions.delete(session.sessionId);
    if (this.byAddress.get(session.address.toLowerCase()) === session)
      this.byAddress.delete(session.address.toLowerCase());
    if (session.stream) {
      this.opts.log.debug("closing attester stream", { peer: session.address, why });
      const stream = session.stream;
      session.stream = undefined;
      stream.end();
    }
  }

  /** Ends every stream (on stop). */
  close(): void {
    clearInterval(this.pingTimer);
    for (const s of [...this.sessions.values()]) this.drop(s, "aggregator stopping");
  }
}

// ---------------------------------------------------------------------------------------------
// Attester side
// ---------------------------------------------------------------------------------------------

export interface AggregatorLinkOptions {
  url: string;
  wallet: Wallet;
  log: Logger;
  signal: AbortSignal;
  /** Whether the welcome's signer may act as our aggregator. */
  isAggregator(address: string): Promise<boolean>;
  onMessage(message: DownMessage): void;
  onConnected?(aggregator: string): void;
}

interface ClientSession {
  sessionId: string;
  aggregator: string;
  down: Buffer;
  up: Buffer;
  upSeq: number;
  downSeq: number;
}

/**
 * The attester's end: keeps a session and a stream open to the aggregator for as long as the
 * signal is not aborted, reconnecting with bounded backoff, and posts votes on it.
 */
export class AggregatorLink {
  private session: ClientSession | undefined;
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  private streamReq: http.ClientRequest | undefined;
  private readonly done: Promise<void>;
  /** Why the last connection attempt failed (for health output). */
  lastError: string | undefined;

  constructor(private readonly opts: AggregatorLinkOptions) {
    this.done = this.run();
  }

  get connected(): boolean {
    return this.session !== undefined && this.streamReq !== undefined;
  }

  get aggregatorAddress(): string | undefined {
    return this.session?.aggregator;
  }

  private async run(): Promise<void> {
    let backoff = 100;
    const { signal, log } = this.opts;
    while (!signal.aborted) {
      const started = Date.now();
      try {
        this.session = await this.hello();
        backoff = 100;
        this.lastError = undefined;
        await this.stream(this.session);
        if (!signal.aborted) log.warn("aggregator stream ended; saying hello again");
      } catch (error) {
        this.lastError = (error as Error).message;
        if (!signal.aborted)
          log.warn("cannot reach the aggregator", { error: this.lastError, retryInMs: backoff });
      }
      this.session = undefined;
      this.streamReq = undefined;
      if (signal.aborted) break;
      // A stream that lived a while restarts from the shortest backoff.
      if (Date.now() - started > 10_000) backoff = 100;
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 2_000);
    }
  }

  private async hello(): Promise<ClientSession> {
    const eph = newEphemeral();
    const hello: Hello = {
      v: PROTOCOL_VERSION,
      role: "attester",
      address: this.opts.wallet.address,
      ephemeralKey: eph.publicRaw,
      nonce: randomHex(16),
      timestamp: Date.now(),
    };
    const signed = signEnvelope(this.opts.wallet, hello);
    const res = await fetch(`${this.opts.url}/p2p/hello`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(signed),
      signal: AbortSignal.any([this.opts.signal, AbortSignal.timeout(10_000)]),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`hello refused: HTTP ${res.status} ${text.slice(0, 200)}`);
    const env = openEnvelope(JSON.parse(text));
    const welcome = env?.value as Partial<Welcome> | undefined;
    if (
      !env ||
      !welcome ||
      welcome.v !== PROTOCOL_VERSION ||
      typeof welcome.sessionId !== "string" ||
      !/^[0-9a-f]{32}$/.test(welcome.sessionId) ||
      typeof welcome.ephemeralKey !== "string" ||
      typeof welcome.aggregator !== "string" ||
      welcome.helloHash !== keccak256(toUtf8Bytes(signed.payload))
    ) {
      throw new Error("malformed welcome");
    }
    if (env.signer.toLowerCase() !== welcome.aggregator.toLowerCase())
      throw new Error("welcome not signed by its aggregator");
    if (!(await this.opts.isAggregator(env.signer)))
      throw new Error(`${env.signer} is not an aggregator we accept`);
    const keys = deriveKeys(
      eph.privateKey,
      welcome.ephemeralKey,
      welcome.sessionId,
      `${signed.payload}|${env.text}`,
    );
    return {
      sessionId: welcome.sessionId,
      aggregator: env.signer,
      down: keys.down,
      up: keys.up,
      upSeq: 0,
      downSeq: 0,
    };
  }

  private authHeaders(session: ClientSession, text: string): Record<string, string> {
    const seq = ++session.upSeq;
    return {
      "x-avsctl-session": session.sessionId,
      "x-avsctl-seq": String(seq),
      "x-avsctl-mac": mac(session.up, seq, text),
    };
  }

  private stream(session: ClientSession): Promise<void> {
    const { log, signal } = this.opts;
    return new Promise<void>((resolve, reject) => {
      const url = new URL(`${this.opts.url}/p2p/stream`);
      const req = http.get(url, { headers: this.authHeaders(session, "stream"), agent: false }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new Error(`stream refused: HTTP ${res.statusCode}`));
          return;
        }
        this.opts.onConnected?.(session.aggregator);
        log.info("connected to the aggregator", { aggregator: session.aggregator });
        res.setEncoding("utf8");
        let buffer = "";
        let idle = setTimeout(() => req.destroy(new Error("aggregator silent")), STREAM_IDLE_TIMEOUT_MS);
        res.on("data", (chunk: string) => {
          clearTimeout(idle);
          idle = setTimeout(() => req.destroy(new Error("aggregator silent")), STREAM_IDLE_TIMEOUT_MS);
          buffer += chunk;
          let nl = buffer.indexOf("\n");
          while (nl >= 0) {
            const line = buffer.slice(0, nl);
            buffer = buffer.slice(nl + 1);
            this.line(session, line);
            nl = buffer.indexOf("\n");
          }
          if (buffer.length > VOTES_BODY_LIMIT) req.destroy(new Error("line too long"));
        });
        res.on("close", () => {
          clearTimeout(idle);
          resolve();
        });
        res.on("error", () => undefined);
      });
      this.streamReq = req;
      req.on("error", (err) => reject(err));
      const onAbort = (): void => {
        req.destroy();
        resolve();
      };
      signal.addEventListener("abort", onAbort, { once: true });
      req.on("close", () => signal.removeEventListener("abort", onAbort));
    });
  }

  private line(session: ClientSession, line: string): void {
    const a = line.indexOf(" ");
    const b = line.indexOf(" ", a + 1);
    if (a < 0 || b < 0) return;
    const seq = Number(line.slice(0, a));
    const tag = line.slice(a + 1, b);
    const text = line.slice(b + 1);
    if (seq <= session.downSeq || !macEquals(mac(session.down, seq, text), tag)) {
      this.opts.log.warn("dropped an unauthenticated stream message");
      return;
    }
    session.downSeq = seq;
    let message: DownMessage;
    try {
      message = JSON.parse(text) as DownMessage;
    } catch {
      return;
    }
    this.opts.onMessage(message);
  }

  /** Posts votes to the aggregator; false when not connected or refused. */
  async postVotes(votes: VoteMessage[]): Promise<boolean> {
    const session = this.session;
    if (!session) return false;
    const text = JSON.stringify({ votes });
    try {
      const ok = await new Promise<boolean>((resolve) => {
        const req = http.request(
          `${this.opts.url}/p2p/votes`,
          {
            method: "POST",
            agent: this.agent,
            headers: {
              "content-type": "application/json",
              "content-length": Buffer.byteLength(text),
              ...this.authHeaders(session, text),
            },
            timeout: 10_000,
          },
          (res) => {
            res.resume();
            resolve((res.statusCode ?? 500) < 300);
          },
        );
        req.on("timeout", () => req.destroy(new Error("timeout")));
        req.on("error", () => resolve(false));
        req.end(text);
      });
      if (!ok) this.opts.log.warn("aggregator refused votes", { count: votes.length });
      return ok;
    } catch {
      return false;
    }
  }

  /** Stops the link (the signal given at construction must be aborted first, or is aborted by the caller). */
  async closed(): Promise<void> {
    this.streamReq?.destroy();
    await this.done;
    this.agent.destroy();
  }
}
