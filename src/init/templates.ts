/**
 * The project templates shipped in `templates/` and the names `init` accepts. Pure lookups over
 * the package's own files: nothing here writes or prints.
 *
 * Layout of `templates/` (see templates/README.md): `_shared/<language>/` holds what every
 * template of a language shares (server plumbing, signing, Dockerfiles); `<template>/<language>/`
 * holds the template's own task, tests, config and README and is laid over the shared files.
 * A `_services/` folder in a layer holds files written into both service folders.
 * A template is a folder with a `template.json` ({"description": "..."}); its languages are the
 * language folders it has, narrowed by the manifest's `languages` when it names some (a template
 * that only makes sense in one language says so, whatever folders a layer may grow).
 */

import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { AvsctlError, invalidArgument } from "../errors.js";

export type Language = "typescript" | "python" | "go";

/** Every language a template may offer, in the order they are listed. */
export const LANGUAGES: readonly Language[] = ["typescript", "python", "go"];
export const DEFAULT_TEMPLATE = "price-oracle";
export const DEFAULT_LANGUAGE: Language = "typescript";

const LANGUAGE_ALIASES: Record<string, Language> = {
  typescript: "typescript",
  ts: "typescript",
  python: "python",
  py: "python",
  go: "go",
  golang: "go",
};

export interface TemplateInfo {
  name: string;
  description: string;
  languages: Language[];
  /** True for the template `init` uses when none is named. */
  default: boolean;
}

/** What a template's `template.json` may say. */
export interface TemplateManifest {
  description?: string;
  /** The only languages the template offers; default: every language folder it has. */
  languages?: string[];
  /**
   * Copy avsctl's own workflow engine (src/workflow and what it imports) into each generated
   * service's `src/engine/` at scaffold time, so the template stores no copy of it.
   */
  workflowEngine?: boolean;
}

/** Reads `<root>/<name>/template.json`; a manifest that is not a JSON object is an INTERNAL error. */
export function readTemplateManifest(root: string, name: string): TemplateManifest {
  const file = path.join(root, name, "template.json");
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    throw new AvsctlError("INTERNAL", `the manifest of the ${name} template is unreadable`, {
      details: { file },
      cause: error,
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new AvsctlError("INTERNAL", `the manifest of the ${name} template is not a JSON object`, {
      details: { file },
    });
  }
  return value as TemplateManifest;
}

let cachedRoot: string | undefined;

/**
 * The `templates/` folder of this avsctl package. Found by walking up from this module, so it
 * works from `src/init/` (vitest) and from `dist/init/` (the built CLI) alike.
 */
export function templatesRoot(): string {
  if (cachedRoot) return cachedRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "templates");
    if (existsSync(path.join(dir, "package.json")) && existsSync(path.join(candidate, "_shared"))) {
      cachedRoot = candidate;
      return candidate;
    }
    dir = path.dirname(dir);
  }
  throw new AvsctlError("INTERNAL", "the templates folder of avsctl is missing from its installation", {
    hint: "reinstall avsctl; the package must ship its templates/ folder",
  });
}

/**
 * The version of the avsctl package that runs, which a generated project's CI installs when
 * avsctl is missing, so CI runs the avsctl the project was made with.
 */
export function avsctlVersion(): string {
  const file = path.join(path.dirname(templatesRoot()), "package.json");
  const { version } = JSON.parse(readFileSync(file, "utf8")) as { version?: unknown };
  if (typeof version !== "string") {
    throw new AvsctlError("INTERNAL", "the package.json of avsctl has no version", { details: { file } });
  }
  return version;
}

function isDirectory(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

/** The templates with their languages, the default first, then by name. */
export function listTemplates(root: string = templatesRoot()): TemplateInfo[] {
  const templates: TemplateInfo[] = [];
  for (const name of readdirSync(root)) {
    if (name.startsWith("_") || name.startsWith(".")) continue;
    const dir = path.join(root, name);
    const manifest = path.join(dir, "template.json");
    if (!isDirectory(dir) || !existsSync(manifest)) continue;
    const { description, languages: declared } = readTemplateManifest(root, name);
    const languages = LANGUAGES.filter(
      (language) =>
        isDirectory(path.join(dir, language)) && (!Array.isArray(declared) || declared.includes(language)),
    );
    if (languages.length === 0) continue;
    templates.push({ name, description: description ?? "", languages, default: name === DEFAULT_TEMPLATE });
  }
  return templates.sort((a, b) => Number(b.default) - Number(a.default) || a.name.localeCompare(b.name));
}

/**
 * The canonical language name for a user's spelling: typescript|ts, python|py, go|golang
 * (case-insensitive). Throws INVALID_ARGUMENT for anything else.
 */
export function normalizeLanguage(value: string): Language {
  const language = LANGUAGE_ALIASES[value.trim().toLowerCase()];
  if (!language) {
    throw invalidArgument("--language", `unknown language "${value}"`, "use ts, python or go");
  }
  return language;
}

const NAME_PATTERN = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Why a project name is not acceptable, or undefined when it is. Names are npm-style and also
 * valid as Docker, Go module and DNS names: 1 to 63 lowercase letters, digits and dashes,
 * starting and ending with a letter or digit. Suits an @inquirer `validate` callback.
 */
export function projectNameProblem(name: string): string | undefined {
  if (name.length === 0) return "the name is empty";
  if (name.length > 63) return "the name is longer than 63 characters";
  if (name !== name.toLowerCase()) return "the name must be lowercase";
  if (!NAME_PATTERN.test(name)) {
    return "use lowercase letters, digits and dashes, starting and ending with a letter or digit";
  }
  return undefined;
}

/** Returns the name when it is a valid project name; throws INVALID_ARGUMENT naming --name otherwise. */
export function validateProjectName(name: string): string {
  const problem = projectNameProblem(name);
  if (problem) throw invalidArgument("--name", `"${name}" is not a valid project name: ${problem}`);
  return name;
}

/**
 * A valid project name derived from a directory name ("My AVS_2" -> "my-avs-2"), or undefined
 * when nothing usable is left.
 */
export function suggestProjectName(dirName: string): string | undefined {
  const name = dirName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/, "");
  return projectNameProblem(name) ? undefined : name;
}
