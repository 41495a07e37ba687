/** A container's output as lines (what is there, or followed as it comes), and what its waits watch. */
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { statusCode } from "./docker-util.js";
import { demuxDockerBuffer, demuxDockerStream, splitLines } from "./lines.js";
import type { WaitTarget } from "./wait.js";

/** The last `tail` lines of a container's output (all without `tail`). */
export async function readLogLines(
  container: Docker.Container,
  tail?: number,
  timestamps?: boolean,
): Promise<string[]> {
  const query: { stdout: true; stderr: true; follow: false; tail?: number; timestamps?: boolean } = {
    stdout: true,
    stderr: true,
    follow: false,
  };
  if (tail !== undefined) query.tail = tail;
  if (timestamps) query.timestamps = true;
  const buffer = (await container.logs(query)) as unknown as Buffer;
  return demuxDockerBuffer(Buffer.isBuffer(buffer) ? buffer : Buffer.from(String(buffer)));
}

/** New lines until `signal` aborts or the container stops (from `since`, or the last `tail`). */
export async function* followLines(
  container: Docker.Container,
  options: { since?: string; tail?: number; timestamps?: boolean; signal?: AbortSignal },
): AsyncGenerator<string> {
  const query: Record<string, unknown> = {
    stdout: true,
    stderr: true,
    follow: true,
    abortSignal: options.signal,
  };
  if (options.timestamps) query.timestamps = true;
  if (options.since !== undefined) query.since = options.since;
  if (options.tail !== undefined) query.tail = options.tail;
  let stream: NodeJS.ReadableStream;
  try {
    stream = (await container.logs(query as { follow: true })) as NodeJS.ReadableStream;
  } catch (error) {
    if (options.signal?.aborted) return;
    if (statusCode(error) === 404) return;
    throw error;
  }
  const onAbort = () => (stream as NodeJS.ReadableStream & { destroy?: () => void }).destroy?.();
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    yield* splitLines(demuxDockerStream(stream as AsyncIterable<Buffer>));
  } catch (error) {
    if (!options.signal?.aborted) throw error;
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    onAbort();
  }
}

/** What the wait strategies of a component watch: its published ports, output and exit. */
export function containerWaitTarget(
  container: Docker.Container,
  probeHost: string,
  component: string,
  ports: Record<string, number>,
  since: string | undefined,
): WaitTarget {
  return {
    component,
    host: probeHost,
    hostPort: (port) => {
      const mapped = ports[String(port)];
      if (mapped === undefined) {
        throw new AvsctlError(
          "INVALID_ARGUMENT",
          `wait strategy of ${component} uses port ${port}, which is not published`,
        );
      }
      return mapped;
    },
    logLines: (signal) => followLines(container, { since, signal }),
    exitReason: async () => {
      const info = await container.inspect().catch(() => null);
      if (!info) return "container is gone";
      // A start that crashes is restarted by the restart policy: still a failed start.
      if (info.State.Running && !info.State.Restarting) return null;
      return `exit code ${info.State.ExitCode}${info.State.OOMKilled ? ", out of memory" : ""}${info.State.Error ? `, ${info.State.Error}` : ""}`;
    },
    logTail: async (lines) => readLogLines(container, lines),
  };
}
