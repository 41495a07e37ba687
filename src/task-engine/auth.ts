/**
 * Who is calling. An owner signs (EIP-191, `personal_sign`) a short text naming the chain, its
 * address, when it was issued and when it expires; the engine checks it and answers a
 * short-lived token, an HS256 JWT signed with the store's own key, carried as
 * `Authorization: Bearer <token>` on every other request.
 */

import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const AUTH_TITLE = "avsctl task engine: sign in";

export interface AuthMessageFields {
  chainId: number;
  wallet: string;
  issuedAt: number;
  expiredAt: number;
}

/** The text an owner signs (the client builds it; the engine parses it back). */
export function authMessage(f: AuthMessageFields): string {
  return [
    AUTH_TITLE,
    `Chain ID: ${f.chainId}`,
    `Wallet: ${f.wallet}`,
    `Issued At: ${new Date(f.issuedAt).toISOString()}`,
    `Expire At: ${new Date(f.expiredAt).toISOString()}`,
  ].join("\n");
}

export class AuthError extends Error {
  readonly code: string;
  readonly status: number;
  constructor(code: string, message: string, status = 401) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

export function parseAuthMessage(text: string): AuthMessageFields {
  const lines = text.split(/\r?\n/);
  if (lines[0] !== AUTH_TITLE)
    throw new AuthError("INVALID_MESSAGE", `the message must start with "${AUTH_TITLE}"`, 400);
  const fields = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0) fields.set(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const time = (key: string): number => {
    const t = Date.parse(fields.get(key) ?? "");
    if (!Number.isFinite(t))
      throw new AuthError("INVALID_MESSAGE", `the message needs an "${key}" time`, 400);
    return t;
  };
  const chainId = Number(fields.get("Chain ID"));
  if (!Number.isSafeInteger(chainId))
    throw new AuthError("INVALID_MESSAGE", 'the message needs a "Chain ID"', 400);
  const wallet = fields.get("Wallet") ?? "";
  if (!/^0x[0-9a-fA-F]{40}$/.test(wallet))
    throw new AuthError("INVALID_MESSAGE", 'the message needs a "Wallet" address', 400);
  return { chainId, wallet, issuedAt: time("Issued At"), expiredAt: time("Expire At") };
}

export interface AuthPolicy {
  chainId: number;
  /** HMAC key of the tokens. */
  key: Buffer;
  /** Longest a signed message may be valid for. */
  maxMessageTtlMs: number;
  /** Longest a token lives (never past the message's own expiry). */
  tokenTtlMs: number;
  /** Clock skew allowed on "Issued At". */
  skewMs: number;
}

export interface Token {
  token: string;
  expiresAt: number;
  subject: string;
}

/** Checks a signed message and issues a token for its owner. */
export async function exchange(
  body: { ownerAddress?: unknown; message?: unknown; signature?: unknown },
  policy: AuthPolicy,
  now: number,
): Promise<Token> {
  const { ownerAddress, message, signature } = body;
  if (typeof ownerAddress !== "string" || typeof message !== "string" || typeof signature !== "string") {
    throw new AuthError("INVALID_REQUEST", "ownerAddress, message and signature are required strings", 400);
  }
  const fields = parseAuthMessage(message);
  const { getAddress, verifyMessage } = await import("ethers");
  let owner: string;
  let wallet: string;
  try {
    owner = getAddress(ownerAddress);
    wallet = getAddress(fields.wallet.toLowerCase());
  } catch {
    throw new AuthError("INVALID_REQUEST", "ownerAddress is not an address", 400);
  }
  if (wallet !== owner) throw new AuthError("SIGNER_MISMATCH", "the message names another wallet");
  if (fields.chainId !== policy.chainId) {
    throw new AuthError("WRONG_CHAIN", `the message is for chain ${fields.chainId}, not ${policy.chainId}`);
  }
  if (fields.expiredAt <= now) throw new AuthError("MESSAGE_EXPIRED", "the signed message has expired");
  if (fields.issuedAt > now + policy.skewMs)
    throw new AuthError("INVALID_MESSAGE", "the message is issued in the future");
  if (fields.expiredAt - fields.issuedAt > policy.maxMessageTtlMs) {
    throw new AuthError(
      "INVALID_MESSAGE",
      `a signed message may be valid for at most ${policy.maxMessageTtlMs} ms`,
      400,
    );
  }
  let signer: string;
  try {
    signer = verifyMessage(message, signature);
  } catch {
    throw new AuthError("INVALID_SIGNATURE", "the signature does not verify");
  }
  if (signer !== owner) throw new AuthError("SIGNER_MISMATCH", "the message was signed by another key");
  const expiresAt = Math.min(fields.expiredAt, now + policy.tokenTtlMs);
  return { token: signToken(owner, now, expiresAt, policy.key), expiresAt, subject: owner };
}

const HEADER = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));

function b64url(text: string | Buffer): string {
  return Buffer.from(text).toString("base64url");
}

function mac(data: string, key: Buffer): Buffer {
  return createHmac("sha256", key).update(data).digest();
}

export function signToken(owner: string, now: number, expiresAt: number, key: Buffer): string {
  const payload = b64url(
    JSON.stringify({ sub: owner, iat: Math.floor(now / 1000), exp: Math.floor(expiresAt / 1000) }),
  );
  const body = `${HEADER}.${payload}`;
  return `${body}.${mac(body, key).toString("base64url")}`;
}

/** The owner a token speaks for; throws AuthError (401) for a missing, forged or expired one. */
export function verifyToken(header: string | undefined, key: Buffer, now: number): string {
  const match = /^Bearer\s+([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\s*$/.exec(header ?? "");
  if (!match)
    throw new AuthError("UNAUTHENTICATED", "send Authorization: Bearer <token> (POST /auth:exchange)");
  const [head, payload, sig] = match[1]!.split(".") as [string, string, string];
  const expected = mac(`${head}.${payload}`, key);
  const given = Buffer.from(sig, "base64url");
  if (head !== HEADER || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new AuthError("UNAUTHENTICATED", "the token is not valid");
  }
  let claims: { sub?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw new AuthError("UNAUTHENTICATED", "the token is not valid");
  }
  if (typeof claims.sub !== "string" || typeof claims.exp !== "number") {
    throw new AuthError("UNAUTHENTICATED", "the token is not valid");
  }
  if (claims.exp * 1000 <= now) throw new AuthError("TOKEN_EXPIRED", "the token has expired; sign in again");
  return claims.sub;
}

/**
 * The devnet's operators call the operator routes with the engine's operator secret
 * (`Authorization: Operator <secret>`); without a secret configured those routes refuse everyone.
 */
export function verifyOperator(header: string | undefined, secret: string | undefined): void {
  const match = /^Operator\s+(\S+)\s*$/.exec(header ?? "");
  if (!match) throw new AuthError("UNAUTHENTICATED", "send Authorization: Operator <operator secret>");
  const digest = (text: string) => createHash("sha256").update(text).digest();
  if (!secret || !timingSafeEqual(digest(match[1]!), digest(secret))) {
    throw new AuthError("FORBIDDEN", "not the engine's operator secret", 403);
  }
}
