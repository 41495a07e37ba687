/**
 * The wire protocol between the aggregator and its attesters (see ../transport.ts): message
 * shapes, signed hello / welcome envelopes, the X25519 + HKDF session keys, per-message HMACs
 * and the replay window.
 */

import crypto from "node:crypto";
import { verifyMessage } from "ethers/hash";
import { wordsHex } from "../../crypto/bytes.js";
import type { Signer } from "../signer.js";

export const PROTOCOL_VERSION = 1;
const REPLAY_WINDOW = 4096;
export const HELLO_BODY_LIMIT = 8 * 1024;
export const VOTES_BODY_LIMIT = 4 * 1024 * 1024;

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
export interface Signed {
  payload: string;
  signature: string;
}

/** Messages on the aggregator -> attester stream. */
export type DownMessage =
  | { type: "tasks"; tasks: TaskMessage[] }
  | { type: "custom"; data: string }
  | { type: "ping"; time: number }
  /** Answered by POST /p2p/pong: the aggregator checks the connection of an operator is alive. */
  | { type: "probe" };

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
  /**
   * A hint for the approving vote: hashToPointWitness(TasksManager, its vote hash), 32-byte
   * words in one 0x-hex string (voteWitnessHex). The attester checks it with mulmods
   * (pointFromWitness) instead of hashing its vote to the curve; without it, or when it does
   * not pass, the attester hashes itself. It never decides what is signed: the vote hash does.
   */
  voteWitness?: string;
}

/** The most words a hashToPointWitness has: the inverse, then per map y, its root and 2 rejected roots. */
const MAX_WITNESS_WORDS = 9;

/** A witness as TaskMessage.voteWitness carries it. */
export function voteWitnessHex(words: readonly bigint[]): string {
  return `0x${wordsHex(words)}`;
}

/** The words of a TaskMessage.voteWitness; undefined when it is absent or malformed. */
export function parseVoteWitness(text: unknown): bigint[] | undefined {
  if (typeof text !== "string" || text.length > 2 + 64 * MAX_WITNESS_WORDS) return undefined;
  if (!/^0x(?:[0-9a-fA-F]{64})+$/.test(text)) return undefined;
  const words: bigint[] = [];
  for (let i = 2; i < text.length; i += 64) words.push(BigInt(`0x${text.slice(i, i + 64)}`));
  return words;
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

export function randomHex(bytes: number): string {
  return crypto.randomBytes(bytes).toString("hex");
}

export function newEphemeral(): { privateKey: crypto.KeyObject; publicRaw: string } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync("x25519");
  return { privateKey, publicRaw: (publicKey.export({ format: "jwk" }) as { x: string }).x };
}

export function deriveKeys(
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

export function mac(key: Buffer, seq: number, text: string): string {
  return crypto.createHmac("sha256", key).update(`${seq} `).update(text).digest("hex");
}

export function macEquals(a: string, b: string): boolean {
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

export function signEnvelope(wallet: Signer, payload: object): Signed {
  const text = JSON.stringify(payload);
  return { payload: text, signature: wallet.signMessageSync(text) };
}

/** The signer of an envelope, or undefined when the envelope is malformed. */
export function openEnvelope(
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
