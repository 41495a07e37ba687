/**
 * The workflow engine as generated services carry it: avsctl's own `src/workflow/**` and the
 * files outside it that those import, copied into `<service>/src/engine/` when a template asks
 * for it (`"workflowEngine": true` in template.json). The templates hold no copy, so the engine
 * a project runs is the one that scaffolded it.
 *
 * Generated services run their TypeScript with Node's type stripping, which takes only erasable
 * syntax and real file names; the copy is adapted here, never in src/workflow:
 * - relative `.js` import suffixes become `.ts` (Node does not map one to the other);
 * - constructor parameter properties become field declarations plus assignments.
 */

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { AvsctlError } from "../errors.js";

/** Where the engine goes inside each generated service. */
export const ENGINE_DIR = "src/engine";

/** The engine folder of avsctl's sources; everything under it is copied. */
const ENGINE_SOURCE = "workflow";

/** Relative specifiers in static imports/exports and in `import("...")`. */
const RELATIVE_SPECIFIER = /(\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\2/g;

function tsFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...tsFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

/** The relative modules a source imports, as paths relative to `srcRoot`, `.ts` suffixed. */
function relativeImports(text: string, fileRel: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(RELATIVE_SPECIFIER)) {
    const spec = (match[3] as string).replace(/\.js$/, ".ts");
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(fileRel), spec)));
  }
  return out;
}

/** Rewrites `./x.js` to `./x.ts` in relative imports. */
export function rewriteImportSuffixes(text: string): string {
  return text.replace(RELATIVE_SPECIFIER, (_all, lead: string, quote: string, spec: string) => {
    const fixed = spec.endsWith(".js") ? `${spec.slice(0, -3)}.ts` : spec;
    return `${lead}${quote}${fixed}${quote}`;
  });
}

/**
 * Index of the bracket closing the one at `open`, skipping strings; -1 when unbalanced. Angle
 * brackets count only in a parameter list (type arguments), not in code (comparisons).
 */
function closingBracket(text: string, open: number, angles = false): number {
  const pairs: Record<string, string> = angles
    ? { "(": ")", "[": "]", "{": "}", "<": ">" }
    : { "(": ")", "[": "]", "{": "}" };
  const stack: string[] = [];
  for (let i = open; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < text.length && text[i] !== c; i++) if (text[i] === "\\") i++;
      continue;
    }
    if (c === "=" && text[i + 1] === ">") {
      i++; // an arrow, not a closing angle bracket
      continue;
    }
    if (pairs[c]) stack.push(pairs[c]);
    else if (c === stack.at(-1)) {
      stack.pop();
      if (stack.length === 0) return i;
    }
  }
  return -1;
}

/** Splits a parameter list at top-level commas. */
function splitParams(list: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i] as string;
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < list.length && list[i] !== c; i++) if (list[i] === "\\") i++;
    } else if (c === "=" && list[i + 1] === ">") i++;
    else if ("([{<".includes(c)) depth++;
    else if (")]}>".includes(c)) depth--;
    else if (c === "," && depth === 0) {
      out.push(list.slice(start, i));
      start = i + 1;
    }
  }
  if (list.slice(start).trim() !== "") out.push(list.slice(start));
  return out;
}

const PROPERTY_PARAM =
  /^\s*((?:(?:public|private|protected|readonly)\s+)+)([A-Za-z_$][\w$]*)(\??)\s*([\s\S]*)$/;

/** Index of the initializer's `=` at the top level of a parameter's tail (not an arrow's), or -1. */
function initializerAt(tail: string): number {
  let depth = 0;
  for (let i = 0; i < tail.length; i++) {
    const c = tail[i] as string;
    if (c === '"' || c === "'" || c === "`") {
      for (i++; i < tail.length && tail[i] !== c; i++) if (tail[i] === "\\") i++;
    } else if (c === "=" && tail[i + 1] === ">") i++;
    else if ("([{<".includes(c)) depth++;
    else if (")]}>".includes(c)) depth--;
    else if (c === "=" && depth === 0) return i;
  }
  return -1;
}

/** A parameter's declared type and initializer, from what follows its name. */
function typeAndInitializer(tail: string): { declared?: string; initializer?: string } {
  const eq = initializerAt(tail);
  const annotation = (eq < 0 ? tail : tail.slice(0, eq)).trim();
  return {
    ...(annotation.startsWith(":") ? { declared: annotation.slice(1).trim() } : {}),
    ...(eq < 0 ? {} : { initializer: tail.slice(eq + 1).trim() }),
  };
}

function literalType(initializer: string): string | undefined {
  const value = initializer.trim();
  if (value === "true" || value === "false") return "boolean";
  if (/^-?\d[\d_]*(\.\d+)?$/.test(value)) return "number";
  if (/^(["'`]).*\1$/s.test(value)) return "string";
  return undefined;
}

/**
 * Turns constructor parameter properties (`constructor(private readonly x: T)`) into a field
 * declaration and an assignment, which type stripping accepts. Assignments go right after a
 * `super(...)` call when there is one, as TypeScript emits them.
 */
export function expandParameterProperties(text: string, file = "source"): string {
  let out = text;
  let from = 0;
  for (;;) {
    const at = out.indexOf("constructor(", from);
    if (at < 0) return out;
    const open = at + "constructor".length;
    const close = closingBracket(out, open, true);
    if (close < 0) throw engineCopyError(file, "unbalanced constructor parameters");
    const params = splitParams(out.slice(open + 1, close));
    const fields: string[] = [];
    const assignments: string[] = [];
    const kept = params.map((param) => {
      const m = PROPERTY_PARAM.exec(param);
      if (!m) return param.trim();
      const [, modifiers, name, optional, tail] = m as unknown as [string, string, string, string, string];
      const { declared, initializer } = typeAndInitializer(tail);
      const type = declared || (initializer === undefined ? undefined : literalType(initializer));
      if (!type) throw engineCopyError(file, `cannot infer the type of parameter property ${name}`);
      fields.push(`${modifiers.trim().replace(/\s+/g, " ")} ${name}${optional}: ${type};`);
      assignments.push(`this.${name} = ${name};`);
      const rest = param.trim().slice(modifiers.trimStart().length);
      return rest;
    });
    if (fields.length === 0) {
      from = close;
      continue;
    }
    const bodyOpen = out.indexOf("{", close);
    const bodyClose = closingBracket(out, bodyOpen);
    if (bodyOpen < 0 || bodyClose < 0) throw engineCopyError(file, "constructor without a body");
    const lineStart = out.lastIndexOf("\n", at) + 1;
    const indent = /^\s*/.exec(out.slice(lineStart, at))?.[0] ?? "  ";
    const body = out.slice(bodyOpen + 1, bodyClose);
    const superCall = /\bsuper\s*\(/.exec(body);
    let insertAt = 0;
    if (superCall) {
      const callClose = closingBracket(body, superCall.index + superCall[0].length - 1);
      insertAt = body.indexOf(";", callClose) + 1;
    }
    const inner = `${indent}  `;
    const assigned = assignments.map((a) => `\n${inner}${a}`).join("");
    const newBody =
      body.trim() === ""
        ? `${assigned}\n${indent}`
        : `${body.slice(0, insertAt)}${assigned}${body.slice(insertAt)}`;
    // The declarations go where the constructor member starts (before `private constructor`).
    const modifiers = /(?:(?:public|private|protected)\s+)*$/.exec(out.slice(lineStart, at))?.[0] ?? "";
    const memberStart = at - modifiers.length;
    const declarations = fields.map((f) => `${f}\n${indent}`).join("");
    const signature = `constructor(${kept.join(", ")})`;
    out =
      out.slice(0, memberStart) +
      declarations +
      modifiers +
      signature +
      out.slice(close + 1, bodyOpen + 1) +
      newBody +
      out.slice(bodyClose);
    from = memberStart + declarations.length + modifiers.length + signature.length;
  }
}

function engineCopyError(file: string, problem: string): AvsctlError {
  return new AvsctlError(
    "INTERNAL",
    `cannot copy the workflow engine into the project: ${file}: ${problem}`,
    {
      hint: "this is a bug in avsctl; the workflow template needs its engine copy step updated",
      details: { file },
    },
  );
}

type StripTypes = (code: string, options?: { mode?: "strip" | "transform" }) => string;

/** Node's own type stripper, when this Node has it (22.13+), to prove the copy will run. */
function nodeStripper(): StripTypes | undefined {
  const mod = createRequire(import.meta.url)("node:module") as { stripTypeScriptTypes?: StripTypes };
  return mod.stripTypeScriptTypes;
}

/**
 * The engine files to write into a service, keyed by their path relative to `ENGINE_DIR`, with
 * a header naming their origin. `srcRoot` is avsctl's `src/` folder. Follows relative imports
 * out of src/workflow (src/errors.ts, src/chain/units.ts, ...) so the copy is complete.
 *
 * Throws INTERNAL when avsctl's sources are not installed or a file cannot be made runnable.
 */
export function workflowEngineFiles(srcRoot: string): Map<string, string> {
  const engineDir = path.join(srcRoot, ENGINE_SOURCE);
  if (!existsSync(engineDir)) {
    throw new AvsctlError("INTERNAL", `avsctl's workflow engine sources are missing (${engineDir})`, {
      hint: "reinstall avsctl; the workflow template copies src/workflow into the project",
      details: { path: engineDir },
    });
  }
  const pending = tsFiles(engineDir).map((rel) => `${ENGINE_SOURCE}/${rel}`);
  const seen = new Set<string>(pending);
  const out = new Map<string, string>();
  const strip = nodeStripper();
  while (pending.length > 0) {
    const rel = pending.shift() as string;
    const full = path.join(srcRoot, ...rel.split("/"));
    if (rel.startsWith("../") || !existsSync(full)) {
      throw engineCopyError(rel, "imported by the engine but not found in avsctl's sources");
    }
    const original = readFileSync(full, "utf8");
    for (const dep of relativeImports(original, rel)) {
      if (!seen.has(dep)) {
        seen.add(dep);
        pending.push(dep);
      }
    }
    const text = `// Copied from avsctl's src/${rel} by \`avsctl init\`: the workflow engine this project runs.\n// Change the project's workflow.json, not these files; a newer avsctl brings a newer copy.\n${expandParameterProperties(rewriteImportSuffixes(original), rel)}`;
    if (strip) {
      try {
        strip(text, { mode: "strip" });
      } catch (error) {
        throw engineCopyError(rel, `Node cannot run it without a build step: ${(error as Error).message}`);
      }
    }
    out.set(rel, text);
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
