/**
 * The topics of a stored workflow's event trigger query, as the watcher filters logs with them.
 * Both validation (which refuses what this cannot read) and the stored-task watcher (which then
 * never widens an unreadable topic to "any") read them here, so the two cannot disagree.
 */

import { keccak_256 } from "@noble/hashes/sha3.js";

/** One position of the filter: a topic, any of several, or null for any. */
export type TopicPosition = string | string[] | null;

export interface EventTopics {
  /** Lowercase 32-byte hex per position, trailing "any" positions dropped. */
  topics: TopicPosition[];
  problems: Array<{ path: string; message: string }>;
}

const HEX32 = /^0x[0-9a-fA-F]{64}$/;
const SHORT_HEX = /^0x[0-9a-fA-F]{1,63}$/;
const EVENT_SIGNATURE = /^[A-Za-z_$][A-Za-z0-9_$]*\(.*\)$/;

/** The topic0 of an event signature such as "Transfer(address,address,uint256)". */
export function signatureTopic(signature: string): string {
  const digest = keccak_256(new TextEncoder().encode(signature.replace(/\s+/g, "")));
  return `0x${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

/**
 * A query's topics: Ava's `[{values: [topic0, topic1, ...]}]` or eth_getLogs' positional
 * `[topic0, [a, b], null]`. A position is 32-byte hex; topic0 may be an event signature (its
 * keccak hash); a later position may be shorter hex, an indexed value left-padded to 32 bytes
 * as the chain stores it (a uint, an address). null or "" is any; anything else is a problem
 * at its `path`, never "any".
 */
export function eventTopics(raw: unknown, path: string): EventTopics {
  const problems: EventTopics["problems"] = [];
  if (raw === undefined || raw === null) return { topics: [], problems };
  if (!Array.isArray(raw)) {
    problems.push({ path, message: "topics must be an array (null for any)" });
    return { topics: [], problems };
  }
  const first = raw[0] as { values?: unknown } | undefined;
  const ava =
    raw.length === 1 &&
    typeof first === "object" &&
    first !== null &&
    !Array.isArray(first) &&
    Array.isArray(first.values);
  const positions = ava ? (first.values as unknown[]) : raw;
  const base = ava ? `${path}[0].values` : path;
  if (positions.length > 4) {
    problems.push({ path: base, message: `a log has at most 4 topics; got ${positions.length} positions` });
    return { topics: [], problems };
  }
  const one = (v: unknown, at: string, position: number): string | undefined => {
    if (typeof v === "string") {
      const text = v.trim();
      if (HEX32.test(text)) return text.toLowerCase();
      if (position === 0 && EVENT_SIGNATURE.test(text)) return signatureTopic(text);
      if (position > 0 && SHORT_HEX.test(text)) return `0x${text.slice(2).toLowerCase().padStart(64, "0")}`;
    }
    problems.push({
      path: at,
      message:
        position === 0
          ? `topic0 must be a 32-byte 0x-hex topic or an event signature like "Transfer(address,address,uint256)" (null for any), got ${JSON.stringify(v)}`
          : `an indexed topic must be 0x-hex of at most 32 bytes (null for any), got ${JSON.stringify(v)}`,
    });
    return undefined;
  };
  const topics = positions.map((v, i): TopicPosition => {
    const at = `${base}[${i}]`;
    if (v === null || v === "") return null;
    if (!Array.isArray(v)) return one(v, at, i) ?? null;
    if (v.length === 0) {
      problems.push({ path: at, message: "a list of topics needs at least one (null matches any)" });
      return null;
    }
    const values = v.map((x, j) => one(x, `${at}[${j}]`, i) ?? "");
    return values.length === 1 ? values[0]! : values;
  });
  while (topics.length > 0 && topics[topics.length - 1] === null) topics.pop();
  return { topics, problems };
}
