/**
 * `avsctl init` without the talking: writes a project from a template into a directory and
 * optionally installs its dependencies. The CLI layer asks the questions and renders the result.
 */

import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { AvsctlError, invalidArgument, isAvsctlError } from "../errors.js";
import { type InstallOptions, installDependencies, SERVICE_DIRS } from "./install.js";
import {
  avsctlVersion,
  DEFAULT_LANGUAGE,
  DEFAULT_TEMPLATE,
  type Language,
  listTemplates,
  normalizeLanguage,
  readTemplateManifest,
  suggestProjectName,
  type TemplateInfo,
  templatesRoot,
  validateProjectName,
} from "./templates.js";
import { ENGINE_DIR, workflowEngineFiles } from "./workflow-engine.js";

export type { InstallOptions, InstallStep } from "./install.js";
export { installDependencies, installSteps, SERVICE_DIRS } from "./install.js";
export type { Language, TemplateInfo } from "./templates.js";
export {
  DEFAULT_LANGUAGE,
  DEFAULT_TEMPLATE,
  LANGUAGES,
  listTemplates,
  normalizeLanguage,
  projectNameProblem,
  suggestProjectName,
  templatesRoot,
  validateProjectName,
} from "./templates.js";

export interface ScaffoldOptions {
  /** Target directory; created when missing. */
  dir: string;
  /** Project name; default: derived from the directory name. */
  name?: string;
  /** Template name; default price-oracle. */
  template?: string;
  /** Language or alias (ts, py, golang...); default typescript. */
  language?: string;
  /** Write into a non-empty directory, overwriting files of the same name. */
  force?: boolean;
  /** Install the generated project's dependencies afterwards. */
  install?: boolean;
  signal?: AbortSignal;
  /** Passed to installDependencies. */
  installOptions?: Omit<InstallOptions, "signal">;
  /** Another templates folder (tests); default: the package's own. */
  templatesDir?: string;
}

export interface ScaffoldResult {
  /** Absolute path of the project. */
  path: string;
  name: string;
  template: string;
  language: Language;
  /** Files written, relative to `path`, with forward slashes, sorted. */
  files: string[];
  installed: boolean;
}

/**
 * Files and folders the template stores under another name so npm, git, Go or GitHub leave
 * them alone (a `.github/workflows/` inside avsctl's own tree would look like avsctl's CI).
 */
const RENAMES: Record<string, string> = {
  _gitignore: ".gitignore",
  _dockerignore: ".dockerignore",
  _github: ".github",
};
const TEMPLATE_SUFFIX = ".tmpl";

function targetName(fileName: string): string {
  if (RENAMES[fileName]) return RENAMES[fileName];
  return fileName.endsWith(TEMPLATE_SUFFIX) ? fileName.slice(0, -TEMPLATE_SUFFIX.length) : fileName;
}

function targetFolder(folderName: string): string {
  return RENAMES[folderName] ?? folderName;
}

// Python writes its bytecode cache next to a template's sources whenever something imports
// them from there; it belongs to no scaffold.
const NOT_TEMPLATE = new Set(["__pycache__"]);

function walk(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (NOT_TEMPLATE.has(entry.name)) continue;
    const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isDirectory()) out.push(...walk(path.join(dir, entry.name), rel));
    else if (entry.isFile()) out.push(rel);
  }
  return out;
}

/**
 * A folder of this name in any layer holds files every service needs a copy of: each is written
 * into every service folder, so the template stores it once and each generated service still
 * builds from its own folder.
 */
const SERVICES_LAYER_DIR = "_services";

/**
 * Per-service placeholders, replaced in files written into that service's folder: lets one
 * `_services/` file (a Dockerfile's EXPOSE) differ where the services do.
 */
const SERVICE_VALUES: Record<(typeof SERVICE_DIRS)[number], Record<string, string>> = {
  "execution-service": { __SERVICE_PORT__: "4003" },
  "validation-service": { __SERVICE_PORT__: "4002" },
};

/**
 * Maps each project-relative output path to the template file it comes from. Later layers win;
 * within a layer, a service folder's own file wins over the `_services/` copy of the same path.
 */
function planFiles(root: string, template: string, language: Language): Map<string, string> {
  const layers = [
    path.join(root, "_shared", "common"),
    path.join(root, "_shared", language),
    path.join(root, template, "common"),
    path.join(root, template, language),
  ];
  const plan = new Map<string, string>();
  const add = (target: string[], source: string) => {
    const name = targetName(target.at(-1) ?? "");
    plan.set([...target.slice(0, -1).map(targetFolder), name].join("/"), source);
  };
  for (const layer of layers) {
    if (!existsSync(layer)) continue;
    const own: string[][] = [];
    for (const rel of walk(layer)) {
      const parts = rel.split("/");
      if (parts[0] !== SERVICES_LAYER_DIR) {
        own.push(parts);
        continue;
      }
      for (const service of SERVICE_DIRS) add([service, ...parts.slice(1)], path.join(layer, ...parts));
    }
    for (const parts of own) add(parts, path.join(layer, ...parts));
  }
  return plan;
}

/** The placeholder values for one output file: the project's, plus its service's when it has one. */
function valuesFor(rel: string, projectValues: Record<string, string>): Record<string, string> {
  const service = rel.split("/")[0] as keyof typeof SERVICE_VALUES;
  return Object.hasOwn(SERVICE_VALUES, service)
    ? { ...projectValues, ...SERVICE_VALUES[service] }
    : projectValues;
}

function render(source: string, values: Record<string, string>): Buffer {
  const raw = readFileSync(source);
  if (raw.includes(0)) return raw; // binary: copied as is
  let text = raw.toString("utf8");
  for (const [placeholder, value] of Object.entries(values)) text = text.replaceAll(placeholder, value);
  return Buffer.from(text, "utf8");
}

/**
 * Files made at scaffold time rather than stored in the template: for a template whose manifest
 * asks for it, avsctl's own workflow engine in each TypeScript service's `src/engine/`. It comes
 * from the avsctl package that runs, whatever `templatesDir` says.
 */
function generatedFiles(root: string, template: string, language: Language): Map<string, string> {
  const out = new Map<string, string>();
  if (language !== "typescript" || readTemplateManifest(root, template).workflowEngine !== true) return out;
  const engine = workflowEngineFiles(path.join(path.dirname(templatesRoot()), "src"));
  for (const service of SERVICE_DIRS) {
    for (const [rel, text] of engine) out.set(`${service}/${ENGINE_DIR}/${rel}`, text);
  }
  return out;
}

/** Entries that do not make a directory "non-empty" for init (a fresh `git init`). */
const IGNORED_ENTRIES = new Set([".git"]);

function checkTarget(target: string, force: boolean): void {
  if (!existsSync(target)) return;
  if (!statSync(target).isDirectory()) {
    throw invalidArgument("dir", `${target} exists and is not a directory`);
  }
  const entries = readdirSync(target).filter((entry) => !IGNORED_ENTRIES.has(entry));
  if (entries.length > 0 && !force) {
    throw new AvsctlError("DIRECTORY_NOT_EMPTY", `${target} is not empty`, {
      hint: "choose an empty or new directory, or pass --force to write into it (files of the same name are overwritten)",
      details: { path: target, entries: entries.slice(0, 10) },
    });
  }
}

/**
 * Writes a new project from a template. Everything is checked before the first file is written,
 * so a refusal (bad name, unknown template or language, non-empty directory without `force`)
 * leaves the disk untouched.
 *
 * @example
 * const result = await scaffoldProject({ dir: "my-avs", language: "go", install: false });
 * // result.files: [".env.example", ".gitignore", "README.md", "avsctl.config.json", "execution-service/Dockerfile", ...]
 */
export async function scaffoldProject(options: ScaffoldOptions): Promise<ScaffoldResult> {
  const root = options.templatesDir ?? templatesRoot();
  const target = path.resolve(options.dir);
  const templateName = options.template ?? DEFAULT_TEMPLATE;
  const language = options.language === undefined ? DEFAULT_LANGUAGE : normalizeLanguage(options.language);

  const template = checkTemplate(listTemplates(root), templateName, language);

  let name: string;
  if (options.name !== undefined) {
    name = validateProjectName(options.name);
  } else {
    const suggested = suggestProjectName(path.basename(target));
    if (!suggested) {
      throw invalidArgument(
        "--name",
        `no valid project name can be derived from "${path.basename(target)}"`,
        "pass --name <name>",
      );
    }
    name = suggested;
  }

  checkTarget(target, options.force === true);
  options.signal?.throwIfAborted();

  const plan = planFiles(root, template.name, language);
  const generated = generatedFiles(root, template.name, language);
  const values = {
    __PROJECT_NAME__: name,
    __TEMPLATE__: template.name,
    __AVSCTL_VERSION__: avsctlVersion(),
  };
  const files = [...new Set([...plan.keys(), ...generated.keys()])].sort();
  for (const rel of files) {
    const destination = path.join(target, ...rel.split("/"));
    mkdirSync(path.dirname(destination), { recursive: true });
    const content = generated.get(rel);
    writeFileSync(
      destination,
      content === undefined ? render(plan.get(rel) as string, valuesFor(rel, values)) : content,
    );
  }

  const result: ScaffoldResult = {
    path: target,
    name,
    template: template.name,
    language,
    files,
    installed: false,
  };
  if (options.install) {
    try {
      await installDependencies(target, language, { ...options.installOptions, signal: options.signal });
    } catch (error) {
      if (isAvsctlError(error)) {
        throw new AvsctlError(error.code, `${error.message} (the project files were written to ${target})`, {
          hint: error.hint,
          details: { ...error.details, path: target, filesWritten: files.length },
          cause: error,
        });
      }
      throw error;
    }
    result.installed = true;
  }
  return result;
}

/** The template of that name in that language: INVALID_ARGUMENT naming the flag otherwise. */
export function checkTemplate(
  templates: TemplateInfo[],
  templateName: string,
  language: Language,
): TemplateInfo {
  const template = templates.find((t) => t.name === templateName);
  if (!template) {
    throw invalidArgument(
      "--template",
      `unknown template "${templateName}"`,
      `choose one of: ${templates.map((t) => t.name).join(", ")}`,
    );
  }
  if (!template.languages.includes(language)) {
    throw invalidArgument(
      "--language",
      `the ${template.name} template has no ${language} version`,
      `choose one of: ${template.languages.join(", ")}`,
    );
  }
  return template;
}
