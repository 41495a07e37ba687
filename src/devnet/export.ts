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
import type { ExportFormat, ExportOptions, ExportResult } from "./export/types.js";

export { type BootstrapResult, bootstrapDevnet } from "./export/bootstrap.js";
export { renderCompose, renderKubernetes } from "./export/render.js";
export { buildTopology } from "./export/topology.js";
export {
  EXPORT_HOST_PORTS,
  type ExportFormat,
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
  const content = format === "compose" ? renderCompose(topology) : renderKubernetes(topology);
  if (file) {
    try {
      writeFileSync(file, content, { mode: 0o600 });
    } catch (error) {
      throw invalidArgument("--output", `cannot write ${file}: ${(error as Error).message}`);
    }
  }
  return { format, path: file, content };
}
