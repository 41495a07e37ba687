/**
 * The building blocks of workflow validation: the problem list, field readers that record a
 * problem instead of throwing, variable-name rules, and syntax checks of templates and
 * expressions.
 */

import { syntaxError } from "../sandbox.ts";
import { templateExpressions, unwrapExpression } from "../template.ts";
import type { WorkflowErrorCode, WorkflowProblem } from "../types.ts";

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;
const RESERVED_WORDS = new Set(
  (
    "await break case catch class const continue debugger default delete do else enum export extends false " +
    "finally for function if implements import in instanceof interface let new null package private " +
    "protected public return static super switch this throw true try typeof var void while with yield " +
    "arguments eval undefined NaN Infinity globalThis"
  ).split(" "),
);
/** Globals that templates and code rely on; a node of that name would hide them. */
export const RESERVED_NAMES = new Set([
  "apContext",
  "value",
  "index",
  "JSON",
  "Math",
  "Object",
  "Array",
  "String",
  "Number",
  "Boolean",
  "Date",
  "BigInt",
  "Promise",
  "Error",
  "RegExp",
  "Map",
  "Set",
  "console",
  "parseInt",
  "parseFloat",
  "isNaN",
]);

export const ADDRESS = /^0x[0-9a-fA-F]{40}$/;
export const HEX = /^0x([0-9a-fA-F]{2})*$/;
export const AMOUNT = /^\s*\d+(\.\d+)?\s*(wei|gwei|eth)?\s*$/i;

/** Whether `name` can be a variable of templates and code (a node, trigger or input name). */
export function isValidVariableName(name: string): boolean {
  return IDENTIFIER.test(name) && !RESERVED_WORDS.has(name) && !name.startsWith("__");
}

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

export class Problems {
  readonly list: WorkflowProblem[] = [];
  add(code: WorkflowErrorCode, path: string, message: string): void {
    this.list.push({ code, message, path });
  }
}

export function join(path: string, key: string | number): string {
  if (typeof key === "number") return `${path}[${key}]`;
  return path ? `${path}.${key}` : key;
}

/** Field readers that record a problem and return undefined on a wrong type. */
export class Fields {
  private readonly p: Problems;
  private readonly obj: Obj;
  private readonly path: string;
  private readonly code: WorkflowErrorCode;

  constructor(p: Problems, obj: Obj, path: string, code: WorkflowErrorCode) {
    this.p = p;
    this.obj = obj;
    this.path = path;
    this.code = code;
  }

  at(key: string): string {
    return join(this.path, key);
  }

  has(key: string): boolean {
    return this.obj[key] !== undefined && this.obj[key] !== null;
  }

  raw(key: string): unknown {
    return this.obj[key];
  }

  string(key: string, required: boolean): string | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.p.add(this.code, this.at(key), `${key} is required`);
      return undefined;
    }
    if (typeof v !== "string") {
      this.p.add(this.code, this.at(key), `${key} must be a string`);
      return undefined;
    }
    if (required && v.trim() === "") {
      this.p.add(this.code, this.at(key), `${key} must not be empty`);
      return undefined;
    }
    return v;
  }

  int(key: string, min: number, max: number): number | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) return undefined;
    const n = typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== "number" || !Number.isSafeInteger(n) || n < min || n > max) {
      this.p.add(this.code, this.at(key), `${key} must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return n;
  }

  object(key: string, required: boolean): Obj | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.p.add(this.code, this.at(key), `${key} is required`);
      return undefined;
    }
    if (!isObject(v)) {
      this.p.add(this.code, this.at(key), `${key} must be an object`);
      return undefined;
    }
    return v;
  }

  array(key: string, required: boolean): unknown[] | undefined {
    const v = this.obj[key];
    if (v === undefined || v === null) {
      if (required) this.p.add(this.code, this.at(key), `${key} is required`);
      return undefined;
    }
    if (!Array.isArray(v)) {
      this.p.add(this.code, this.at(key), `${key} must be an array`);
      return undefined;
    }
    return v;
  }
}

/** Checks the syntax of every `{{ }}` template in a JSON-like value. */
export function checkTemplates(p: Problems, value: unknown, path: string): void {
  if (typeof value === "string") {
    for (const expr of templateExpressions(value)) {
      const problem = syntaxError(expr, "expression");
      if (problem) p.add("WF_INVALID_EXPRESSION", path, `template {{ ${expr} }} ${problem}`);
    }
  } else if (Array.isArray(value)) {
    value.forEach((v, i) => {
      checkTemplates(p, v, join(path, i));
    });
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) checkTemplates(p, v, join(path, k));
  }
}

export function checkExpression(p: Problems, text: string, path: string, what: string): string {
  const expr = unwrapExpression(text);
  const problem = syntaxError(expr, "expression");
  if (problem) p.add("WF_INVALID_EXPRESSION", path, `${what}: ${JSON.stringify(expr)} ${problem}`);
  return expr;
}

/** A literal (no template) must already be what it claims to be. */
export function literal(text: string): boolean {
  return !text.includes("{{");
}
