/**
 * `devnet export --format compose|k8s`: the devnet's topology for teams that outgrow one
 * machine. The same components as `devnet up` in Docker (the same image, commands, Othentic
 * environment names and container ports), plus a one-shot `bootstrap` job that does what `up`
 * does from the host: deploy, register, create the task definitions. On fresh chains the
 * contract addresses depend only on the deployer key, so the bootstrap job checks that it got
 * the addresses the nodes were given.
 */
import { writeFileSync } from "node:fs";
import path from "node:path";
import { invalidArgument } from "../errors.js";
import { renderCompose, renderKubernetes } from "./export/render.js";
import { buildTopology } from "./export/topology.js";
import type { ExportFormat, ExportImage, ExportOptions, ExportResult } from "./export/types.js";

export { type BootstrapResult, bootstrapDevnet } from "./export/bootstrap.js";
export { renderCompose, renderKubernetes } from "./export/render.js";
export { buildTopology } from "./export/topology.js";
export {
  EXPORT_HOST_PORTS,
  type ExportFormat,
  type ExportImage,
  type ExportOptions,
  type ExportResult,
  type Topology,
  type TopologyComponent,
} from "./export/types.js";

/**
 * `devnet export`: the topology as Compose or Kubernetes YAML, written to `output` when given.
 *
 * @example const { content } = await exportDevnet({ config, projectDir, format: "compose" });
 */
export async function exportDevnet(opts: ExportOptions): Promise<ExportResult> {
  if (opts.format !== "compose" && opts.format !== "k8s") {
    throw invalidArgument("--format", `expected compose or k8s, got "${opts.format}"`);
  }
  const format = opts.format as ExportFormat;
  const file = opts.output ? path.resolve(opts.cwd ?? process.cwd(), opts.output) : null;
  const topology = await buildTopology(
    opts.config,
    opts.projectDir,
    file ? path.dirname(file) : opts.projectDir,
  );
  topology.imageStatus =
    format === "compose"
      ? await ensureComposeImage(topology.image, opts)
      : { tag: topology.image, status: "not-built" };
  const content = format === "compose" ? renderCompose(topology) : renderKubernetes(topology);
  if (file) {
    try {
      writeFileSync(file, content, { mode: 0o600 });
    } catch (error) {
      throw invalidArgument("--output", `cannot write ${file}: ${(error as Error).message}`);
    }
  }
  return { format, path: file, content, image: topology.imageStatus };
}

/**
 * A Compose file runs on this machine's engine, where no registry has the devnet image: the
 * export builds it (or finds it cached) as `devnet up --runtime docker` does, so `up` of the
 * file works at once. Without an engine the file is still written, and says the image is missing.
 */
async function ensureComposeImage(tag: string, opts: ExportOptions): Promise<ExportImage> {
  const { dockerClient, pingDocker } = await import("./docker-engine.js");
  const ping = await pingDocker();
  if (!ping.ok) return { tag, status: "missing", reason: `no Docker engine: ${ping.reason}` };
  const docker = dockerClient();
  const { ensureDevnetImage } = await import("./image.js");
  opts.progress?.("building the devnet image (cached after the first run)");
  const built = await ensureDevnetImage(docker, {
    baseImage: opts.config.devnet.baseImage,
    signal: opts.signal,
  });
  opts.progress?.(
    `devnet image ${built.image} ${built.cached ? "(cached)" : `built in ${built.durationMs} ms`}`,
  );
  return { tag: built.image, status: built.cached ? "cached" : "built" };
}
