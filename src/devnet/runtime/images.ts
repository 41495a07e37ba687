/**
 * Images for the devnet, all built on this machine. Builds are skipped when an image with the
 * same tag already carries the content hash of the current inputs, which is what makes a warm
 * `devnet up` fast. The base image is configurable (config key or `AVSCTL_BASE_IMAGE`); by
 * default `node:24-slim` when it is present locally, else our own `avsctl/node-base:<major>`
 * imported from the running Node binary and the shared libraries it needs.
 */
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { realpath } from "node:fs/promises";
import path from "node:path";
import { promisify } from "node:util";
import createDebug from "debug";
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { type BuildContextInput, type ContextFile, prepareContext } from "./context.js";
import { LABEL_CONTENT_HASH, LABEL_IMAGE } from "./labels.js";
import { tarStream } from "./tar.js";

const debug = createDebug("avsctl:devnet:runtime:images");
const execFileAsync = promisify(execFile);

/** What real users build on when nothing else is configured and it is present (or pullable). */
export const OFFICIAL_BASE_IMAGE = "node:24-slim";
export const BASE_IMAGE_ENV = "AVSCTL_BASE_IMAGE";
const BUILD_LOG_TAIL = 30;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences start with ESC
const ANSI_ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/g;

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

function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 404;
}

/** The image's inspect data, or null when the engine does not have it. */
export async function inspectImage(docker: Docker, image: string): Promise<Docker.ImageInspectInfo | null> {
  try {
    return await docker.getImage(image).inspect();
  } catch (error) {
    if (isNotFound(error)) return null;
    throw error;
  }
}

function followStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (event: {
    stream?: string;
    status?: string;
    error?: string;
    errorDetail?: { message?: string };
  }) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve()),
      (event: object) => onEvent(event as Parameters<typeof onEvent>[0]),
    );
  });
}

/** Runs a pull or an import to its end; the engine's error message when it failed. */
async function streamFailure(
  docker: Docker,
  start: () => Promise<NodeJS.ReadableStream>,
): Promise<string | undefined> {
  let failure: string | undefined;
  try {
    await followStream(docker, await start(), (event) => {
      if (event.error) failure = event.errorDetail?.message ?? event.error;
    });
  } catch (error) {
    failure = (error as Error).message;
  }
  return failure;
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

async function removeImageQuietly(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getImage(id).remove();
    debug("removed superseded image %s", id.slice(0, 19));
  } catch (error) {
    // Still used by a container or another tag: leave it to `docker image prune`.
    debug("kept superseded image %s: %s", id.slice(0, 19), (error as Error).message);
  }
}

/**
 * Two builds of the same inputs at once (two commands, or test files, building one tag) both
 * commit an image; the one tagged first loses the tag to the other and is left untagged. The
 * build that ends last removes such copies (quietly: one a container still runs stays).
 */
async function removeLosingCopies(docker: Docker, hash: string, keep: string): Promise<void> {
  const copies = await docker
    .listImages({ filters: JSON.stringify({ dangling: ["true"], label: [`${LABEL_CONTENT_HASH}=${hash}`] }) })
    .catch(() => []);
  for (const copy of copies) if (copy.Id !== keep) await removeImageQuietly(docker, copy.Id);
}

/**
 * What the classic builder's output says of a build: the step it is at (`RUN npm ci`), the
 * images its steps committed (` ---> <id>` after a step that neither was a FROM nor came from
 * the cache), and the image each stage but the last ended with. A failed build leaves the
 * images it committed behind untagged, and a multi-stage build its earlier stages' images.
 */
export class BuildProgress {
  step: string | undefined;
  readonly created: string[] = [];
  /** The last image of each stage before the final one, in order. */
  readonly stageEnds: string[] = [];
  private fresh = false;
  private last: string | undefined;

  see(line: string): void {
    const step = /^Step \d+\/\d+ : (.*)$/.exec(line);
    if (step) {
      this.step = step[1]!.replace(/\s+/g, " ").trim();
      const from = /^FROM\s/i.test(this.step);
      if (from && this.last !== undefined) this.stageEnds.push(this.last);
      this.fresh = !from;
      return;
    }
    if (/^ ---> Using cache\s*$/.test(line)) {
      this.fresh = false;
      return;
    }
    const id = /^ ---> ([0-9a-f]{12,64})\s*$/.exec(line);
    if (!id) return;
    this.last = id[1]!;
    if (this.fresh) this.created.push(id[1]!);
    this.fresh = false;
  }
}

/**
 * Tags the image each earlier stage of a multi-stage build ended with `<tag>-stage<n>`, so it
 * is not left dangling and the next build still finds its steps (`go mod download`) in the
 * cache; the image that tag named before is removed when nothing else holds it.
 */
async function tagStages(docker: Docker, tag: string, stageEnds: readonly string[]): Promise<void> {
  const [repo, version = "latest"] = splitTag(tag);
  for (const [i, id] of stageEnds.entries()) {
    const info = await inspectImage(docker, id);
    // A stage that only names an image (`FROM x AS y`) ends with that image: nothing to keep.
    const tags = (info?.RepoTags ?? []).filter((t) => t !== "<none>:<none>");
    if (!info || tags.some((t) => !t.startsWith(`${repo}:${version}-stage`))) continue;
    const stageTag = `${version}-stage${i + 1}`;
    const before = await inspectImage(docker, `${repo}:${stageTag}`);
    await docker.getImage(info.Id).tag({ repo, tag: stageTag });
    if (before && before.Id !== info.Id) await removeImageQuietly(docker, before.Id);
  }
}

/** `repo[:tag]` split at the tag's colon (a registry's `host:port/` stays in the repo). */
function splitTag(image: string): [string, string | undefined] {
  const colon = image.lastIndexOf(":");
  return colon > image.lastIndexOf("/")
    ? [image.slice(0, colon), image.slice(colon + 1)]
    : [image, undefined];
}

/** Removes the images a failed build committed, newest first, leaving any that got a tag or a child. */
async function removeUntagged(docker: Docker, ids: readonly string[]): Promise<void> {
  for (const id of [...ids].reverse()) {
    const info = await inspectImage(docker, id).catch(() => null);
    if (!info || (info.RepoTags ?? []).some((tag) => tag !== "<none>:<none>")) continue;
    await docker
      .getImage(info.Id)
      .remove()
      .then(
        () => debug("removed %s, left by a failed build", id),
        (error: Error) => debug("kept %s: %s", id, error.message),
      );
  }
}

export interface BuildImageOptions extends BuildContextInput {
  /** `repo:tag` to build, e.g. `avsctl/my-avs-execution:dev`. */
  tag: string;
  buildArgs?: Record<string, string>;
  labels?: Record<string, string>;
  /** Value of the `dev.avsctl.image` label (what this image is: `node`, `chain`, `service`). */
  kind?: string;
  /**
   * Images whose id enters the content hash, so a changed base triggers a rebuild. Default:
   * the `BASE_IMAGE` build argument when there is one.
   */
  dependsOn?: string[];
  /** Build even when the content hash matches. */
  force?: boolean;
  /** Each line of build output, as it arrives. */
  onLog?: (line: string) => void;
  signal?: AbortSignal;
}

export interface BuiltImage {
  image: string;
  id: string;
  /** True when the existing image already matched the inputs and nothing was built. */
  cached: boolean;
  contentHash: string;
  durationMs: number;
}

function sortedEntries(record: Record<string, string> | undefined): [string, string][] {
  return Object.entries(record ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * Build an image from a directory and/or files through the engine's build API, skipping the
 * build when `tag` already carries the content hash of the same inputs. A failed build throws
 * DEVNET_START_FAILED with the tail of the build log in the hint and `details.buildLog`.
 *
 * @example
 * await buildImage(docker, { tag: "avsctl/demo:dev", dir: "./services/execution",
 *   buildArgs: { BASE_IMAGE: base.image } });
 */
export async function buildImage(docker: Docker, options: BuildImageOptions): Promise<BuiltImage> {
  const started = Date.now();
  const dockerfile = options.dockerfile ?? "Dockerfile";
  const dependsOn =
    options.dependsOn ?? (options.buildArgs?.BASE_IMAGE ? [options.buildArgs.BASE_IMAGE] : []);
  const dependencyIds: string[] = [];
  for (const image of dependsOn)
    dependencyIds.push((await inspectImage(docker, image))?.Id ?? `missing:${image}`);
  const extra = JSON.stringify({
    dockerfile,
    buildArgs: sortedEntries(options.buildArgs),
    labels: sortedEntries(options.labels),
    kind: options.kind ?? null,
    dependencyIds,
  });
  const context = await prepareContext({ dir: options.dir, files: options.files, dockerfile }, extra);
  if (!context.entries.some((entry) => entry.path === dockerfile)) {
    throw new AvsctlError("INVALID_ARGUMENT", `no ${dockerfile} in the build context of ${options.tag}`, {
      details: { image: options.tag, dir: options.dir ? path.resolve(options.dir) : null },
    });
  }
  const existing = await inspectImage(docker, options.tag);
  if (!options.force && existing?.Config?.Labels?.[LABEL_CONTENT_HASH] === context.hash) {
    debug("%s is up to date", options.tag);
    return {
      image: options.tag,
      id: existing.Id,
      cached: true,
      contentHash: context.hash,
      durationMs: Date.now() - started,
    };
  }
  const labels: Record<string, string> = { ...options.labels, [LABEL_CONTENT_HASH]: context.hash };
  if (options.kind !== undefined) labels[LABEL_IMAGE] = options.kind;
  const log: string[] = [];
  let failure: string | undefined;
  const progress = new BuildProgress();
  const remember = (text: string) => {
    // The builder colours a step's stderr; the log keeps the text.
    for (const line of text.replace(ANSI_ESCAPE, "").split("\n")) {
      if (line.trim() === "") continue;
      options.onLog?.(line);
      progress.see(line);
      log.push(line);
      if (log.length > BUILD_LOG_TAIL) log.shift();
    }
  };
  try {
    const stream = await docker.buildImage(tarStream(context.entries), {
      t: options.tag,
      dockerfile,
      buildargs: options.buildArgs ?? {},
      labels,
      rm: true,
      forcerm: true,
      abortSignal: options.signal,
    });
    await followStream(docker, stream, (event) => {
      if (event.stream) remember(event.stream);
      if (event.error) {
        failure = event.errorDetail?.message ?? event.error;
        remember(failure);
      }
    });
  } catch (error) {
    options.signal?.throwIfAborted();
    failure = (error as { json?: { message?: string } }).json?.message ?? (error as Error).message;
    remember(failure);
  }
  const built = failure === undefined ? await inspectImage(docker, options.tag) : null;
  if (!built || built.Config?.Labels?.[LABEL_CONTENT_HASH] !== context.hash) {
    await removeUntagged(docker, progress.created);
    throw new AvsctlError(
      "DEVNET_START_FAILED",
      `building image ${options.tag} failed: ${failure ?? "no image produced"}`,
      {
        hint: `Last lines of the build log:\n  ${log.join("\n  ")}`,
        details: { image: options.tag, buildLog: log, step: progress.step ?? null },
      },
    );
  }
  await tagStages(docker, options.tag, progress.stageEnds);
  if (existing && existing.Id !== built.Id) await removeImageQuietly(docker, existing.Id);
  await removeLosingCopies(docker, context.hash, built.Id);
  const durationMs = Date.now() - started;
  debug(
    "built %s in %d ms (%d files, %d KB context)",
    options.tag,
    durationMs,
    context.fileCount,
    context.bytes >> 10,
  );
  return { image: options.tag, id: built.Id, cached: false, contentHash: context.hash, durationMs };
}
