import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import type Docker from "dockerode";
import { anvilBinaryPath } from "../chain/anvil-command.js";
import { packageRoot } from "../chain/artifacts.js";
import { rootHash } from "./plan.js";
import type { ContextFile } from "./runtime/context.js";

export const DEVNET_IMAGE_REPO = "avsctl/devnet";

const DOCKERFILE = `ARG BASE_IMAGE
FROM \${BASE_IMAGE}
COPY app /app
COPY anvil /usr/local/bin/anvil
ENV AVSCTL_ANVIL_BIN=/usr/local/bin/anvil NODE_ENV=production
WORKDIR /app
`;

/** Dev-only or separately copied packages that never go into the image. */
const SKIP_PACKAGES = new Set(["@foundry-rs/anvil"]);

/**
 * The production dependency closure of the installed avsctl package: only what the nodes and
 * sample services need at run time (no TypeScript, test runner, linter or solc).
 */
export function runtimePackageDirs(root: string): string[] {
  const dirs = new Set<string>();
  const visit = (name: string, from: string) => {
    if (SKIP_PACKAGES.has(name)) return;
    // Node's resolution: the nearest node_modules/<name> walking up from the dependent.
    let dir = from;
    for (;;) {
      const candidate = path.join(dir, "node_modules", name);
      if (existsSync(path.join(candidate, "package.json"))) {
        if (dirs.has(candidate)) return;
        dirs.add(candidate);
        const pkg = JSON.parse(readFileSync(path.join(candidate, "package.json"), "utf8"));
        for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies }))
          visit(dep, candidate);
        return;
      }
      if (dir === root || path.dirname(dir) === dir) return; // optional dependency not installed
      dir = path.dirname(dir);
    }
  };
  const pkg = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8"));
  for (const dep of Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies })) visit(dep, root);
  return [...dirs].sort();
}

function walk(dir: string, into: string, out: ContextFile[], skipNested: boolean): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    const rel = `${into}/${entry.name}`;
    if (entry.isDirectory()) {
      // nested node_modules are visited as packages of their own by runtimePackageDirs
      if (skipNested && entry.name === "node_modules") continue;
      walk(full, rel, out, skipNested);
    } else if (entry.isFile()) {
      out.push({ path: rel, source: full, mode: statSync(full).mode & 0o777 });
    }
  }
}

/** The build context: avsctl's bin, dist, artifacts and runtime node_modules, plus anvil. */
export function devnetImageFiles(root = packageRoot()): ContextFile[] {
  const files: ContextFile[] = [{ path: "Dockerfile", content: DOCKERFILE }];
  files.push({ path: "app/package.json", source: path.join(root, "package.json") });
  for (const dir of ["bin", "dist", "artifacts"]) {
    const full = path.join(root, dir);
    if (existsSync(full)) walk(full, `app/${dir}`, files, false);
  }
  for (const dir of runtimePackageDirs(root)) {
    walk(dir, `app/${path.relative(root, dir).split(path.sep).join("/")}`, files, true);
  }
  files.push({ path: "anvil", source: anvilBinaryPath(), mode: 0o755 });
  return files;
}

/**
 * `avsctl/devnet:<version>-<hash of the package's path>`: the tag of the devnet image of the
 * installed avsctl package. Two checkouts of one version hold different builds: with one tag
 * each `up` would rebuild over the other's image.
 */
export function devnetImageTag(root = packageRoot()): string {
  const version = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")).version as string;
  return `${DEVNET_IMAGE_REPO}:${version}-${rootHash(root)}`;
}

/** Builds (or finds cached) the one image every devnet component runs: nodes, chains, samples. */
export async function ensureDevnetImage(
  docker: Docker,
  opts: { baseImage?: string; signal?: AbortSignal; onLog?: (line: string) => void },
): Promise<{ image: string; baseImage: string; cached: boolean; durationMs: number }> {
  const { resolveBaseImage, buildImage } = await import("./runtime/images.js");
  const base = await resolveBaseImage(docker, { image: opts.baseImage, signal: opts.signal });
  const built = await buildImage(docker, {
    tag: devnetImageTag(),
    files: devnetImageFiles(),
    buildArgs: { BASE_IMAGE: base.image },
    kind: "devnet",
    signal: opts.signal,
    onLog: opts.onLog,
  });
  return { image: built.image, baseImage: base.image, cached: built.cached, durationMs: built.durationMs };
}
