/**
 * The one place flag values become typed values: each is an argParser of commander, attached
 * where the flag is declared (src/cli/commands/*), so a handler and the core below it never see
 * a raw flag string. A bad value throws INVALID_ARGUMENT (or INVALID_ADDRESS) naming the flag,
 * exit 2, before anything is loaded, started or sent.
 */
import { Option } from "commander";
import {
  parseAddress,
  parseAmount,
  parseBlockExpiry,
  parseOperatorIds,
  parseTaskDefinitionId,
  parseUint,
} from "../chain/units.js";
import { parseDuration } from "../config/triggers.js";
import { invalidArgument } from "../errors.js";

export type Parser<T> = (value: string) => T;

/** A non-negative integer of at most `bits` bits, as a bigint (uint256 values, wei). */
export const uint =
  (flag: string, bits = 256): Parser<bigint> =>
  (value) =>
    parseUint(value, flag, bits);

/** A non-negative integer as a number (block numbers, chain ids, ports: `bits` <= 53). */
export const uintNumber =
  (flag: string, bits = 53): Parser<number> =>
  (value) =>
    Number(parseUint(value, flag, bits));

/**
 * An integer from `min` to `max` (counts, seconds). Every refusal states that range: parseUint's
 * own words ("not a non-negative integer", "does not fit in uint32") describe a wider one.
 */
export const intRange =
  (flag: string, min: number, max: number): Parser<number> =>
  (value) => {
    let n: number | undefined;
    try {
      n = Number(parseUint(value, flag, 32));
    } catch {}
    if (n === undefined || n < min || n > max)
      throw invalidArgument(flag, `expected an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };

/** Seconds from 1 to `max`, as milliseconds. */
export const seconds =
  (flag: string, max: number): Parser<number> =>
  (value) =>
    intRange(flag, 1, max)(value) * 1000;

/** Wei, or an amount with a unit (`0.1eth`, `5gwei`). */
export const amount =
  (flag: string): Parser<bigint> =>
  (value) =>
    parseAmount(value, flag);

export const address =
  (flag: string): Parser<`0x${string}`> =>
  (value) =>
    parseAddress(value, flag);

export const taskDefinitionId =
  (flag: string): Parser<number> =>
  (value) =>
    parseTaskDefinitionId(value, flag);

/** `never` (uint256 max) or a block number. */
export const blockExpiry =
  (flag: string): Parser<bigint> =>
  (value) =>
    parseBlockExpiry(value, flag);

/** Comma-separated operator ids, sorted ascending as the contract wants. */
export const operatorIds = (flag: string) => (value: string) => parseOperatorIds(value, flag);

export const oneOf =
  <const T extends string>(flag: string, values: readonly T[]): Parser<T> =>
  (value) => {
    if (!(values as readonly string[]).includes(value)) {
      const list =
        values.length === 2 ? values.join(" or ") : `${values.slice(0, -1).join(", ")} or ${values.at(-1)}`;
      throw invalidArgument(flag, `expected ${list}, got "${value}"`);
    }
    return value as T;
  };

/** A JSON value. */
export const json =
  (flag: string): Parser<unknown> =>
  (value) => {
    try {
      return JSON.parse(value) as unknown;
    } catch {
      throw invalidArgument(flag, "expected JSON");
    }
  };

/** An http(s) URL, kept as the user wrote it. */
export const httpUrl =
  (flag: string): Parser<string> =>
  (value) => {
    let protocol: string | undefined;
    try {
      protocol = new URL(value).protocol;
    } catch {}
    if (protocol !== "http:" && protocol !== "https:")
      throw invalidArgument(flag, `"${value}" is not an http(s) URL`);
    return value;
  };

/**
 * An option with a parser and a typed default: commander shows `description` of the default
 * in --help (a bigint default cannot be printed as JSON).
 */
export function typedOption<T>(
  flags: string,
  help: string,
  parse: Parser<T>,
  fallback?: { value: T; shown: string },
): Option {
  const option = new Option(flags, help).argParser((value: string) => parse(value));
  return fallback ? option.default(fallback.value, fallback.shown) : option;
}

/** An integer flag from 1 to `max` with a default (counts, limits). */
export function boundedOption(flags: string, help: string, max: number, fallback: number): Option {
  const flag = flags.split(" ")[0]!;
  return typedOption(flags, help, intRange(flag, 1, max), { value: fallback, shown: String(fallback) });
}

/** `--since`: a duration back from now (`90s`, `5m`, `1h`) or a time (`2026-01-02T03:04:05Z`), as epoch ms. */
export const sinceTime =
  (flag: string): Parser<number> =>
  (value) => {
    const ago = parseDuration(value);
    if (ago !== undefined) return Date.now() - ago;
    const at = /^\d{4}-\d\d-\d\d/.test(value) ? Date.parse(value) : Number.NaN;
    if (Number.isNaN(at))
      throw invalidArgument(flag, `expected a duration (30s, 5m, 1h) or a time, got ${value}`);
    return at;
  };

/** A task hash: 0x and 64 hex digits. */
export const taskHashArg =
  (flag: string): Parser<string> =>
  (value) => {
    if (!/^0x[0-9a-fA-F]{64}$/.test(value))
      throw invalidArgument(flag, `expected 0x and 64 hex digits, got ${value}`);
    return value.toLowerCase();
  };

/** A task engine id: a ULID (26 Crockford base-32 characters). */
export const ulidId =
  (name: string): Parser<string> =>
  (value) => {
    if (!/^[0-9A-HJKMNP-TV-Z]{26}$/i.test(value))
      throw invalidArgument(name, `"${value}" is not an id (a ULID)`);
    return value.toUpperCase();
  };

/** A JavaScript identifier (a secret's name, read as apContext.configVars.<name>). */
export const identifier =
  (name: string): Parser<string> =>
  (value) => {
    if (!/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(value)) {
      throw invalidArgument(name, `"${value}" is not a JavaScript identifier`);
    }
    return value;
  };

/** A duration (`90s`, `2h`, `1d`, `1h30m`), as milliseconds. */
export const duration =
  (flag: string): Parser<number> =>
  (value) => {
    const ms = parseDuration(value);
    if (ms === undefined || ms <= 0)
      throw invalidArgument(flag, `expected a duration (90s, 2h, 1d), got ${value}`);
    return ms;
  };
