import path from "node:path";
import { quickstartProject } from "../../devnet/plan.js";
import type { RuntimeRequest } from "../../devnet/runtime/select.js";
import { publicState } from "../../devnet/state.js";
import { EXIT, invalidArgument } from "../../errors.js";
import { shellQuote } from "../../shell-quote.js";
import type { CommandContext } from "../context.js";
import { lockedDevnet } from "../devnet-lock.js";
import { withProgress } from "../progress.js";
import type { CommandResult } from "../runner.js";
import { renderState } from "./devnet.js";

interface QuickstartFlags {
  keep?: boolean;
  down?: boolean;
  runtime?: RuntimeRequest;
}

/** `avsctl quickstart` (src/quickstart/run.ts), rendered with what to run next. */
export async function quickstartCommand(ctx: CommandContext, flags: QuickstartFlags): Promise<CommandResult> {
  if (flags.keep && flags.down) throw invalidArgument("--down", "cannot be combined with --keep");
  const { runQuickstart } = await import("../../quickstart/run.js");
  // Held to the end: a second quickstart waits, then finds the devnet up (or `--down` done).
  const outcome = await lockedDevnet(ctx, quickstartProject(ctx.cwd).projectDir, "quickstart", () =>
    withProgress(ctx, "quickstart", (step) =>
      runQuickstart({
        root: ctx.cwd,
        runtime: flags.runtime ?? "auto",
        down: flags.down === true,
        progress: step,
      }),
    ),
  );
  const { projectDir, tornDown } = outcome;
  // `devnet down` in ctx.cwd stops this devnet too
  const cwdFlag = `--cwd ${shellQuote(path.relative(process.cwd(), projectDir) || ".")}`;
  // commands alone in --json (a script runs them), with what each does for humans
  const steps: Array<[command: string, what: string]> = tornDown
    ? [
        ["avsctl quickstart", "run it again"],
        ["avsctl init my-avs", "start your own AVS"],
      ]
    : [
        [`avsctl ${cwdFlag} task send --wait`, "fire another task"],
        [`avsctl ${cwdFlag} task send --count 100 --concurrency 10 --wait`, "a small load test"],
        [`avsctl ${cwdFlag} task list`, "every verdict on-chain"],
        [`avsctl ${cwdFlag} devnet status`, "health of each component"],
        [`avsctl ${cwdFlag} devnet down`, "stop everything"],
        ["avsctl init my-avs", "then: cd my-avs && avsctl devnet up"],
      ];
  const next = steps.map(([command]) => command);
  const width = Math.max(...next.map((c) => c.length));
  // Only --runtime can differ: the running quickstart devnet was kept as it is.
  const warnings = outcome.up.differences.map(
    (d) =>
      `${d.flag}: running ${d.running}, asked ${d.asked}; nothing changed. To switch, run \`avsctl ${cwdFlag} devnet down\` first`,
  );
  const data = {
    devnet: publicState(outcome.up.state),
    projectDir,
    taskDefinition: {
      taskDefinitionId: outcome.taskDefinition.taskDefinitionId,
      name: outcome.taskDefinition.name,
    },
    tasks: outcome.tasks,
    tornDown,
    next,
    ...(warnings.length > 0 ? { warnings } : {}),
  };
  return {
    data,
    exitCode: outcome.ok ? EXIT.OK : EXIT.FAILED,
    human: () =>
      [
        renderState(data.devnet),
        ...warnings.map((w) => `warning: ${w}`),
        "",
        `task definition ${data.taskDefinition.taskDefinitionId} "${data.taskDefinition.name}"`,
        ...outcome.tasks.flatMap((t) => [
          `task #${t.taskNumber ?? "?"}  ${t.status.toUpperCase()} (expected ${t.expected})`,
          `  proof      ${t.proofOfTask}`,
          `  performer  ${t.performer}`,
          `  attesters  ${t.attesters.map((a) => `${a.operatorId} ${a.name ?? ""}`.trim()).join(", ") || "-"}`,
          `  tx         ${t.txHash ?? "-"}  block ${t.block ?? "-"}  gas ${t.gasUsed ?? "-"}  ${t.latencyMs ?? "-"} ms`,
        ]),
        "",
        tornDown ? "devnet torn down (--down)" : "the devnet keeps running. Next:",
        ...steps.map(([command, what]) => `  ${command.padEnd(width)}   # ${what}`),
      ].join("\n"),
  };
}
