/**
 * The aggregator's end of the attester channel (see ../transport.ts): checks hellos, keeps one
 * session per attester address, writes tasks to the streams and takes votes.
 */

import type http from "node:http";
import { keccak256 } from "ethers/crypto";
import { toUtf8Bytes } from "ethers/utils";
import { readBody, sendJson } from "../http.js";
import type { Logger } from "../log.js";
import type { Signer } from "../signer.js";
import {
  type DownMessage,
  deriveKeys,
  HELLO_BODY_LIMIT,
  type Hello,
  mac,
  macEquals,
  newEphemeral,
  openEnvelope,
  PROTOCOL_VERSION,
  ReplayWindow,
  randomHex,
  signEnvelope,
  VOTES_BODY_LIMIT,
  type VoteMessage,
  type Welcome,
} from "./protocol.js";

const MAX_CLOCK_SKEW_MS = 120_000;
const PING_INTERVAL_MS = 5_000;
const MAX_STREAM_BUFFER_BYTES = 16 * 1024 * 1024;
/**
 * How long the connected attester of an operator has to answer a probe when a hello for the
 * same operator arrives. One that answers keeps its place and the newcomer is refused; one that
 * does not (a restarted node whose old connection the aggregator cannot yet know is gone) is
 * replaced, so a restart costs at most this long.
 */
const PROBE_TIMEOUT_MS = 2_000;

export interface PeerSession {
  sessionId: string;
  address: string;
  connectedAt: number;
  down: Buffer;
  up: Buffer;
  downSeq: number;
  replay: ReplayWindow;
  stream?: http.ServerResponse;
  /** The probe in flight (see PROBE_TIMEOUT_MS): resolves true when the attester answered. */
  probe?: Promise<boolean>;
  onPong?: () => void;
  /** Whether the refusal of another node with this session's operator key was logged. */
  conflictLogged?: boolean;
}

export interface PeerHubOptions {
  wallet: Signer;
  log: Logger;
  /** Whether `address` may join (an active operator on a served L2). */
  isOperator(address: string): Promise<boolean>;
  /** The operator id of `address`, for log lines and refusals. */
  operatorId?(address: string): bigint | undefined;
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
    else if (path === "/p2p/votes/stream" && req.method === "POST") this.voteStream(req, res);
    else if (path === "/p2p/pong" && req.method === "POST") void this.pong(req, res);
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
      const address = env.signer.toLowerCase();
      for (let held = this.byAddress.get(address); held?.stream; held = this.byAddress.get(address)) {
        if (await this.answers(held)) return this.refuseSecond(res, held);
        if (this.byAddress.get(address) !== held) continue;
        if (held.stream)
          this.opts.log.info("attester reconnected; its previous connection did not answer and was closed", {
            peer: held.address,
            operatorId: this.operatorId(held.address),
          });
        // Its peer is gone: the socket goes too rather than idling out the keep-alive timeout.
        held.stream?.destroy();
        this.drop(held, "did not answer a probe");
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
      // A session of this operator without a stream is one whose hello was not followed up.
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

  /**
   * Whether the attester holding `session`'s stream is alive: it is sent a probe and must answer
   * on POST /p2p/pong within PROBE_TIMEOUT_MS. Hellos arriving meanwhile share the probe.
   */
  private answers(session: PeerSession): Promise<boolean> {
    const stream = session.stream;
    if (!stream) return Promise.resolve(false);
    if (session.probe) return session.probe;
    const probe = new Promise<boolean>((resolve) => {
      const finish = (alive: boolean): void => {
        clearTimeout(timer);
        stream.off("close", onClose);
        session.onPong = undefined;
        resolve(alive);
      };
      const onClose = (): void => finish(false);
      const timer = setTimeout(() => finish(false), PROBE_TIMEOUT_MS);
      stream.on("close", onClose);
      session.onPong = () => finish(true);
      if (!this.send(session, { type: "probe" })) finish(false);
    });
    session.probe = probe;
    void probe.then(() => {
      if (session.probe === probe) session.probe = undefined;
    });
    return probe;
  }

  /**
   * Refuses a hello for an operator whose connected attester answered a probe: two nodes run
   * with the same operator key. The first keeps its place (it is the one votes come from); the
   * aggregator says so once per conflict, not at each of the newcomer's retries.
   */
  private refuseSecond(res: http.ServerResponse, held: PeerSession): void {
    const operatorId = this.operatorId(held.address);
    const who = operatorId ? `operator ${operatorId} (${held.address})` : `operator ${held.address}`;
    if (!held.conflictLogged) {
      held.conflictLogged = true;
      this.opts.log.warn(
        "refused a second attester with the operator key of a connected one (two nodes run with the same key)",
        { peer: held.address, operatorId, connectedSince: new Date(held.connectedAt).toISOString() },
      );
    }
    sendJson(res, 409, {
      error: `${who} is already connected to this aggregator from another node with the same operator key`,
      reason: "OPERATOR_CONNECTED",
    });
  }

  private operatorId(address: string): string | undefined {
    return this.opts.operatorId?.(address)?.toString();
  }

  private async pong(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    let body: string;
    try {
      body = await readBody(req, HELLO_BODY_LIMIT);
    } catch {
      return sendJson(res, 413, { error: "too large" });
    }
    const session = this.authenticate(req, body);
    if (!session) return sendJson(res, 401, { error: "unauthenticated" });
    res.writeHead(204).end();
    session.onPong?.();
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

  /**
   * An attester's long-lived vote request: its body is a line `<seq> <mac> <json>` per batch of
   * votes, authenticated like the down stream (the session's up key, each sequence number
   * once), so votes cost no HTTP request and answer each. A bad line ends the stream; so does
   * the session being replaced. The attester ends it and opens another well within the
   * server's request timeout.
   */
  private voteStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    const session = this.authenticate(req, "votes-stream");
    if (!session) {
      req.resume();
      sendJson(res, 401, { error: "unauthenticated" });
      return;
    }
    res.writeHead(200, { "content-type": "application/x-ndjson", "cache-control": "no-store" });
    res.flushHeaders();
    req.socket.setNoDelay(true);
    req.setEncoding("utf8");
    let buffer = "";
    req.on("data", (chunk: string) => {
      buffer += chunk;
      let nl = buffer.indexOf("\n");
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const why =
          this.sessions.get(session.sessionId) === session
            ? this.voteLine(session, line)
            : "session replaced";
        if (why !== undefined) {
          this.opts.log.warn("vote stream ended", { peer: session.address, why });
          req.destroy();
          return;
        }
        nl = buffer.indexOf("\n");
      }
      if (buffer.length > VOTES_BODY_LIMIT) req.destroy();
    });
    req.on("end", () => res.end());
  }

  /** Takes one line of a vote stream; why it is refused, or undefined. */
  private voteLine(session: PeerSession, line: string): string | undefined {
    const a = line.indexOf(" ");
    const b = line.indexOf(" ", a + 1);
    if (a < 0 || b < 0) return "malformed line";
    const seq = Number(line.slice(0, a));
    const text = line.slice(b + 1);
    if (!macEquals(mac(session.up, seq, text), line.slice(a + 1, b)) || !session.replay.accept(seq))
      return "unauthenticated line";
    let votes: unknown;
    try {
      votes = (JSON.parse(text) as { votes?: unknown }).votes;
    } catch {
      return "line is not JSON";
    }
    if (!Array.isArray(votes)) return "votes must be an array";
    this.opts.onVotes(session.address, votes as VoteMessage[]);
    return undefined;
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
