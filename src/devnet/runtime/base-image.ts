/**
 * The base image the devnet's images build on. Resolution prefers what the user configured, then
 * the official Node image when it is already local, and only then imports our own
 * `avsctl/node-base:<major>` from the running Node binary, so a machine without network access to
 * Docker Hub still gets a working devnet.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { realpath } from "node:fs/promises";
import { promisify } from "node:util";
import createDebug from "debug";
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { type ContextFile, prepareContext } from "./context.js";
import { inspectImage, removeImageQuietly, streamFailure } from "./image-engine.js";
import { LABEL_CONTENT_HASH, LABEL_IMAGE } from "./labels.js";
import { tarStream } from "./tar.js";

// Same namespace as the rest of image handling, so existing DEBUG patterns still match.
const debug = createDebug("avsctl:devnet:runtime:images");
const execFileAsync = promisify(execFile);

/** What real users build on when nothing else is configured and it is present (or pullable). */
export const OFFICIAL_BASE_IMAGE = "node:24-slim";
export const BASE_IMAGE_ENV = "AVSCTL_BASE_IMAGE";

/** `avsctl/node-base:<major of the running Node>`, e.g. `avsctl/node-base:24`. */
export function localBaseImageTag(): string {
  return `avsctl/node-base:${process.versions.node.split(".")[0]}`;
}

export interface ImageRef {
  /** Name to use in `FROM` / container create. */
  image: string;
  id: string;
  /** configured: from option/env; official: node:24-slim found locally; built/cached: our local base. */
  source: "configured" | "official" | "built" | "cached";
}

/**
 * Make sure `image` is present, pulling it when it is not. Fails with DEVNET_START_FAILED and
 * advice when it can be neither found nor pulled.
 */
export async function ensureImagePresent(
  docker: Docker,
  image: string,
  signal?: AbortSignal,
): Promise<string> {
  const found = await inspectImage(docker, image);
  if (found) return found.Id;
  debug("pulling %s", image);
  const failure = await streamFailure(
    docker,
    async () => (await docker.pull(image, { abortSignal: signal } as object)) as NodeJS.ReadableStream,
  );
  const pulled = failure === undefined ? await inspectImage(docker, image) : null;
  if (!pulled) {
    throw new AvsctlError(
      "DEVNET_START_FAILED",
      `image ${image} is not present and could not be pulled: ${failure}`,
      {
        hint: `Pull or build ${image} yourself, or unset ${BASE_IMAGE_ENV} so avsctl builds its own base image.`,
        details: { image },
      },
    );
  }
  return pulled.Id;
}

async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await execFileAsync("ldd", [binary], { timeout: 10_000 });
  const libraries: string[] = [];
  for (const line of stdout.split("\n")) {
    // `libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)` or `/lib64/ld-linux-x86-64.so.2 (0x...)`
    const match = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (match?.[1]) libraries.push(match[1]);
  }
  return libraries;
}

async function rootfsFiles(nodeBinary: string): Promise<ContextFile[]> {
  const files: ContextFile[] = [
    { path: "tmp", dir: true, mode: 0o1777 },
    { path: "var/tmp", dir: true, mode: 0o1777 },
    { path: "root", dir: true, mode: 0o700 },
    { path: "home/node", dir: true, mode: 0o755, uid: 1000, gid: 1000 },
    { path: "app", dir: true, mode: 0o755 },
    { path: "usr/local/bin/node", source: await realpath(nodeBinary), mode: 0o755 },
    { path: "etc/passwd", content: "root:x:0:0:root:/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n" },
    { path: "etc/group", content: "root:x:0:\nnode:x:1000:\n" },
    { path: "etc/nsswitch.conf", content: "hosts: files dns\n" },
  ];
  const binaries = [nodeBinary];
  // A shell and `env` make `RUN` lines, shell-form `CMD` and `#!/usr/bin/env node` scripts work.
  for (const [inImage, onHost] of [
    ["bin/sh", "/bin/sh"],
    ["usr/bin/env", "/usr/bin/env"],
  ] as const) {
    if (existsSync(onHost)) {
      files.push({ path: inImage, source: await realpath(onHost), mode: 0o755 });
      binaries.push(onHost);
    }
  }
  const seen = new Set<string>();
  for (const binary of binaries) {
    for (const library of await sharedLibraries(binary)) {
      if (seen.has(library)) continue;
      seen.add(library);
      files.push({ path: library.replace(/^\//, ""), source: await realpath(library), mode: 0o755 });
    }
  }
  const certificates = "/etc/ssl/certs/ca-certificates.crt";
  if (existsSync(certificates))
    files.push({ path: certificates.slice(1), source: await realpath(certificates) });
  return files;
}

/**
 * Build (or reuse) `avsctl/node-base:<major>` with `docker import`: a root filesystem holding the
 * running Node binary, the libraries `ldd` lists, /bin/sh, CA certificates, a `node` user and
 * /tmp. Needs a Linux host whose architecture matches the engine's.
 */
export async function ensureLocalBaseImage(
  docker: Docker,
  options: { nodeBinary?: string; signal?: AbortSignal } = {},
): Promise<ImageRef> {
  const tag = localBaseImageTag();
  const nodeBinary = options.nodeBinary ?? process.execPath;
  if (process.platform !== "linux") {
    throw new AvsctlError("DEVNET_START_FAILED", `cannot build ${tag} on ${process.platform}`, {
      hint: `Set ${BASE_IMAGE_ENV}=${OFFICIAL_BASE_IMAGE} (pulled from Docker Hub) or another Node 24 image.`,
    });
  }
  const started = Date.now();
  let files: ContextFile[];
  try {
    files = await rootfsFiles(nodeBinary);
  } catch (error) {
    throw new AvsctlError(
      "DEVNET_START_FAILED",
      `cannot collect the files of ${tag}: ${(error as Error).message}`,
      {
        hint: `Set ${BASE_IMAGE_ENV}=${OFFICIAL_BASE_IMAGE} to use the official Node image instead.`,
        cause: error,
      },
    );
  }
  const context = await prepareContext({ files }, `base-image:v1:${process.version}`);
  const existing = await inspectImage(docker, tag);
  if (existing?.Config?.Labels?.[LABEL_CONTENT_HASH] === context.hash) {
    debug("%s is up to date (%d ms)", tag, Date.now() - started);
    return { image: tag, id: existing.Id, source: "cached" };
  }
  const [repo, version] = tag.split(":") as [string, string];
  const changes = [
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    `ENV NODE_VERSION=${process.versions.node}`,
    `LABEL ${LABEL_IMAGE}=base`,
    `LABEL ${LABEL_CONTENT_HASH}=${context.hash}`,
    'CMD ["node"]',
  ];
  const failure = await streamFailure(
    docker,
    async () =>
      (await docker.importImage(tarStream(context.entries), {
        repo,
        tag: version,
        changes,
        abortSignal: options.signal,
      })) as NodeJS.ReadableStream,
  );
  const imported = failure === undefined ? await inspectImage(docker, tag) : null;
  if (!imported) {
    throw new AvsctlError("DEVNET_START_FAILED", `importing ${tag} failed: ${failure}`, {
      hint: `Set ${BASE_IMAGE_ENV}=${OFFICIAL_BASE_IMAGE} to use the official Node image instead.`,
    });
  }
  if (existing && existing.Id !== imported.Id) await removeImageQuietly(docker, existing.Id);
  debug(
    "imported %s (%d files, %d MB) in %d ms",
    tag,
    context.fileCount,
    context.bytes >> 20,
    Date.now() - started,
  );
  return { image: tag, id: imported.Id, source: "built" };
}

/**
 * The base image the devnet builds on: `options.image` (the config key), else
 * `AVSCTL_BASE_IMAGE`, else `node:24-slim` when present locally, else our local base image.
 * A configured image that is missing is pulled.
 */
export async function resolveBaseImage(
  docker: Docker,
  options: { image?: string; nodeBinary?: string; signal?: AbortSignal } = {},
): Promise<ImageRef> {
  const configured = options.image ?? (process.env[BASE_IMAGE_ENV] || undefined);
  if (configured !== undefined && configured !== localBaseImageTag()) {
    const id = await ensureImagePresent(docker, configured, options.signal);
    return { image: configured, id, source: "configured" };
  }
  if (configured === undefined) {
    const official = await inspectImage(docker, OFFICIAL_BASE_IMAGE);
    if (official) return { image: OFFICIAL_BASE_IMAGE, id: official.Id, source: "official" };
  }
  return ensureLocalBaseImage(docker, options);
}
