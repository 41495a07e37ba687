import { keccak_256 } from "@noble/hashes/sha3.js";
import { AvsctlError, invalidArgument } from "../errors.js";

export const UINT256_MAX = (1n << 256n) - 1n;
/** Task definition ids from here on are reserved for internal tasks (docs/protocol.md#contracts). */
export const FIRST_INTERNAL_TASK_DEFINITION_ID = 10001;

const UNITS: Record<string, number> = { wei: 0, gwei: 9, eth: 18, ether: 18 };

/**
 * Parses an amount given as wei (`1000`), or with a unit (`0.1eth`, `5 gwei`), into wei.
 * Fails naming `name` on anything else, including fractions of a wei.
 */
export function parseAmount(value: string, name: string): bigint {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m) throw invalidArgument(name, `"${value}" is not an amount (use wei, or e.g. 0.1eth, 5gwei)`);
  const unit = (m[2] || "wei").toLowerCase();
  const decimals = UNITS[unit];
  if (decimals === undefined) throw invalidArgument(name, `unknown unit "${m[2]}" (use wei, gwei or eth)`);
  const [whole, fraction = ""] = m[1]!.split(".");
  if (fraction.length > decimals) throw invalidArgument(name, `"${value}" is finer than 1 wei`);
  const wei = BigInt(whole!) * 10n ** BigInt(decimals) + BigInt(fraction.padEnd(decimals, "0") || "0");
  if (wei > UINT256_MAX) throw invalidArgument(name, "does not fit in uint256");
  return wei;
}

/** A non-negative integer that fits in `bits` bits (decimal or 0x-hex). */
export function parseUint(value: string | number, name: string, bits = 256): bigint {
  const text = String(value).trim();
  if (!/^(0x[0-9a-f]+|\d+)$/i.test(text))
    throw invalidArgument(name, `"${value}" is not a non-negative integer`);
  const n = BigInt(text);
  if (n >= 1n << BigInt(bits)) throw invalidArgument(name, `${text} does not fit in uint${bits}`);
  return n;
}

/** A task definition id a user may address: uint16, and not one of the internal ones. */
export function parseTaskDefinitionId(value: string | number, name = "task definition id"): number {
  const id = Number(parseUint(value, name, 16));
  if (id === 0) throw invalidArgument(name, "task definition ids start at 1");
  if (id >= FIRST_INTERNAL_TASK_DEFINITION_ID) {
    throw invalidArgument(
      name,
      `${id} is reserved for internal tasks (ids >= ${FIRST_INTERNAL_TASK_DEFINITION_ID})`,
    );
  }
  return id;
}

export interface IdList {
  ids: bigint[];
  /** True when the input was not already strictly ascending and was sorted for the user. */
  sorted: boolean;
}

/**
 * Operator ids for restricted sets: positive, unique; sorted ascending as the contract
 * requires (`sorted` tells the caller to say so).
 */
export function parseOperatorIds(values: string | readonly (string | number)[], name: string): IdList {
  const parts = (typeof values === "string" ? values.split(",") : values.flatMap((v) => String(v).split(",")))
    .map((s) => String(s).trim())
    .filter((s) => s !== "");
  const ids = parts.map((p) => parseUint(p, name));
  if (ids.some((id) => id === 0n)) throw invalidArgument(name, "operator ids start at 1");
  const seen = new Set<bigint>();
  for (const id of ids) {
    if (seen.has(id)) throw invalidArgument(name, `operator id ${id} is listed twice`);
    seen.add(id);
  }
  const ascending = [...ids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return { ids: ascending, sorted: ascending.some((id, i) => id !== ids[i]) };
}

/** `never` (the default) is uint256 max; anything else is a block number. */
export function parseBlockExpiry(value: string | undefined, name = "--block-expiry"): bigint {
  if (value === undefined || value.trim().toLowerCase() === "never") return UINT256_MAX;
  return parseUint(value, name);
}

export function parseAddress(value: string, name: string): `0x${string}` {
  if (!/^0x[0-9a-fA-F]{40}$/.test(value)) {
    throw new AvsctlError(
      "INVALID_ADDRESS",
      `${name}: "${value}" is not an address (0x followed by 40 hex digits)`,
      {
        details: { argument: name },
      },
    );
  }
  const hasUpper = /[A-F]/.test(value.slice(2));
  const hasLower = /[a-f]/.test(value.slice(2));
  if (hasUpper && hasLower && !checksumMatches(value)) {
    throw new AvsctlError(
      "INVALID_ADDRESS",
      `${name}: "${value}" has a wrong checksum (mixed case must be EIP-55)`,
      {
        hint: "check for a typo, or pass the address all in lowercase",
        details: { argument: name },
      },
    );
  }
  return value as `0x${string}`;
}

/** The address in its EIP-55 checksummed form, after the checks of `parseAddress`. */
export function checksumAddress(value: string, name: string): `0x${string}` {
  const lower = parseAddress(value, name).slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lower));
  let out = "0x";
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    out += nibble >= 8 ? lower[i]!.toUpperCase() : lower[i]!;
  }
  return out as `0x${string}`;
}

/** EIP-55 check without loading ethers (this runs during flag validation). */
function checksumMatches(address: string): boolean {
  const lower = address.slice(2).toLowerCase();
  const hash = keccak_256(new TextEncoder().encode(lower));
  for (let i = 0; i < 40; i++) {
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    const c = address[2 + i]!;
    if (/[a-f]/i.test(c) && (nibble >= 8 ? c !== c.toUpperCase() : c !== c.toLowerCase())) return false;
  }
  return true;
}
