/**
 * ULIDs (26 characters of Crockford base32: 48 bits of milliseconds, 80 random bits), made
 * monotonic within one generator: two ids of the same millisecond (or of a clock that stepped
 * back) differ by one in their random part, so ids sort in creation order. That order is what
 * the store's cursors rely on.
 */

import { randomBytes } from "node:crypto";

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const TIME_MAX = 2 ** 48 - 1;
const RANDOM_MAX = (1n << 80n) - 1n;

export const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

function encode(value: bigint, length: number): string {
  let out = "";
  let v = value;
  for (let i = 0; i < length; i++) {
    out = ALPHABET[Number(v & 31n)]! + out;
    v >>= 5n;
  }
  return out;
}

/** A generator of strictly increasing ULIDs. */
export function ulidFactory(now: () => number = Date.now): () => string {
  let lastTime = -1;
  let lastRandom = 0n;
  return () => {
    let time = Math.floor(now());
    if (time < 0 || time > TIME_MAX) throw new RangeError(`time ${time} cannot be encoded in a ULID`);
    if (time <= lastTime) {
      time = lastTime;
      if (lastRandom === RANDOM_MAX) {
        // 2^80 ids in one millisecond will not happen; borrowing the next millisecond keeps order
        time += 1;
        lastRandom = BigInt(`0x${randomBytes(10).toString("hex")}`) >> 1n;
      } else lastRandom += 1n;
    } else {
      // the top bit stays clear so a long run in one millisecond cannot overflow
      lastRandom = BigInt(`0x${randomBytes(10).toString("hex")}`) >> 1n;
    }
    lastTime = time;
    return encode(BigInt(time), 10) + encode(lastRandom, 16);
  };
}

/** The millisecond a ULID was made at. */
export function ulidTime(id: string): number {
  let t = 0;
  for (const c of id.slice(0, 10)) t = t * 32 + ALPHABET.indexOf(c);
  return t;
}

/** The process-wide generator. */
export const ulid = ulidFactory();
