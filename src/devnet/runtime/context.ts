/**
 * Docker build contexts: a directory (honouring its `.dockerignore`) and/or individual files
 * (say, the anvil binary placed at `bin/anvil`), turned into tar entries plus a hash of
 * everything that goes into the build, so an unchanged image is not rebuilt.
 */
import { createHash } from "node:crypto";
import { createReadStream, lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { AvsctlError } from "../../errors.js";
import type { TarEntry } from "./tar.js";

/** Files above this size are fingerprinted by size, mtime and inode instead of hashed. */
const HASH_LIMIT_BYTES = 8 * 1024 * 1024;
const MAX_ENTRIES = 100_000;
const SMALL_FILE_BYTES = 1024 * 1024;

export interface ContextFile {
  /** Path inside the build context (`/`-separated). */
  path: string;
  /** An (empty) directory instead of a file; `mode` defaults to 0o755. */
  dir?: boolean;
  /** A host file to copy (its mode is kept unless `mode` is given)... */
  source?: string;
  /** ...or the contents. */
  content?: string | Buffer;
  mode?: number;
  /** Owner inside the archive (default root); `docker import` root filesystems use it. */
  uid?: number;
  gid?: number;
}

export interface BuildContextInput {
  /** A directory sent as the context, minus what its `.dockerignore` excludes. */
  dir?: string;
  /** Extra files, added after (and over) the directory's. */
  files?: ContextFile[];
  /** Dockerfile path inside the context: always sent, even when `.dockerignore` names it. */
  dockerfile?: string;
}

export interface PreparedContext {
  entries: TarEntry[];
  /** sha256 over paths, modes, link targets and file contents (plus `extra`). */
  hash: string;
  fileCount: number;
  bytes: number;
}

interface IgnoreRule {
  negate: boolean;
  regex: RegExp;
}

/** Convert one `.dockerignore` glob (Go `filepath.Match` plus `**`) to an anchored regex. */
function globToRegex(glob: string): RegExp {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i]!;
    if (char === "*") {
      if (glob[i + 1] === "*") {
        const slashAfter = glob[i + 2] === "/";
        source += slashAfter ? "(?:.*/)?" : ".*";
        i += slashAfter ? 2 : 1;
      } else source += "[^/]*";
    } else if (char === "?") source += "[^/]";
    else if (char === "[") {
      const end = glob.indexOf("]", i + 1);
      if (end === -1) source += "\\[";
      else {
        const body = glob
          .slice(i + 1, end)
          .replace(/^!/, "^")
          .replace(/\\/g, "\\\\");
        source += `[${body}]`;
        i = end;
      }
    } else if (char === "\\" && i + 1 < glob.length) {
      source += `\\${glob[i + 1]}`;
      i += 1;
    } else source += char.replace(/[.+^${}()|\\]/g, "\\$&");
  }
  return new RegExp(`^${source}$`);
}

/** Parse `.dockerignore` text into ordered rules (the last matching rule wins). */
export function parseDockerignore(text: string): IgnoreRule[] {
  const rules: IgnoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const negate = line.startsWith("!");
    if (negate) line = line.slice(1).trim();
    line = path.posix.normalize(line.replace(/^\/+/, "")).replace(/\/+$/, "");
    if (line === "." || line === "") continue;
    rules.push({ negate, regex: globToRegex(line) });
  }
  return rules;
}

/** Whether a context-relative path is excluded: a rule matching the path or any parent applies. */
export function isIgnored(relPath: string, rules: readonly IgnoreRule[]): boolean {
  let ignored = false;
  const parts = relPath.split("/");
  for (const rule of rules) {
    let matched = false;
    for (let depth = parts.length; depth >= 1 && !matched; depth--) {
      matched = rule.regex.test(parts.slice(0, depth).join("/"));
    }
    if (matched) ignored = !rule.negate;
  }
  return ignored;
}

async function fileDigest(file: string, size: number, ino: number, mtimeMs: number): Promise<string> {
  if (size > HASH_LIMIT_BYTES) return `stat:${size}:${ino}:${Math.floor(mtimeMs)}`;
  // A build context holds thousands of small files: one read each beats a stream each by 10x.
  if (size <= SMALL_FILE_BYTES) return createHash("sha256").update(readFileSync(file)).digest("hex");
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) hash.update(chunk);
  return hash.digest("hex");
}

async function walk(
  dir: string,
  rules: IgnoreRule[],
  keep: Set<string>,
  out: Map<string, TarEntry>,
  digests: Map<string, string>,
): Promise<void> {
  const canSkipDirs = !rules.some((rule) => rule.negate);
  const pending: string[] = [""];
  // Breadth-first over the tree, bounded by MAX_ENTRIES.
  while (pending.length > 0) {
    const rel = pending.shift()!;
    // Sync calls: a context has thousands of entries, and an awaited call each costs ten times
    // the call itself (most of a devnet image's cached check went to that).
    const names = readdirSync(path.join(dir, rel)).sort();
    for (const name of names) {
      const childRel = rel === "" ? name : `${rel}/${name}`;
      if (out.size >= MAX_ENTRIES) {
        throw new AvsctlError(
          "INVALID_ARGUMENT",
          `build context ${dir} has more than ${MAX_ENTRIES} entries`,
          {
            hint: "Add node_modules, build output and data directories to .dockerignore.",
          },
        );
      }
      const full = path.join(dir, childRel);
      const info = lstatSync(full);
      const ignored = isIgnored(childRel, rules) && !keep.has(childRel);
      if (info.isDirectory()) {
        if (ignored && canSkipDirs) continue;
        if (!ignored) out.set(childRel, { path: childRel, type: "dir", mode: info.mode & 0o7777 });
        pending.push(childRel);
        continue;
      }
      if (ignored) continue;
      // A file re-included by a `!` rule below an ignored directory still needs its parents.
      addParents(out, childRel);
      if (info.isSymbolicLink()) {
        out.set(childRel, { path: childRel, type: "symlink", mode: 0o777, linkname: readlinkSync(full) });
      } else if (info.isFile()) {
        out.set(childRel, {
          path: childRel,
          type: "file",
          mode: info.mode & 0o7777,
          source: full,
          size: info.size,
        });
        digests.set(childRel, await fileDigest(full, info.size, info.ino, info.mtimeMs));
      }
    }
  }
}

function addParents(out: Map<string, TarEntry>, relPath: string): void {
  const parts = relPath.split("/");
  for (let depth = 1; depth < parts.length; depth++) {
    const parent = parts.slice(0, depth).join("/");
    if (!out.has(parent)) out.set(parent, { path: parent, type: "dir", mode: 0o755 });
  }
}

function cleanContextPath(p: string): string {
  const cleaned = path.posix.normalize(p.replace(/\\/g, "/").replace(/^\/+/, ""));
  if (cleaned.startsWith("..") || cleaned === "." || cleaned === "") {
    throw new AvsctlError("INVALID_ARGUMENT", `build context path ${p} is outside the context`);
  }
  return cleaned;
}

/**
 * Collect the tar entries of a build context and hash them together with `extra` (build args,
 * labels, base image id: anything else that changes the result).
 */
export async function prepareContext(input: BuildContextInput, extra = ""): Promise<PreparedContext> {
  const out = new Map<string, TarEntry>();
  const digests = new Map<string, string>();
  if (input.dir !== undefined) {
    const dirInfo = await stat(input.dir).catch(() => null);
    if (!dirInfo?.isDirectory()) {
      throw new AvsctlError("INVALID_ARGUMENT", `build context ${input.dir} is not a directory`);
    }
    const ignoreText = await readFile(path.join(input.dir, ".dockerignore"), "utf8").catch(() => "");
    const keep = new Set([".dockerignore", cleanContextPath(input.dockerfile ?? "Dockerfile")]);
    await walk(input.dir, parseDockerignore(ignoreText), keep, out, digests);
  }
  for (const file of input.files ?? []) {
    const rel = cleanContextPath(file.path);
    addParents(out, rel);
    const owner = { uid: file.uid, gid: file.gid };
    if (file.dir) {
      out.set(rel, { path: rel, type: "dir", mode: file.mode ?? 0o755, ...owner });
    } else if (file.content !== undefined) {
      const content = typeof file.content === "string" ? Buffer.from(file.content, "utf8") : file.content;
      out.set(rel, { path: rel, type: "file", mode: file.mode ?? 0o644, content, ...owner });
      digests.set(rel, createHash("sha256").update(content).digest("hex"));
    } else if (file.source !== undefined) {
      const info = statSync(file.source, { throwIfNoEntry: false });
      if (!info?.isFile())
        throw new AvsctlError("INVALID_ARGUMENT", `build context file ${file.source} does not exist`);
      out.set(rel, {
        path: rel,
        type: "file",
        mode: file.mode ?? info.mode & 0o7777,
        source: file.source,
        size: info.size,
        ...owner,
      });
      digests.set(rel, await fileDigest(file.source, info.size, info.ino, info.mtimeMs));
    } else {
      throw new AvsctlError(
        "INVALID_ARGUMENT",
        `build context file ${file.path} has neither source nor content`,
      );
    }
  }
  const entries = [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const hash = createHash("sha256");
  let bytes = 0;
  let fileCount = 0;
  for (const entry of entries) {
    const owner = `${entry.uid ?? 0}:${entry.gid ?? 0}`;
    hash.update(
      `${entry.type}\0${entry.path}\0${entry.mode.toString(8)}\0${owner}\0${entry.linkname ?? ""}\0`,
    );
    hash.update(`${digests.get(entry.path) ?? ""}\n`);
    if (entry.type === "file") {
      fileCount += 1;
      bytes += entry.content?.length ?? entry.size ?? 0;
    }
  }
  hash.update(extra);
  return { entries, hash: hash.digest("hex"), fileCount, bytes };
}
