import createDebug from "debug";
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import { LABEL_COMPONENT, LABEL_PORTS, LABEL_PROJECT } from "./labels.js";
import type { ComponentInfo, ComponentState } from "./types.js";

const debug = createDebug("avsctl:devnet:runtime:docker");

/** Seconds a container gets between SIGTERM and SIGKILL unless its spec says otherwise. */
export const DEFAULT_STOP_TIMEOUT_SEC = 5;

export function statusCode(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

export function engineMessage(error: unknown): string {
  const json = (error as { json?: { message?: string } }).json;
  return json?.message ?? (error as Error).message ?? String(error);
}

export function toState(value: string | undefined): ComponentState {
  switch (value) {
    case "running":
    case "created":
    case "restarting":
    case "paused":
    case "exited":
    case "dead":
      return value;
    case "removing":
      return "dead";
    default:
      return "exited";
  }
}

export function parseJsonLabel<T>(value: string | undefined, fallback: T): T {
  if (value === undefined) return fallback;
  try {
    return JSON.parse(value) as T;
  } catch {
    return fallback;
  }
}

/** Engine time as Docker's `since` parameter (seconds with fraction), rounded down to the ms. */
export function sinceParam(isoTime: string | undefined): string | undefined {
  const ms = isoTime ? Date.parse(isoTime) : Number.NaN;
  if (!Number.isFinite(ms) || ms <= 0) return undefined;
  return (Math.floor(ms) / 1000).toFixed(3);
}

/** A component as its container's inspection shows it (missing when there is none). */
export function componentInfo(component: string, info: Docker.ContainerInspectInfo | null): ComponentInfo {
  if (!info) return { component, runtime: "docker", id: "", ports: {}, state: "missing", running: false };
  const state = toState(info.State?.Status);
  const result: ComponentInfo = {
    component,
    runtime: "docker",
    id: info.Id,
    ports: parseJsonLabel<Record<string, number>>(info.Config?.Labels?.[LABEL_PORTS], {}),
    state,
    running: info.State?.Running === true,
  };
  if (info.State?.StartedAt && !info.State.StartedAt.startsWith("0001"))
    result.startedAt = info.State.StartedAt;
  if (!result.running && info.State?.ExitCode !== undefined) result.exitCode = info.State.ExitCode;
  result.restarts = info.RestartCount ?? 0;
  return result;
}

/** Removes a container; gone or being removed already is fine. */
export async function removeQuietly(container: Docker.Container): Promise<void> {
  try {
    await container.remove({ force: true, v: true });
  } catch (error) {
    if (statusCode(error) !== 404 && statusCode(error) !== 409)
      debug("remove failed: %s", engineMessage(error));
  }
}

/** Never touch a container that merely has our naming scheme but not our labels. */
export function assertOurs(project: string, component: string, info: Docker.ContainerInspectInfo): void {
  if (info.Config?.Labels?.[LABEL_PROJECT] === project) return;
  throw new AvsctlError(
    "DEVNET_START_FAILED",
    `container ${info.Name.replace(/^\//, "")} exists but is not managed by avsctl`,
    {
      hint: "Remove or rename that container yourself, or rename the project.",
      details: { component, container: info.Id },
    },
  );
}

/** A component as the container list shows it. */
export function listedInfo(container: Docker.ContainerInfo): ComponentInfo {
  return {
    component: container.Labels[LABEL_COMPONENT] ?? container.Names[0]?.replace(/^\//, "") ?? container.Id,
    runtime: "docker",
    id: container.Id,
    ports: parseJsonLabel<Record<string, number>>(container.Labels[LABEL_PORTS], {}),
    state: toState(container.State),
    running: container.State === "running",
  };
}

/**
 * Why a created container did not start: "retry" when a host port chosen free was taken
 * meanwhile (and `mayRetry`), PORT_IN_USE when a pinned one is taken, else DEVNET_START_FAILED.
 */
export function startFailure(
  component: string,
  error: unknown,
  ports: Record<string, number>,
  auto: ReadonlySet<number>,
  mayRetry: boolean,
): AvsctlError | "retry" {
  const message = engineMessage(error);
  if (/address already in use|port is already allocated/i.test(message)) {
    const pinned = Object.values(ports).filter((port) => !auto.has(port));
    if (pinned.length === 0 && mayRetry) {
      debug("%s: port race on start (%s)", component, message);
      return "retry";
    }
    return new AvsctlError("PORT_IN_USE", `cannot start ${component}: ${message}`, {
      hint: "Free the port or leave it unset so a free one is chosen.",
      details: { component, ports },
      cause: error,
    });
  }
  return new AvsctlError("DEVNET_START_FAILED", `cannot start ${component}: ${message}`, {
    details: { component },
    cause: error,
  });
}
