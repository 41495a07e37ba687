/**
 * Reading a workflow document: JSON or YAML text into a plain value. Shape checks belong to
 * validate.ts; here only syntax can fail.
 */

import { readFileSync, statSync } from "node:fs";
import path from "node:path";
import { AvsctlError } from "../errors.ts";
import type { WorkflowProblem } from "./types.ts";

export type ParseResult = { ok: true; value: unknown } | { ok: false; problem: WorkflowProblem };

/** Largest workflow file we read: a graph of nodes, not a data set. */
const MAX_FILE_BYTES = 4 * 1024 * 1024;

/**
 * Parses workflow text. `format` picks the parser; "auto" tries JSON first (exact error
 * positions for JSON files) and falls back to YAML.
 */
export async function parseWorkflowText(
  text: string,
  format: "json" | "yaml" | "auto" = "auto",
): Promise<ParseResult> {
  const trimmed = text.replace(/^\uFEFF/, "");
  if (format === "json" || (format === "auto" && /^\s*[[{]/.test(trimmed))) {
    try {
      return { ok: true, value: JSON.parse(trimmed) };
    } catch (error) {
      if (format === "json") return { ok: false, problem: parseProblem("JSON", error) };
    }
  }
  const { parseDocument } = await import("yaml");
  const doc = parseDocument(trimmed, { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) return { ok: false, problem: parseProblem("YAML", doc.errors[0]) };
  return { ok: true, value: doc.toJS({ maxAliasCount: 100 }) };
}

function parseProblem(kind: string, error: unknown): WorkflowProblem {
  const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
  return { code: "WF_PARSE_ERROR", message: `not valid ${kind}: ${message}`, path: "" };
}

/** The parser a file's extension asks for. */
export function formatOf(file: string): "json" | "yaml" | "auto" {
  const ext = path.extname(file).toLowerCase();
  if (ext === ".json") return "json";
  if (ext === ".yaml" || ext === ".yml") return "yaml";
  return "auto";
}

/**
 * Reads a workflow file (relative to `cwd`). A missing or unreadable file is a usage error
 * (INVALID_ARGUMENT, exit 2); bad syntax is a validation problem, reported by the caller.
 */
export async function readWorkflowFile(file: string, cwd: string): Promise<ParseResult & { file: string }> {
  const full = path.resolve(cwd, file);
  let size: number;
  try {
    const stat = statSync(full);
    if (!stat.isFile()) throw new Error("not a regular file");
    size = stat.size;
  } catch (error) {
    // the path read, not the one given: a relative one starts at --cwd, not the shell's directory
    throw new AvsctlError("INVALID_ARGUMENT", `<file>: cannot read ${full}`, {
      hint: "pass the path of a workflow JSON or YAML file (a relative path starts at --cwd, default the current directory)",
      details: { argument: "<file>", file: full },
      cause: error,
    });
  }
  if (size > MAX_FILE_BYTES) {
    throw new AvsctlError("INVALID_ARGUMENT", `<file>: ${full} is larger than ${MAX_FILE_BYTES} bytes`, {
      details: { argument: "<file>", file: full },
    });
  }
  const text = readFileSync(full, "utf8");
  return { ...(await parseWorkflowText(text, formatOf(full))), file: full };
}
