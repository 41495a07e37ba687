// `.ts` specifiers: the workflow engine imports this file, and `avsctl init` copies it verbatim.
import { invalidArgument } from "../errors.ts";
import { FIRST_INTERNAL_TASK_DEFINITION_ID } from "./well-known.ts";

export { checksumAddress, parseAddress } from "../crypto/address.ts";
export { FIRST_INTERNAL_TASK_DEFINITION_ID };

export const UINT256_MAX = (1n << 256n) - 1n;

const UNITS: Record<string, number> = { wei: 0, gwei: 9, eth: 18, ether: 18 };

/**
 * Parses an amount given as wei (`1000`), or with a unit (`0.1eth`, `5 gwei`), into wei.
 * Fails naming `name` on anything else, including fractions of a wei.
 */
export function parseAmount(value: string, name: string): bigint {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  if (!m && /^\s*-\s*\d/.test(value))
    throw invalidArgument(
      name,
      `"${value}" is negative: an amount is 0 or more (wei, or e.g. 0.1eth, 5gwei)`,
    );
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
