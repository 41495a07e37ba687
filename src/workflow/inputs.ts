/**
 * Input variables from the command line: `--input key=value` (value parsed as JSON when it
 * is JSON, else kept as text; `a.b=1` sets a nested key) and `--inputs <json file>`.
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { invalidArgument } from "../errors.ts";
import { isValidVariableName } from "./validate.ts";

function parsedValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Applies `key=value` assignments over `base` (a copy is returned). */
export function applyInputAssignments(
  base: Record<string, unknown>,
  assignments: readonly string[],
  flag = "--input",
): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base);
  for (const assignment of assignments) {
    const eq = assignment.indexOf("=");
    if (eq <= 0) throw invalidArgument(flag, `"${assignment}" is not key=value`);
    const keys = assignment.slice(0, eq).trim().split(".");
    if (
      !isValidVariableName(keys[0]!) ||
      keys.some((k) => k === "" || k === "__proto__" || k === "constructor" || k === "prototype")
    ) {
      throw invalidArgument(flag, `"${assignment.slice(0, eq)}" is not a variable name`);
    }
    let target = out;
    for (const key of keys.slice(0, -1)) {
      const next = target[key];
      if (!next || typeof next !== "object" || Array.isArray(next)) target[key] = {};
      target = target[key] as Record<string, unknown>;
    }
    target[keys[keys.length - 1]!] = parsedValue(assignment.slice(eq + 1));
  }
  return out;
}

/** Reads `--inputs <file>`: a JSON object of input variables. */
export function readInputsFile(file: string, cwd: string, flag = "--inputs"): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path.resolve(cwd, file), "utf8"));
  } catch (error) {
    throw invalidArgument(flag, `cannot read JSON from ${file}: ${(error as Error).message.split("\n")[0]}`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgument(flag, `${file} must hold a JSON object of input variables`);
  }
  for (const key of Object.keys(value)) {
    if (!isValidVariableName(key)) throw invalidArgument(flag, `"${key}" in ${file} is not a variable name`);
  }
  return value as Record<string, unknown>;
}
