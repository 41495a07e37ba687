import { existsSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { AvsctlError } from "../errors.js";
import {
  type AvsctlConfig,
  type ConfigProblem,
  DEVNET_KEYS,
  defaultConfig,
  validateConfig,
} from "./schema.js";

export interface LoadedConfig {
  config: AvsctlConfig;
  /** The file the config came from, or undefined when defaults were used. */
  filepath: string | undefined;
  /** The project root: the config file's directory, else the working directory. */
  root: string;
  /** process.env over the project's .env (real environment wins, as dotenv does). */
  env: NodeJS.ProcessEnv;
  /**
   * Where each overridden value came from, e.g. {"network.rpcUrl": "env AVSCTL_RPC_URL"}, or
   * ".env L2_RPC" for a variable from the project's .env.
   */
  sources: Record<string, string>;
  /** The variables of `env` that came from the project's .env, the real environment lacking them. */
  dotEnvNames: ReadonlySet<string>;
  warnings: ConfigProblem[];
}

export interface LoadConfigOptions {
  cwd: string;
  /** An explicit --config file; it must exist. */
  configFile?: string;
  env?: NodeJS.ProcessEnv;
}

const MODULE = "avsctl";

/**
 * Finds and validates the configuration (cosmiconfig, name `avsctl`), loads the project's
 * `.env`, and applies the environment overrides of docs/cli.md. Throws CONFIG_INVALID naming the
 * file and key, or CONFIG_NOT_FOUND for a missing --config file.
 */
export async function loadConfig(opts: LoadConfigOptions): Promise<LoadedConfig> {
  const { cosmiconfig, getDefaultSearchPlaces } = await import("cosmiconfig");
  const searchPlaces = [
    ...getDefaultSearchPlaces(MODULE),
    `${MODULE}.config.json`,
    `${MODULE}.config.yaml`,
    `${MODULE}.config.yml`,
  ];
  const explorer = cosmiconfig(MODULE, { searchStrategy: "project", searchPlaces, cache: false });
  let result: { config: unknown; filepath: string; isEmpty?: boolean } | null;
  const explicit = opts.configFile ? path.resolve(opts.cwd, opts.configFile) : undefined;
  try {
    if (explicit) {
      if (!existsSync(explicit)) {
        throw new AvsctlError("CONFIG_NOT_FOUND", `config file ${explicit} does not exist`, {
          hint: "check the --config path",
          details: { file: explicit },
        });
      }
      if (statSync(explicit).isDirectory()) {
        // pasted into the shell the user typed in, so relative to its directory, not --cwd
        const dir = path.relative(process.cwd(), explicit) || ".";
        throw new AvsctlError("CONFIG_NOT_FOUND", `${explicit} is a directory, not a config file`, {
          hint: `pass --config the file itself, or --cwd ${dir} to use the configuration found there`,
          details: { file: explicit },
        });
      }
      result = await explorer.load(explicit);
    } else {
      result = await explorer.search(opts.cwd);
    }
  } catch (error) {
    if (error instanceof AvsctlError) throw error;
    throw loadError(error, explicit);
  }

  const filepath = result?.filepath;
  const raw = result && !result.isEmpty ? unwrapDefault(result.config) : undefined;
  const { config, errors, warnings } =
    raw === undefined ? { config: defaultConfig(), errors: [], warnings: [] } : validateConfig(raw);
  const ignored = filepath && !explicit ? ignoredBeside(filepath, searchPlaces) : [];
  if (ignored.length > 0) {
    const named = (p: string) => (p === "package.json" ? `package.json's "${MODULE}" key` : p);
    warnings.unshift({
      path: path.relative(opts.cwd, filepath!) || filepath!,
      message: `${path.basename(filepath!) === "package.json" ? `its "${MODULE}" key is ` : ""}the configuration used; ignored beside it: ${ignored.map(named).join(", ")} (avsctl reads one config file, the first in the search order of docs/cli.md: merge them into it)`,
    });
  }
  if (errors.length > 0) {
    const first = errors[0]!;
    const where = filepath ? path.relative(opts.cwd, filepath) || filepath : "configuration";
    const key = first.path || "(root)";
    throw new AvsctlError("CONFIG_INVALID", `${where}: ${key}: ${first.message}`, {
      hint:
        errors.length > 1
          ? `${errors.length - 1} more problem(s): ${errors
              .slice(1)
              .map((e) => e.path)
              .join(", ")}`
          : undefined,
      details: { file: filepath, key: first.path, errors },
    });
  }

  const root = filepath ? path.dirname(filepath) : opts.cwd;
  const real = opts.env ?? process.env;
  const env = withDotEnv(root, real);
  const dotEnvNames = new Set(Object.keys(env).filter((name) => real[name] === undefined));
  const sources: Record<string, string> = {};
  if (filepath) sources.file = filepath;
  // What the file sets of the devnet's shape: `up` lets a saved devnet's shape stand over defaults.
  // An unknown key sets nothing (it is a warning), nor does a .js/.ts config's key left undefined.
  const devnet = (raw as { devnet?: Record<string, unknown> } | undefined)?.devnet;
  if (filepath && devnet && typeof devnet === "object")
    for (const key of DEVNET_KEYS) if (devnet[key] !== undefined) sources[`devnet.${key}`] = filepath;
  applyEnvOverrides(config, env, sources, dotEnvNames);
  return { config, filepath, root, env, sources, dotEnvNames, warnings };
}

/** Why a config file could not be read, with a hint that fits: a syntax error, no loader, or code that threw. */
function loadError(error: unknown, explicit: string | undefined): AvsctlError {
  const file = explicit ?? fileFromParseError(error) ?? "configuration file";
  const name = (error as { name?: unknown } | undefined)?.name;
  const noLoader = /No loader specified for extension "([^"]*)"/.exec(String((error as Error)?.message));
  if (noLoader) {
    return new AvsctlError("CONFIG_INVALID", `${file}: avsctl reads no "${noLoader[1]}" file`, {
      hint: "name the config file .json, .yaml, .yml, .js, .mjs, .cjs or .ts (a name without an extension is read as YAML or JSON)",
      details: { file },
      cause: error,
    });
  }
  const { reason, line, column } = parseProblem(error);
  if (name !== "SyntaxError" && name !== "YAMLException") {
    // a .js or .ts config is a program: it ran and threw (a missing import, its own throw)
    return new AvsctlError("CONFIG_INVALID", `${file}: loading it failed: ${reason}`, {
      hint: "the file's code threw this when avsctl ran it: fix the code (node runs it the same way)",
      details: { file },
      cause: error,
    });
  }
  return new AvsctlError("CONFIG_INVALID", `${file}: cannot be parsed: ${reason}`, {
    hint: "fix the syntax of the file at the place named",
    details: { file, ...(line === undefined ? {} : { line, column }) },
    cause: error,
  });
}

/**
 * The other config files in the directory of the one found: cosmiconfig takes the first of its
 * search places and says nothing of the rest, whose edits then have no effect.
 */
function ignoredBeside(filepath: string, searchPlaces: readonly string[]): string[] {
  const place = searchPlaces.find((p) => filepath.endsWith(`${path.sep}${p}`));
  if (!place) return [];
  const dir = filepath.slice(0, -(place.length + 1));
  return searchPlaces.filter((p) => {
    const file = path.join(dir, p);
    if (file === filepath || !existsSync(file) || statSync(file).isDirectory()) return false;
    const text = readFileSync(file, "utf8");
    if (p !== "package.json") return text.trim() !== "";
    try {
      return (JSON.parse(text) as Record<string, unknown> | null)?.[MODULE] !== undefined;
    } catch {
      return false;
    }
  });
}

/** ESM config files export default; cosmiconfig hands us the module namespace for some loaders. */
function unwrapDefault(value: unknown): unknown {
  if (value && typeof value === "object" && "default" in value && Object.keys(value).length === 1) {
    return (value as { default: unknown }).default;
  }
  return value;
}

/**
 * The parser's own words about a syntax error. cosmiconfig puts "JSON Error in <file>:" (or
 * YAML) on the first line and the parser's message, with its line and column, after it.
 */
function parseProblem(error: unknown): { reason: string; line?: number; column?: number } {
  const text = error instanceof Error ? error.message : String(error);
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  if (lines.length > 1 && /^(JSON|YAML) Error in .*:$/.test(lines[0]!)) lines.shift();
  const reason = lines[0] ?? text;
  // JSON.parse says "(line 1 column 14)", js-yaml "(2:9)"
  const at = /line (\d+),? column (\d+)/i.exec(reason) ?? /\((\d+):(\d+)\)/.exec(reason);
  return at ? { reason, line: Number(at[1]), column: Number(at[2]) } : { reason };
}

function fileFromParseError(error: unknown): string | undefined {
  if (error && typeof error === "object" && "filepath" in error)
    return String((error as { filepath: unknown }).filepath);
  const m = /(\/[^\s:]+\.(?:json|ya?ml|js|mjs|cjs|ts)|\.avsctlrc[^\s:]*)/.exec(
    String((error as Error)?.message ?? ""),
  );
  return m?.[1];
}

/** Reads `<root>/.env` without touching process.env; the real environment wins. */
export function withDotEnv(root: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const file = path.join(root, ".env");
  if (!existsSync(file)) return { ...env };
  const parsed = parseDotEnv(readFileSync(file, "utf8"), file);
  return { ...parsed, ...env };
}

/**
 * A small .env parser (KEY=value, quotes, comments, `export` prefix): enough, and no startup
 * cost. It reads a file as Node's util.parseEnv (and dotenv) do: a quoted value ends at its
 * closing quote, on the same line or a later one (a PEM key, a JSON document), and what follows
 * it (a `# comment`) is dropped; an unquoted value ends at `#` or the end of its line. Where
 * they would guess, it throws CONFIG_INVALID naming `file` and the line: a quote never closed,
 * or one closed lines later by a quote followed by more text (the opening quote of a later
 * value, or the `"` of a `\"`, which util.parseEnv takes for the closing quote).
 */
export function parseDotEnv(text: string, file = ".env"): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/.exec(lines[i]!);
    if (!m) continue;
    const key = m[1]!;
    const raw = m[2]!.trimStart();
    const quote = raw[0];
    if (quote !== '"' && quote !== "'" && quote !== "`") {
      out[key] = raw.replace(/#.*$/, "").trim();
      continue;
    }
    let value = raw.slice(1);
    let end = value.indexOf(quote);
    let last = i;
    while (end < 0 && last + 1 < lines.length) {
      const from = value.length + 1;
      value += `\n${lines[++last]}`;
      end = value.indexOf(quote, from);
    }
    const where = `${file}:${i + 1}: ${key}`;
    if (end < 0) {
      throw new AvsctlError(
        "CONFIG_INVALID",
        `${where}: the value opens a ${quote} quote that is never closed`,
        {
          hint: `end the value with ${quote}; a quoted value may span lines, up to its closing quote`,
          details: { file, line: i + 1, key },
        },
      );
    }
    const rest = value.slice(end + 1);
    if (last > i && !/^\s*(?:#.*)?$/.test(rest)) {
      const other = quote === "'" ? '"' : "'";
      throw new AvsctlError(
        "CONFIG_INVALID",
        `${where}: the value's ${quote} quote closes on line ${last + 1} with text after it (${rest.trim()}): a closing quote is missing, or the value holds a ${quote}`,
        {
          hint: `close the value with ${quote} where it ends; a value that holds ${quote} goes in ${other}..${other} quotes`,
          details: { file, line: i + 1, key },
        },
      );
    }
    value = value.slice(0, end);
    if (quote === '"') value = value.replace(/\\n/g, "\n");
    out[key] = value;
    i = last;
  }
  return out;
}

/** docs/cli.md: AVSCTL_* names win over the Othentic names, which win over the file. */
const OVERRIDES: ReadonlyArray<{ key: "rpcUrl" | "attestationCenter" | "keystore"; names: string[] }> = [
  { key: "rpcUrl", names: ["AVSCTL_RPC_URL", "L2_RPC"] },
  { key: "attestationCenter", names: ["AVSCTL_ATTESTATION_CENTER", "ATTESTATION_CENTER_ADDRESS"] },
  { key: "keystore", names: ["AVSCTL_KEYSTORE"] },
];

export function applyEnvOverrides(
  config: AvsctlConfig,
  env: NodeJS.ProcessEnv,
  sources: Record<string, string>,
  dotEnvNames: ReadonlySet<string> = new Set(),
): void {
  for (const { key, names } of OVERRIDES) {
    const name = names.find((n) => env[n] !== undefined && env[n] !== "");
    if (name) {
      config.network[key] = env[name];
      sources[`network.${key}`] = `${dotEnvNames.has(name) ? ".env" : "env"} ${name}`;
    }
  }
}

/** The signer key from the environment, by docs/cli.md precedence; never stored in the config. */
export function privateKeyFromEnv(env: NodeJS.ProcessEnv): { value: string; source: string } | undefined {
  for (const name of ["AVSCTL_PRIVATE_KEY", "PRIVATE_KEY_DEPLOYER", "PRIVATE_KEY"]) {
    const value = env[name];
    if (value) return { value, source: name };
  }
  return undefined;
}
