/**
 * The engine calls both halves of image handling share: looking an image up, following a
 * pull/import/build progress stream, and removing a superseded image. Kept apart so the base-image
 * and service-image modules depend on this one and not on each other.
 */
import createDebug from "debug";
import type Docker from "dockerode";

// One namespace for all image modules, as before the split, so existing DEBUG patterns still match.
const debug = createDebug("avsctl:devnet:runtime:images");

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

/** One event of the engine's JSON progress stream (pull, import or build). */
export interface ProgressEvent {
  stream?: string;
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
}

export function followStream(
  docker: Docker,
  stream: NodeJS.ReadableStream,
  onEvent: (event: ProgressEvent) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (error: Error | null) => (error ? reject(error) : resolve()),
      (event: object) => onEvent(event as ProgressEvent),
    );
  });
}

/** Runs a pull or an import to its end; the engine's error message when it failed. */
export async function streamFailure(
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

/** Removes an image a newer one replaced; never fails the operation over it. */
export async function removeImageQuietly(docker: Docker, id: string): Promise<void> {
  try {
    await docker.getImage(id).remove();
    debug("removed superseded image %s", id.slice(0, 19));
  } catch (error) {
    // Still used by a container or another tag: leave it to `docker image prune`.
    debug("kept superseded image %s: %s", id.slice(0, 19), (error as Error).message);
  }
}
