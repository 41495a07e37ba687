/**
 * The Docker engine connection. dockerode's defaults already read `DOCKER_HOST` (unix socket,
 * `tcp://` with `DOCKER_TLS_VERIFY`/`DOCKER_CERT_PATH`, `ssh://user@host`), so a remote engine
 * works without any avsctl setting; this module only adds a bounded ping and errors that say
 * what to do.
 */
import createDebug from "debug";
import Docker from "dockerode";
import { AvsctlError } from "../errors.js";

const debug = createDebug("avsctl:devnet:docker-engine");

export const DEFAULT_PING_TIMEOUT_MS = 3_000;

/** Where the client will connect, for messages: `unix:///var/run/docker.sock`, `tcp://...`. */
export function describeDockerHost(): string {
  return process.env.DOCKER_HOST ?? "unix:///var/run/docker.sock";
}

const START_HINT =
  "Start a Docker engine (Docker Desktop; `sudo systemctl start docker`; or `sudo dockerd &`), " +
  "or point DOCKER_HOST at one (unix://, tcp://, ssh://). Without Docker, use `--runtime process`.";

/**
 * A dockerode client for the engine `DOCKER_HOST` names (default: the local unix socket).
 * Throws DOCKER_UNAVAILABLE when `DOCKER_HOST` cannot be parsed.
 *
 * @example const docker = dockerClient(); await docker.ping();
 */
export function dockerClient(options?: Docker.DockerOptions): Docker {
  try {
    return new Docker(options);
  } catch (error) {
    throw new AvsctlError(
      "DOCKER_UNAVAILABLE",
      `cannot use DOCKER_HOST=${describeDockerHost()}: ${(error as Error).message}`,
      {
        hint: "Set DOCKER_HOST to unix:///path/docker.sock, tcp://host:2375 or ssh://user@host, or unset it.",
        cause: error,
      },
    );
  }
}

export type PingResult =
  | { ok: true; host: string; serverVersion: string; apiVersion: string; os: string }
  | { ok: false; host: string; reason: string; hint: string };

function explain(error: unknown, timeoutMs: number): { reason: string; hint: string } {
  const code = (error as { code?: string }).code;
  const host = describeDockerHost();
  switch (code) {
    case "ENOENT":
      return { reason: `no Docker engine socket (${host})`, hint: START_HINT };
    case "EACCES":
    case "EPERM":
      return {
        reason: `permission denied on ${host}`,
        hint: "Add your user to the `docker` group (then log in again), or run a rootless engine.",
      };
    case "ECONNREFUSED":
      return { reason: `connection refused by ${host}`, hint: START_HINT };
    case "TIMEOUT":
      return { reason: `${host} did not answer within ${timeoutMs} ms`, hint: START_HINT };
    default:
      return { reason: `${host}: ${(error as Error).message ?? String(error)}`, hint: START_HINT };
  }
}

/**
 * Ask the engine for its version, bounded by `timeoutMs`. Never throws.
 *
 * @example const ping = await pingDocker(2000); if (!ping.ok) console.error(ping.reason);
 */
export async function pingDocker(
  timeoutMs: number = DEFAULT_PING_TIMEOUT_MS,
  docker?: Docker,
): Promise<PingResult> {
  const host = describeDockerHost();
  let client: Docker;
  try {
    client = docker ?? dockerClient();
  } catch (error) {
    return {
      ok: false,
      host,
      reason: (error as Error).message,
      hint: (error as AvsctlError).hint ?? START_HINT,
    };
  }
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(Object.assign(new Error("timeout"), { code: "TIMEOUT" }));
    }, timeoutMs);
  });
  try {
    // The race also covers transports (ssh) that ignore the abort signal.
    // dockerode accepts an abort signal here although its typings do not say so.
    const versionWithOptions = client.version.bind(client) as unknown as (options: {
      abortSignal: AbortSignal;
    }) => Promise<Docker.DockerVersion>;
    const version = await Promise.race([versionWithOptions({ abortSignal: controller.signal }), timeout]);
    debug("engine %s answers: %s (API %s)", host, version.Version, version.ApiVersion);
    return {
      ok: true,
      host,
      serverVersion: version.Version,
      apiVersion: version.ApiVersion,
      os: `${version.Os}/${version.Arch}`,
    };
  } catch (error) {
    const { reason, hint } = explain(error, timeoutMs);
    debug("engine %s does not answer: %s", host, reason);
    return { ok: false, host, reason, hint };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A client whose engine answered a ping; DOCKER_UNAVAILABLE (exit 4) with advice otherwise.
 */
export async function requireDocker(timeoutMs: number = DEFAULT_PING_TIMEOUT_MS): Promise<Docker> {
  const docker = dockerClient();
  const ping = await pingDocker(timeoutMs, docker);
  if (!ping.ok) {
    throw new AvsctlError("DOCKER_UNAVAILABLE", `Docker engine not reachable: ${ping.reason}`, {
      hint: ping.hint,
      details: { dockerHost: ping.host },
    });
  }
  return docker;
}
