/**
 * The attester's end of the channel to the aggregator (see ../transport.ts): hello, the
 * authenticated stream, reconnection with backoff, and posting votes.
 */

import http from "node:http";
import { keccak256 } from "ethers/crypto";
import { toUtf8Bytes } from "ethers/utils";
import { httpPost } from "../../util/http-post.js";
import { sleep } from "../../util/sleep.js";
import type { Logger } from "../log.js";
import type { Signer } from "../signer.js";
import type { DownMessage, Hello, VoteMessage, Welcome } from "./protocol.js";
import * as wire from "./protocol.js";

const STREAM_IDLE_TIMEOUT_MS = 20_000;
/**
 * A vote stream is ended and another opened after this long: the aggregator's HTTP server
 * ends any request still sending its body after its request timeout (60 s).
 */
const VOTE_STREAM_LIFETIME_MS = 30_000;
/**
 * While the aggregator refuses us because another node is connected with our operator key, we
 * ask again after this long, doubling up to CONFLICT_BACKOFF_MAX_MS: we take over soon after the
 * other node leaves without costing it more than a probe now and then.
 */
const CONFLICT_BACKOFF_MS = 2_000;
const CONFLICT_BACKOFF_MAX_MS = 30_000;

/** The aggregator's refusal of a hello while another node holds our operator's connection. */
class OperatorConnectedError extends Error {}

export interface AggregatorLinkOptions {
  url: string;
  wallet: Signer;
  log: Logger;
  signal: AbortSignal;
  /** Whether the welcome's signer may act as our aggregator. */
  isAggregator(address: string): Promise<boolean>;
  onMessage(message: DownMessage): void;
  onConnected?(aggregator: string): void;
}

/** The long-lived POST /p2p/votes/stream of one session, once the aggregator accepted it. */
interface VoteStream {
  session: ClientSession;
  req: http.ClientRequest;
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
  private voteStream: VoteStream | undefined;
  private voteStreamOpening: Promise<VoteStream | undefined> | undefined;
  /** Every vote stream request not closed yet (destroyed on close). */
  private readonly voteRequests = new Set<http.ClientRequest>();
  /** A session whose aggregator refused the vote stream (an older one): its votes go by POST. */
  private noVoteStream: ClientSession | undefined;
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
    // Said once when the aggregator goes away, not at every attempt while it stays away
    // ("connected to the aggregator" says it is back).
    let away = false;
    // Likewise said once while another node holds our operator's connection.
    let conflictBackoff = 0;
    while (!signal.aborted) {
      const started = Date.now();
      let refused = false;
      try {
        this.session = await this.hello();
        backoff = 100;
        conflictBackoff = 0;
        this.lastError = undefined;
        away = false;
        await this.stream(this.session);
        if (!signal.aborted) log.warn("aggregator stream ended; saying hello again");
        away = true;
      } catch (error) {
        this.lastError = (error as Error).message;
        refused = error instanceof OperatorConnectedError;
        if (refused && conflictBackoff === 0)
          log.error(
            "another node is connected to the aggregator with this operator key; this one stays out until that one leaves",
            { operator: this.opts.wallet.address, error: this.lastError },
          );
        else if (!refused && !signal.aborted && !away)
          log.warn("cannot reach the aggregator; retrying", { error: this.lastError });
        away = true;
      }
      this.session = undefined;
      this.streamReq = undefined;
      this.endVoteStream();
      if (signal.aborted) break;
      if (refused) {
        conflictBackoff = Math.min(conflictBackoff * 2 || CONFLICT_BACKOFF_MS, CONFLICT_BACKOFF_MAX_MS);
        await sleep(conflictBackoff, signal);
        continue;
      }
      // A stream that lived a while restarts from the shortest backoff.
      if (Date.now() - started > 10_000) backoff = 100;
      await sleep(backoff, signal);
      backoff = Math.min(backoff * 2, 2_000);
    }
  }

  private async hello(): Promise<ClientSession> {
    const eph = wire.newEphemeral();
    const hello: Hello = {
      v: wire.PROTOCOL_VERSION,
      role: "attester",
      address: this.opts.wallet.address,
      ephemeralKey: eph.publicRaw,
      nonce: wire.randomHex(16),
      timestamp: Date.now(),
    };
    const signed = wire.signEnvelope(this.opts.wallet, hello);
    const res = await httpPost(`${this.opts.url}/p2p/hello`, JSON.stringify(signed), {
      timeoutMs: 10_000,
      signal: this.opts.signal,
    });
    if (res.status === 409) {
      let why: { error?: unknown; reason?: unknown } = {};
      try {
        why = JSON.parse(res.text);
      } catch {}
      if (why.reason === "OPERATOR_CONNECTED" && typeof why.error === "string")
        throw new OperatorConnectedError(`hello refused: ${why.error}`);
    }
    if (!res.ok) throw new Error(`hello refused: HTTP ${res.status} ${res.text.slice(0, 200)}`);
    const env = wire.openEnvelope(JSON.parse(res.text));
    const welcome = env?.value as Partial<Welcome> | undefined;
    if (
      !env ||
      !welcome ||
      welcome.v !== wire.PROTOCOL_VERSION ||
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
    const keys = wire.deriveKeys(
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
      "x-avsctl-mac": wire.mac(session.up, seq, text),
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
          if (buffer.length > wire.VOTES_BODY_LIMIT) req.destroy(new Error("line too long"));
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
    if (seq <= session.downSeq || !wire.macEquals(wire.mac(session.down, seq, text), tag)) {
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
    if (message?.type === "probe") this.pong(session);
    else this.opts.onMessage(message);
  }

  /** Answers a probe: the aggregator asks whether we still hold our operator's connection. */
  private pong(session: ClientSession): void {
    const text = "pong";
    const req = http.request(
      `${this.opts.url}/p2p/pong`,
      {
        method: "POST",
        agent: this.agent,
        headers: { "content-length": Buffer.byteLength(text), ...this.authHeaders(session, text) },
        timeout: 10_000,
      },
      (res) => res.resume(),
    );
    req.on("timeout", () => req.destroy(new Error("timeout")));
    req.on("error", () => undefined);
    req.end(text);
  }

  /**
   * Sends votes on the session's vote stream (one line `<seq> <mac> <json>` per call, like the
   * down stream, instead of an HTTP request and its answer each), opening the stream first
   * when needed; by POST when the aggregator has no vote stream or the write failed (a vote
   * sent twice counts once). False when not connected or refused.
   */
  async sendVotes(votes: VoteMessage[]): Promise<boolean> {
    const session = this.session;
    if (!session) return false;
    const vs = this.noVoteStream === session ? undefined : await this.openVoteStream(session);
    if (!vs || vs.session !== this.session) return this.postVotes(votes);
    const text = JSON.stringify({ votes });
    const seq = ++session.upSeq;
    const written = await new Promise<boolean>((resolve) => {
      vs.req.write(`${seq} ${wire.mac(session.up, seq, text)} ${text}\n`, (error) => resolve(!error));
    });
    return written || this.postVotes(votes);
  }

  private openVoteStream(session: ClientSession): Promise<VoteStream | undefined> {
    if (this.voteStream?.session === session) return Promise.resolve(this.voteStream);
    this.voteStreamOpening ??= new Promise<VoteStream | undefined>((resolve) => {
      const req = http.request(`${this.opts.url}/p2p/votes/stream`, {
        method: "POST",
        agent: false,
        headers: { "content-type": "application/x-ndjson", ...this.authHeaders(session, "votes-stream") },
      });
      const vs: VoteStream = { session, req };
      this.voteRequests.add(req);
      const retire = setTimeout(() => this.endVoteStream(vs), VOTE_STREAM_LIFETIME_MS);
      retire.unref();
      req.on("socket", (socket) => socket.setNoDelay(true));
      req.on("response", (res) => {
        res.resume();
        if (res.statusCode !== 200 || session !== this.session) {
          if (res.statusCode !== 200) this.noVoteStream = session;
          req.destroy();
          resolve(undefined);
          return;
        }
        this.voteStream = vs;
        resolve(vs);
      });
      req.on("error", () => resolve(undefined));
      req.on("close", () => {
        clearTimeout(retire);
        this.voteRequests.delete(req);
        if (this.voteStream === vs) this.voteStream = undefined;
        resolve(undefined);
      });
      req.flushHeaders();
    }).finally(() => {
      this.voteStreamOpening = undefined;
    });
    return this.voteStreamOpening;
  }

  /** Ends the vote stream (`vs`, or whichever is open); votes in it were written before. */
  private endVoteStream(vs = this.voteStream): void {
    if (!vs) return;
    if (this.voteStream === vs) this.voteStream = undefined;
    vs.req.end();
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
    for (const req of this.voteRequests) req.destroy();
    await this.done;
    this.agent.destroy();
  }
}
