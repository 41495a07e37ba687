/**
 * `--runtime auto|docker|process`: which runtime a devnet uses, and why (the CLI says so).
 * Docker is loaded only when it is asked about, so choosing `process` never imports dockerode.
 */
import type Docker from "dockerode";
import { AvsctlError } from "../../errors.js";
import type { RuntimeKind } from "./types.js";

export type RuntimeRequest = "auto" | RuntimeKind;

export interface RuntimeChoice {
  kind: RuntimeKind;
  /** One sentence for the user: "Docker 20.10.24 answers at unix:///var/run/docker.sock". */
  reason: string;
  /** The connected client when `kind` is docker. */
  docker?: Docker;
}

/**
 * Decide the runtime. `docker` fails with DOCKER_UNAVAILABLE (exit 4) when no engine answers;
 * `auto` falls back to processes and says why.
 *
 * @example const { kind, reason } = await chooseRuntime("auto");
 */
export async function chooseRuntime(
  requested: RuntimeRequest,
  options: { pingTimeoutMs?: number } = {},
): Promise<RuntimeChoice> {
  if (requested === "process") return { kind: "process", reason: "--runtime process" };
  const { dockerClient, pingDocker } = await import("../docker-engine.js");
  const ping = await pingDocker(options.pingTimeoutMs);
  if (ping.ok) {
    const how = requested === "docker" ? "--runtime docker" : "auto";
    return {
      kind: "docker",
      reason: `${how}: Docker ${ping.serverVersion} answers at ${ping.host}`,
      docker: dockerClient(),
    };
  }
  if (requested === "docker") {
    throw new AvsctlError("DOCKER_UNAVAILABLE", `Docker engine not reachable: ${ping.reason}`, {
      hint: ping.hint,
      details: { dockerHost: ping.host },
    });
  }
  return {
    kind: "process",
    reason: `auto: no Docker engine (${ping.reason}); running components as processes`,
  };
}
