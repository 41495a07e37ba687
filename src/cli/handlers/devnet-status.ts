/** `avsctl devnet status`, and the devnet state as `up`, `status` and `quickstart` print it. */
import path from "node:path";
import { loadConfig } from "../../config/load.js";
import type { ComponentStatus } from "../../devnet/manage.js";
import { quickstartProject } from "../../devnet/plan.js";
import type { DevnetState } from "../../devnet/state.js";
import { publicState, readDevnetState } from "../../devnet/state.js";
import { AvsctlError, EXIT } from "../../errors.js";
import { shellQuote } from "../../shell-quote.js";
import type { CommandContext } from "../context.js";
import { table } from "../format.js";
import type { CommandResult } from "../runner.js";

/** A service's URL and, when the state says, where it runs: `http://127.0.0.1:4003 (docker)`. */
function service(s: Omit<DevnetState, "internal">, kind: "execution" | "validation"): string {
  const url = s.services[kind];
  if (!url) return "-";
  const where = s.serviceRuntimes?.[kind];
  return where ? `${url} (${where})` : url;
}

export function renderState(s: Omit<DevnetState, "internal">): string {
  const lines = [
    `devnet "${s.name}" (${s.runtime}) ${s.healthy ? "healthy" : "UNHEALTHY"}${s.startupMs ? `, started in ${(s.startupMs / 1000).toFixed(1)} s` : ""}`,
    `  L1 ${s.l1.chainId}  ${s.l1.rpcUrl}  AvsGovernance ${s.l1.avsGovernance}`,
    ...s.l2.map((l) => `  L2 ${l.chainId}  ${l.rpcUrl}  AttestationCenter ${l.attestationCenter}`),
    `  aggregator   ${s.aggregator.rpcUrl}  operator ${s.aggregator.operatorId}  ${s.aggregator.address}`,
    ...s.attesters.map((a) => `  ${a.name.padEnd(12)} operator ${a.operatorId}  ${a.address}`),
    `  performer    ${s.performer.address}`,
    `  services     execution ${service(s, "execution")}  validation ${service(s, "validation")}`,
    `  task definitions: ${s.taskDefinitions.map((t) => `${t.taskDefinitionId} ${t.name}`).join(", ")}${
      s.taskDefinitionsSavedAt !== undefined
        ? ` (not read now, the first L2 does not answer: as devnet up read them${s.taskDefinitionsSavedAt ? ` at ${s.taskDefinitionsSavedAt}` : ""})`
        : ""
    }`,
    ...(s.engine
      ? [`  task engine  ${s.engine.url}  executions sent as task definition ${s.engine.taskDefinitionId}`]
      : []),
  ];
  return lines.join("\n");
}

export async function devnetStatusCommand(ctx: CommandContext): Promise<CommandResult> {
  const loaded = await loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
  const { devnetStatus } = await import("../../devnet/manage.js");
  const status = await devnetStatus(loaded.root);
  if (!status.state) {
    const qs = quickstartProject(loaded.root).projectDir;
    const quickstartHint = readDevnetState(qs)
      ? `; the quickstart's devnet runs apart: \`avsctl --cwd ${shellQuote(path.relative(process.cwd(), qs) || ".")} devnet status\``
      : "";
    throw new AvsctlError("NO_DEVNET", `no devnet for the project in ${loaded.root}`, {
      hint: `start one with \`avsctl devnet up\`${quickstartHint}`,
    });
  }
  const data = {
    ...publicState(status.state),
    components: status.components,
    problems: status.problems,
    supervisor: status.supervisor ?? null,
    warnings: status.warnings,
  };
  const supervisor = status.supervisor;
  return {
    data,
    human: () =>
      [
        renderState(data),
        "",
        table(["COMPONENT", "STATE", "RESTARTS", "HEALTH"], status.components.map(componentRow)),
        ...(supervisor?.running ? [`supervisor: running (pid ${supervisor.pid})`] : []),
        ...status.warnings.map((w) => `warning: ${w}`),
      ].join("\n"),
    exitCode: status.state.healthy ? EXIT.OK : EXIT.FAILED,
  };
}

/** A component's line: a chain that answers but lost its contracts is running, yet DOWN. */
function componentRow(c: ComponentStatus): string[] {
  return [c.name, c.state, String(c.restarts), c.healthy ? "ok" : `DOWN: ${c.problems.join(", ")}`];
}
