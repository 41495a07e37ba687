/**
 * Images for the devnet, all built on this machine. Builds are skipped when an image with the
 * same tag already carries the content hash of the current inputs, which is what makes a warm
 * `devnet up` fast. The base image is configurable (config key or `AVSCTL_BASE_IMAGE`); by
 * default `node:24-slim` when it is present locally, else our own `avsctl/node-base:<major>`
 * imported from the running Node binary and the shared libraries it needs.
 *
 * This module builds service images and cleans up what builds leave behind; choosing and
 * importing the base image lives in base-image.ts and the shared engine calls in image-engine.ts,
 * which keeps each file small enough to read in one go.
 */
import path from "node:path";
import createDebug from "debug";
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { type BuildContextInput, prepareContext } from "./context.js";
import { followStream, inspectImage, removeImageQuietly } from "./image-engine.js";
import { LABEL_CONTENT_HASH, LABEL_IMAGE } from "./labels.js";
import { tarStream } from "./tar.js";

// Callers import the base-image API from here, as they did before it moved to its own module.
export {
  BASE_IMAGE_ENV,
  ensureImagePresent,
  ensureLocalBaseImage,
  type ImageRef,
  localBaseImageTag,
  OFFICIAL_BASE_IMAGE,
  resolveBaseImage,
} from "./base-image.js";
export { inspectImage } from "./image-engine.js";

const debug = createDebug("avsctl:devnet:runtime:images");
const BUILD_LOG_TAIL = 30;
// biome-ignore lint/suspicious/noControlCharactersInRegex: terminal escape sequences start with ESC
const ANSI_ESCAPE = /\u001b\[[0-9;]*[A-Za-z]/g;

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
