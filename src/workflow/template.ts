/**
 * `{{ expression }}` templates in text fields. A field that is exactly one template takes
 * the expression's value as it is (a number stays a number, an array an array); a template
 * inside other text is spliced in as text (objects as JSON, null and undefined as "").
 */

import type { Sandbox } from "./sandbox.ts";

const TEMPLATE = /\{\{([\s\S]+?)\}\}/g;
const WHOLE = /^\s*\{\{([\s\S]+?)\}\}\s*$/;

/** The expressions of every template in `text`, in order. */
export function templateExpressions(text: string): string[] {
  return [...text.matchAll(TEMPLATE)].map((m) => m[1]!.trim());
}

export function hasTemplate(text: string): boolean {
  return text.includes("{{") && templateExpressions(text).length > 0;
}

/**
 * An expression field (branch condition, filter predicate, loop input) may be written bare
 * (`price > 10`) or as one template (`{{ price > 10 }}`): both mean the same expression.
 */
export function unwrapExpression(text: string): string {
  const m = WHOLE.exec(text);
  return m && templateExpressions(text).length === 1 ? m[1]!.trim() : text.trim();
}

/** Renders one text field. */
export function renderText(text: string, sandbox: Sandbox, field = "template"): unknown {
  if (!text.includes("{{")) return text;
  const whole = WHOLE.exec(text);
  if (whole && templateExpressions(text).length === 1) {
    return sandbox.evaluate(whole[1]!.trim(), `${field} {{ ${whole[1]!.trim()} }}`);
  }
  return text.replace(TEMPLATE, (_m, expr: string) =>
    spliced(sandbox.evaluate(expr.trim(), `${field} {{ ${expr.trim()} }}`)),
  );
}

/**
 * Substitutes every template of a customCode source as text (strings unquoted, objects as
 * JSON), as Ava does before the code runs: the source quotes what should be a string.
 */
export function substituteText(text: string, sandbox: Sandbox, field = "template"): string {
  if (!text.includes("{{")) return text;
  return text.replace(TEMPLATE, (_m, expr: string) =>
    spliced(sandbox.evaluate(expr.trim(), `${field} {{ ${expr.trim()} }}`)),
  );
}

/**
 * The source with each template replaced by a placeholder identifier, for a syntax check before
 * the values are known: a template stands where a value or a name could.
 */
export function withPlaceholders(text: string): string {
  let n = 0;
  return text.replace(TEMPLATE, () => `__template${n++}`);
}

/** Renders every string inside a JSON-like value (object keys are left alone). */
export function renderDeep(value: unknown, sandbox: Sandbox, field = "template"): unknown {
  if (typeof value === "string") return renderText(value, sandbox, field);
  if (Array.isArray(value)) return value.map((v, i) => renderDeep(v, sandbox, `${field}[${i}]`));
  if (value && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, renderDeep(v, sandbox, `${field}.${k}`)]),
    );
  }
  return value;
}

/** Whether any string inside a JSON-like value holds a template. */
export function containsTemplate(value: unknown): boolean {
  if (typeof value === "string") return hasTemplate(value);
  if (Array.isArray(value)) return value.some(containsTemplate);
  if (value && typeof value === "object") return Object.values(value).some(containsTemplate);
  return false;
}

function spliced(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
