import { Wallet } from "ethers";
import { describe, expect, it } from "vitest";
import {
  AuthError,
  type AuthPolicy,
  authMessage,
  exchange,
  parseAuthMessage,
  signToken,
  verifyToken,
} from "../../../src/task-engine/auth.js";

const NOW = 1_800_000_000_000;
const key = Buffer.alloc(32, 7);
const policy: AuthPolicy = {
  chainId: 31337,
  key,
  maxMessageTtlMs: 86_400_000,
  tokenTtlMs: 3_600_000,
  skewMs: 60_000,
};
const wallet = Wallet.createRandom();

async function signed(over: Partial<{ chainId: number; issuedAt: number; expiredAt: number }> = {}) {
  const message = authMessage({
    chainId: 31337,
    wallet: wallet.address,
    issuedAt: NOW,
    expiredAt: NOW + 600_000,
    ...over,
  });
  return { ownerAddress: wallet.address, message, signature: await wallet.signMessage(message) };
}

async function refusal(body: Record<string, unknown>): Promise<string> {
  try {
    await exchange(body, policy, NOW);
  } catch (error) {
    if (error instanceof AuthError) return error.code;
    throw error;
  }
  return "accepted";
}

describe("sign-in message and token", () => {
  it("the message round-trips", () => {
    const fields = { chainId: 5, wallet: wallet.address, issuedAt: NOW, expiredAt: NOW + 1000 };
    expect(parseAuthMessage(authMessage(fields))).toEqual(fields);
    expect(() => parseAuthMessage("hello")).toThrow(AuthError);
  });

  it("a good signature gives a token that lives at most tokenTtlMs and never past the message", async () => {
    const t = await exchange(await signed({ expiredAt: NOW + 10 * 3_600_000 }), policy, NOW);
    expect(t.subject).toBe(wallet.address);
    expect(t.expiresAt).toBe(NOW + 3_600_000);
    expect(verifyToken(`Bearer ${t.token}`, key, NOW)).toBe(wallet.address);
    const short = await exchange(await signed({ expiredAt: NOW + 60_000 }), policy, NOW);
    expect(short.expiresAt).toBe(NOW + 60_000);
  });

  it("refuses an expired message, another signer, another chain, a future or too long message", async () => {
    expect(await refusal(await signed({ issuedAt: NOW - 2000, expiredAt: NOW - 1000 }))).toBe(
      "MESSAGE_EXPIRED",
    );
    expect(await refusal({ ...(await signed()), ownerAddress: Wallet.createRandom().address })).toBe(
      "SIGNER_MISMATCH",
    );
    const other = Wallet.createRandom();
    const body = await signed();
    expect(await refusal({ ...body, signature: await other.signMessage(body.message) })).toBe(
      "SIGNER_MISMATCH",
    );
    expect(await refusal(await signed({ chainId: 1 }))).toBe("WRONG_CHAIN");
    expect(await refusal(await signed({ issuedAt: NOW + 3_600_000, expiredAt: NOW + 7_200_000 }))).toBe(
      "INVALID_MESSAGE",
    );
    expect(await refusal(await signed({ expiredAt: NOW + 2 * 86_400_000 }))).toBe("INVALID_MESSAGE");
    expect(await refusal({ ...body, signature: "0x1234" })).toBe("INVALID_SIGNATURE");
    expect(await refusal({ message: body.message })).toBe("INVALID_REQUEST");
  });

  it("a token is refused when missing, forged, signed with another key or expired", () => {
    const token = signToken(wallet.address, NOW, NOW + 1000, key);
    const code = (header: string | undefined, at = NOW, k = key) => {
      try {
        verifyToken(header, k, at);
        return "ok";
      } catch (error) {
        return (error as AuthError).code;
      }
    };
    expect(code(`Bearer ${token}`)).toBe("ok");
    expect(code(undefined)).toBe("UNAUTHENTICATED");
    expect(code(token)).toBe("UNAUTHENTICATED");
    expect(code(`Bearer ${token}`, NOW, Buffer.alloc(32, 8))).toBe("UNAUTHENTICATED");
    const [h, , s] = token.split(".");
    const forged = Buffer.from(JSON.stringify({ sub: "0xevil", iat: 0, exp: 9e9 })).toString("base64url");
    expect(code(`Bearer ${h}.${forged}.${s}`)).toBe("UNAUTHENTICATED");
    expect(code(`Bearer ${token}`, NOW + 1000)).toBe("TOKEN_EXPIRED");
  });
});
