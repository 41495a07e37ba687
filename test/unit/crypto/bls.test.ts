import { randomBytes } from "node:crypto";
import { expand_message_xmd } from "@noble/curves/abstract/hash-to-curve.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { AbiCoder, keccak256 } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import {
  aggregatePublicKeys,
  aggregateSignatures,
  blsPublicKey,
  blsPublicKeyG1,
  blsSecretFromSeed,
  blsSecretToHex,
  blsSign,
  blsSignatureToJson,
  blsVerify,
  blsVerifyAggregate,
  DOMAIN_AUTH,
  DOMAIN_TASKS,
  expandMsgTo96,
  FIELD_MODULUS,
  G1_GENERATOR,
  G1_ZERO,
  type G2,
  G2_GENERATOR,
  G2_ZERO,
  GROUP_ORDER,
  g1Add,
  g1Mul,
  g1Neg,
  g2Add,
  g2FromHex,
  g2Mul,
  g2Neg,
  g2ToHex,
  hashToPoint,
  initBls,
  isValidG1,
  isValidG2,
  mapToPoint,
  parseBlsSecret,
  parseBlsSignatureJson,
  randomBlsSecret,
  registrationMessage,
  signRegistration,
  signTaskBls,
  signVote,
  verifyRegistration,
  verifyTaskBls,
  verifyVote,
} from "../../../src/crypto/bls.js";
import {
  fpPow,
  fpPowBigint,
  g1AddAffine,
  isOnCurveG1,
  isOnTwistG2,
} from "../../../src/crypto/bn254-field.js";
import { mcl } from "../../../src/crypto/mcl.js";

const P = FIELD_MODULUS;
const randomField = (): bigint => BigInt(`0x${randomBytes(32).toString("hex")}`) % P;
const randomHash = (): `0x${string}` => `0x${randomBytes(32).toString("hex")}`;

function errorCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

beforeAll(async () => {
  // Concurrent calls share one load.
  await Promise.all([initBls(), initBls()]);
});

describe("key derivation", () => {
  it("matches mcl Fr.setHashOf on random seeds", () => {
    const m = mcl();
    for (let i = 0; i < 64; i++) {
      const seed = `0x${randomBytes(32).toString("hex")}`;
      const fr = new m.Fr();
      fr.setHashOf(seed);
      expect(blsSecretFromSeed(seed)).toBe(BigInt(`0x${fr.getStr(16)}`));
    }
  });

  it("rejects a seed that is not hex", () => {
    expect(errorCode(() => blsSecretFromSeed("0xnothex"))).toBe("INVALID_KEY");
    expect(errorCode(() => blsSecretFromSeed(""))).toBe("INVALID_KEY");
  });

  it("makes random secrets in [1, r) and round-trips them through hex", () => {
    const a = randomBlsSecret();
    const b = randomBlsSecret();
    expect(a).not.toBe(b);
    for (const sk of [a, b]) {
      expect(sk > 0n && sk < GROUP_ORDER).toBe(true);
      expect(blsSecretToHex(sk)).toMatch(/^0x[0-9a-f]{64}$/);
      expect(parseBlsSecret(blsSecretToHex(sk))).toBe(sk);
    }
    expect(errorCode(() => parseBlsSecret("0x00"))).toBe("INVALID_KEY");
    expect(errorCode(() => parseBlsSecret(`0x${GROUP_ORDER.toString(16)}`))).toBe("INVALID_KEY");
    expect(errorCode(() => blsPublicKey(0n))).toBe("INVALID_KEY");
  });

  it("gives matching G1 and G2 public keys: e(pkG1, g2) == e(g1, pkG2)", () => {
    const m = mcl();
    const sk = randomBlsSecret();
    const toG1 = (p: readonly bigint[]) => {
      const g = new m.G1();
      g.setStr(`1 ${p.map((c) => c.toString(16)).join(" ")}`, 16);
      return g;
    };
    const toG2 = (p: readonly bigint[]) => {
      const g = new m.G2();
      g.setStr(`1 ${p.map((c) => c.toString(16)).join(" ")}`, 16);
      return g;
    };
    const left = m.pairing(toG1(blsPublicKeyG1(sk)), toG2(G2_GENERATOR));
    const right = m.pairing(toG1(G1_GENERATOR), toG2(blsPublicKey(sk)));
    expect(left.isEqual(right)).toBe(true);
    const other = m.pairing(toG1(G1_GENERATOR), toG2(g2Mul(G2_GENERATOR, sk + 1n)));
    expect(left.isEqual(other)).toBe(false);
  });
});

describe("hash to point", () => {
  it("expandMsgTo96 is RFC 9380 expand_message_xmd with the domain as DST", () => {
    for (const msg of [new Uint8Array(0), randomBytes(32), randomBytes(100)]) {
      const domain = randomBytes(32);
      expect(expandMsgTo96(domain, msg)).toEqual(expand_message_xmd(msg, domain, 96, sha256));
    }
  });

  it("rejects a domain that is not 32 bytes", () => {
    expect(errorCode(() => expandMsgTo96("0x1234", "0x"))).toBe("INVALID_ARGUMENT");
    expect(errorCode(() => hashToPoint(DOMAIN_TASKS, "0x123"))).toBe("INVALID_ARGUMENT");
  });

  it("mapToPoint lands on the curve, for random and edge inputs", () => {
    for (const e of [0n, 1n, P - 1n, ...Array.from({ length: 100 }, randomField)]) {
      const [x, y] = mapToPoint(e);
      expect(isOnCurveG1(x, y)).toBe(true);
    }
    expect(errorCode(() => mapToPoint(P))).toBe("INVALID_ARGUMENT");
  });

  it("the mcl power backend equals square-and-multiply", () => {
    const exp = (P + 1n) / 4n;
    for (let i = 0; i < 20; i++) {
      const x = randomField();
      expect(fpPow(x, exp)).toBe(fpPowBigint(x, exp));
    }
  });

  it("the bigint affine addition agrees with mcl", () => {
    const a = mapToPoint(randomField());
    const b = mapToPoint(randomField());
    expect(g1AddAffine(a, b)).toEqual(g1Add(a, b));
    expect(g1AddAffine(a, a)).toEqual(g1Add(a, a));
    expect(g1AddAffine(a, g1Neg(a))).toEqual(G1_ZERO);
  });

  it("depends on the domain and the message", () => {
    const h = randomHash();
    expect(hashToPoint(DOMAIN_TASKS, h)).not.toEqual(hashToPoint(DOMAIN_AUTH, h));
    expect(hashToPoint(DOMAIN_TASKS, h)).not.toEqual(hashToPoint(DOMAIN_TASKS, randomHash()));
  });
});

describe("sign and verify", () => {
  const sks = [0, 1, 2, 3].map(() => randomBlsSecret());
  let pks: G2[];
  beforeAll(() => {
    pks = sks.map(blsPublicKey);
  });

  it("verifies a signature and rejects the wrong key, message or domain", () => {
    const msg = randomHash();
    const sig = blsSign(sks[0]!, DOMAIN_TASKS, msg);
    expect(blsVerify(sig, pks[0]!, DOMAIN_TASKS, msg)).toBe(true);
    expect(blsVerify(sig, pks[1]!, DOMAIN_TASKS, msg)).toBe(false);
    expect(blsVerify(sig, pks[0]!, DOMAIN_TASKS, randomHash())).toBe(false);
    expect(blsVerify(sig, pks[0]!, DOMAIN_AUTH, msg)).toBe(false);
    expect(blsVerify(g1Neg(sig), pks[0]!, DOMAIN_TASKS, msg)).toBe(false);
  });

  it("task and vote helpers sign the 32-byte hash under the TasksManager domain", () => {
    const h = randomHash();
    expect(signTaskBls(sks[0]!, h)).toEqual(blsSign(sks[0]!, DOMAIN_TASKS, h));
    expect(signVote(sks[1]!, h)).toEqual(blsSign(sks[1]!, DOMAIN_TASKS, h));
    expect(verifyTaskBls(signTaskBls(sks[0]!, h), pks[0]!, h)).toBe(true);
    expect(verifyVote(signVote(sks[1]!, h), pks[1]!, h)).toBe(true);
    expect(verifyVote(signVote(sks[1]!, h), pks[0]!, h)).toBe(false);
    expect(errorCode(() => signVote(sks[0]!, "0x1234"))).toBe("INVALID_ARGUMENT");
  });

  it("aggregates signatures of one message and verifies them against the summed keys", () => {
    const msg = randomHash();
    const sigs = sks.map((sk) => signVote(sk, msg));
    const agg = aggregateSignatures(sigs);
    expect(blsVerifyAggregate(agg, pks, DOMAIN_TASKS, msg)).toBe(true);
    expect(blsVerify(agg, aggregatePublicKeys(pks), DOMAIN_TASKS, msg)).toBe(true);
    // A missing signer, an extra key, or another message all fail.
    expect(blsVerifyAggregate(aggregateSignatures(sigs.slice(1)), pks, DOMAIN_TASKS, msg)).toBe(false);
    expect(blsVerifyAggregate(agg, pks.slice(1), DOMAIN_TASKS, msg)).toBe(false);
    expect(blsVerifyAggregate(agg, pks, DOMAIN_TASKS, randomHash())).toBe(false);
    expect(blsVerifyAggregate(agg, [], DOMAIN_TASKS, msg)).toBe(false);
    expect(errorCode(() => aggregateSignatures([]))).toBe("INVALID_ARGUMENT");
    expect(errorCode(() => aggregatePublicKeys([]))).toBe("INVALID_ARGUMENT");
  });

  it("treats malformed or trivial points as a failed verification", () => {
    const msg = randomHash();
    const sig = blsSign(sks[0]!, DOMAIN_TASKS, msg);
    expect(blsVerify(G1_ZERO, G2_ZERO, DOMAIN_TASKS, msg)).toBe(false);
    expect(blsVerify([sig[0], sig[1] + 1n], pks[0]!, DOMAIN_TASKS, msg)).toBe(false);
    expect(blsVerify([sig[0], sig[1] + P], pks[0]!, DOMAIN_TASKS, msg)).toBe(false);
    const pk = pks[0]!;
    expect(blsVerify(sig, [pk[0], pk[1], pk[2], pk[3] + 1n], DOMAIN_TASKS, msg)).toBe(false);
  });

  it("rejects a twist point outside the order-r subgroup", () => {
    const m = mcl();
    // Random twist points almost never lie in the subgroup (the G2 cofactor is ~2^254).
    let point: G2 | undefined;
    for (let i = 0; i < 64 && !point; i++) {
      const x = new m.Fp2();
      const [a, b] = [randomField(), randomField()];
      x.setStr(`${a.toString(16)} ${b.toString(16)}`, 16);
      const bTwist = new m.Fp2();
      bTwist.setStr(
        "2b149d40ceb8aaae81be18991be06ac3b5b4c5e559dbefa33267e6dc24a138e5 9713b03af0fed4cd2cafadeed8fdf4a74fa084e52d1852e4a2bd0685c315d2",
        16,
      );
      const [ok, y] = m.squareRoot(m.add(m.mul(m.mul(x, x), x), bTwist));
      if (!ok) continue;
      const [y0, y1] = y.getStr(16).split(" ");
      point = [a, b, BigInt(`0x${y0}`), BigInt(`0x${y1}`)];
    }
    expect(point).toBeDefined();
    expect(isOnTwistG2(point!)).toBe(true);
    expect(isValidG2(point!)).toBe(false);
    expect(g2FromHex(g2ToHex(point!))).toEqual(point);
    const msg = randomHash();
    expect(blsVerify(blsSign(sks[0]!, DOMAIN_TASKS, msg), point!, DOMAIN_TASKS, msg)).toBe(false);
  });
});

describe("point arithmetic", () => {
  it("G1 and G2 add, negate and multiply consistently", () => {
    const [a, b] = [randomBlsSecret(), randomBlsSecret()];
    expect(g1Add(blsPublicKeyG1(a), blsPublicKeyG1(b))).toEqual(g1Mul(G1_GENERATOR, a + b));
    expect(g2Add(blsPublicKey(a), blsPublicKey(b))).toEqual(g2Mul(G2_GENERATOR, a + b));
    expect(g1Add(blsPublicKeyG1(a), g1Neg(blsPublicKeyG1(a)))).toEqual(G1_ZERO);
    expect(g2Add(blsPublicKey(a), g2Neg(blsPublicKey(a)))).toEqual(G2_ZERO);
    expect(g1Neg(G1_GENERATOR)).toEqual([1n, P - 2n]);
    expect(g1Mul(G1_GENERATOR, GROUP_ORDER)).toEqual(G1_ZERO);
    expect(aggregatePublicKeys([blsPublicKey(a), blsPublicKey(b)])).toEqual(g2Mul(G2_GENERATOR, a + b));
    expect(isValidG1(G1_GENERATOR)).toBe(true);
    expect(isValidG1([1n, 3n])).toBe(false);
    expect(isValidG2(G2_GENERATOR)).toBe(true);
  });
});

describe("registration proof", () => {
  const operator = "0x1111111111111111111111111111111111111111";
  const contract = "0x2222222222222222222222222222222222222222";

  it("hashes abi.encode(address, address, uint256)", () => {
    const expected = keccak256(
      AbiCoder.defaultAbiCoder().encode(["address", "address", "uint256"], [operator, contract, 31337n]),
    );
    expect(registrationMessage(operator, contract, 31337)).toBe(expected);
    expect(errorCode(() => registrationMessage("0x1234", contract, 1))).toBe("INVALID_ADDRESS");
  });

  it("signs under the OthenticBLSAuth domain, bound to operator, contract and chain", () => {
    const sk = randomBlsSecret();
    const pk = blsPublicKey(sk);
    const sig = signRegistration(sk, operator, contract, 31337n);
    expect(sig).toEqual(blsSign(sk, DOMAIN_AUTH, registrationMessage(operator, contract, 31337n)));
    expect(verifyRegistration(sig, pk, operator, contract, 31337n)).toBe(true);
    expect(verifyRegistration(sig, pk, operator, contract, 1n)).toBe(false);
    expect(verifyRegistration(sig, pk, contract, operator, 31337n)).toBe(false);
  });
});

describe("wire encodings", () => {
  it("round-trips a signature through the sendTask JSON text", () => {
    const sig = signVote(randomBlsSecret(), randomHash());
    const text = blsSignatureToJson(sig);
    expect(text).toMatch(/^\{"x":"0x[0-9a-f]{64}","y":"0x[0-9a-f]{64}"\}$/);
    expect(parseBlsSignatureJson(text)).toEqual(sig);
    // Decimal strings and unpadded hex are accepted too.
    expect(
      parseBlsSignatureJson(JSON.stringify({ x: sig[0].toString(), y: `0x${sig[1].toString(16)}` })),
    ).toEqual(sig);
  });

  it("rejects malformed signature JSON", () => {
    for (const bad of [
      "",
      "nope",
      "[]",
      '{"x":"0x1"}',
      '{"x":"0x1","y":"0x3"}',
      '{"x":"0x0","y":"0x0"}',
      '{"x":1,"y":2}',
    ]) {
      expect(errorCode(() => parseBlsSignatureJson(bad))).toBe("INVALID_ARGUMENT");
    }
  });

  it("round-trips a G2 key through hex and rejects off-twist keys", () => {
    const pk = blsPublicKey(randomBlsSecret());
    const hex = g2ToHex(pk);
    expect(hex).toMatch(/^0x[0-9a-f]{256}$/);
    expect(hex.slice(2, 66)).toBe(pk[0].toString(16).padStart(64, "0"));
    expect(g2FromHex(hex)).toEqual(pk);
    expect(g2FromHex(pk.map((c) => `0x${c.toString(16)}`))).toEqual(pk);
    // Flipping the lowest bit of y.c1 leaves the twist.
    const flipped = `${hex.slice(0, -1)}${(Number.parseInt(hex.slice(-1), 16) ^ 1).toString(16)}`;
    expect(errorCode(() => g2FromHex(flipped))).toBe("INVALID_ARGUMENT");
    expect(errorCode(() => g2FromHex("0x1234"))).toBe("INVALID_ARGUMENT");
    expect(errorCode(() => g2FromHex(`0x${"0".repeat(256)}`))).toBe("INVALID_ARGUMENT");
  });
});
