/**
 * The workflow engine as generated services carry it: avsctl's own `src/workflow/**` and the
 * files outside it that those import, copied verbatim into `<service>/src/engine/` when a
 * template asks for it (`"workflowEngine": true` in template.json). The templates hold no copy,
 * so the engine a project runs is the one that scaffolded it.
 *
 * Generated services run their TypeScript with Node's type stripping, so these sources are kept
 * runnable as they are: erasable syntax only (no enums, no parameter properties) and relative
 * imports by their `.ts` names (tsc rewrites them to `.js` for avsctl's own build). The copy
 * checks both rather than adapting anything.
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
const RELATIVE_SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)(["'])(\.{1,2}\/[^"']+)\1/g;

function tsFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...tsFiles(path.join(dir, entry.name), rel));
    else if (entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts")) out.push(rel);
  }
  return out;
}

function engineCopyError(file: string, problem: string): AvsctlError {
  return new AvsctlError(
    "INTERNAL",
    `cannot copy the workflow engine into the project: ${file}: ${problem}`,
    {
      hint: "this is a bug in avsctl: the engine's sources must run under Node's type stripping as they are",
      details: { file },
    },
  );
}

/** The relative modules a source imports, as paths relative to `srcRoot`. */
function relativeImports(text: string, fileRel: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(RELATIVE_SPECIFIER)) {
    const spec = match[2] as string;
    if (!spec.endsWith(".ts")) {
      throw engineCopyError(fileRel, `imports "${spec}"; the engine imports its modules by their .ts names`);
    }
    out.push(path.posix.normalize(path.posix.join(path.posix.dirname(fileRel), spec)));
  }
  return out;
}

type StripTypes = (code: string, options?: { mode?: "strip" | "transform" }) => string;

/**
 * Node's own type stripper, when this Node has it (22.13+), to prove the copy will run. Its
 * first call prints Node's ExperimentalWarning, a detail of the check `init` should not show.
 */
function nodeStripper(): StripTypes | undefined {
  const mod = createRequire(import.meta.url)("node:module") as { stripTypeScriptTypes?: StripTypes };
  const strip = mod.stripTypeScriptTypes;
  return strip && ((code, options) => withoutExperimentalWarnings(() => strip(code, options)));
}

function withoutExperimentalWarnings<T>(fn: () => T): T {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    const type = typeof rest[0] === "string" ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === "ExperimentalWarning") return;
    (emit as (...args: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return fn();
  } finally {
    process.emitWarning = emit;
  }
}

/**
 * The engine files to write into a service, keyed by their path relative to `ENGINE_DIR`, each
 * its source behind a two-line header naming its origin. `srcRoot` is avsctl's `src/` folder.
 * Follows relative imports out of src/workflow (src/errors.ts, src/chain/units.ts, ...) so the
 * copy is complete.
 *
 * Throws INTERNAL when avsctl's sources are not installed or a file would not run as it is.
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
    if (strip) {
      try {
        strip(original, { mode: "strip" });
      } catch (error) {
        throw engineCopyError(rel, `Node cannot run it without a build step: ${(error as Error).message}`);
      }
    }
    out.set(
      rel,
      `// Copied from avsctl's src/${rel} by \`avsctl init\`: the workflow engine this project runs.\n// Change the project's workflow.json, not these files; a newer avsctl brings a newer copy.\n${original}`,
    );
  }
  return new Map([...out.entries()].sort(([a], [b]) => a.localeCompare(b)));
}
