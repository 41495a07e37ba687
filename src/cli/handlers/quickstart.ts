import path from "node:path";
import { quickstartProject } from "../../devnet/plan.js";
import { publicState } from "../../devnet/state.js";
import { EXIT, invalidArgument } from "../../errors.js";
import { shellQuote } from "../../shell-quote.js";
import type { CommandContext } from "../context.js";
import { withProgress } from "../progress.js";
import type { CommandResult } from "../runner.js";
import { renderState } from "./devnet.js";

interface QuickstartFlags {
  keep?: boolean;
  down?: boolean;
  runtime?: string;
}

/**
 * `avsctl quickstart`: the whole life cycle on an embedded default project (built-in sample
 * services), so a fresh clone shows a working AVS in seconds: devnet up, a task definition,
 * three tasks (two valid, one with a wrong proof), each verdict read back from the chain.
 */
export async function quickstartCommand(ctx: CommandContext, flags: QuickstartFlags): Promise<CommandResult> {
  if (flags.keep && flags.down) throw invalidArgument("--down", "cannot be combined with --keep");
  // A devnet name of its own per checkout (quickstart-<hash of the directory>), so two checkouts'
  // quickstarts run side by side; `devnet down` in ctx.cwd stops this one too.
  const { projectDir, config } = quickstartProject(ctx.cwd);
  const cwdFlag = `--cwd ${shellQuote(path.relative(process.cwd(), projectDir) || ".")}`;

  const { devnetUp } = await import("../../devnet/up.js");
  const { sendTaskRpc } = await import("../../client/send.js");
  const { buildTask } = await import("../../devnet/samples/sample-rule.js");
  const { runTasks } = await import("../../task/run.js");
  const { connectRpc } = await import("../../chain/rpc.js");

  const outcome = await withProgress(ctx, "quickstart", async (step) => {
    const up = await devnetUp({
      config,
      projectDir,
      flags: { runtime: flags.runtime ?? "auto" },
      progress: step,
    });
    const state = up.state;
    const l2 = state.l2[0]!;
    const { provider, chainId } = await connectRpc(l2.rpcUrl);
    try {
      step('creating task definition "quickstart-demo"');
      const { Wallet } = await import("ethers");
      const { TaskDefClient, createTaskDefinition, parseTaskDefinitionInput } = await import(
        "../../task-def/task-defs.js"
      );
      const { detectGeneration } = await import("../../chain/generation.js");
      const target = {
        rpcUrl: l2.rpcUrl,
        chainId,
        attestationCenter: l2.attestationCenter as `0x${string}`,
        provider,
        devnet: state,
        devnetChainIds: [chainId],
      };
      const client = await TaskDefClient.open(target, await detectGeneration(provider, l2.attestationCenter));
      const existing = (await client.list()).find((d) => d.name === "quickstart-demo");
      const taskDefinition = existing
        ? { taskDefinitionId: existing.taskDefinitionId, name: existing.name, created: false }
        : {
            ...(await createTaskDefinition(
              client,
              new Wallet(state.deployer.privateKey, provider),
              parseTaskDefinitionInput({
                name: "quickstart-demo",
                rewardAttesters: "0.001eth",
                rewardPerformer: "0.002eth",
              }),
            )),
            created: true,
          };

      step("sending 3 tasks: two valid, one with a wrong proof (the sample validation service rejects it)");
      // Unique data per run: a task hash can be submitted only once (MessageAlreadySigned).
      const run = new Date().toISOString();
      const inputs = [
        buildTask({ data: `hello avs ${run}`, taskDefinitionId: taskDefinition.taskDefinitionId }),
        buildTask({ data: `second task ${run}`, taskDefinitionId: taskDefinition.taskDefinitionId }),
        buildTask({
          data: `tampered ${run}`,
          proof: "0xnot-the-digest",
          taskDefinitionId: taskDefinition.taskDefinitionId,
        }),
      ];
      const summary = await runTasks({
        count: inputs.length,
        concurrency: 1,
        wait: true,
        timeoutMs: 60_000,
        chainId,
        provider,
        attestationCenter: l2.attestationCenter,
        sendOne: (i) =>
          sendTaskRpc(inputs[i]!, {
            aggregatorUrl: state.aggregator.rpcUrl,
            performerKey: state.performer.privateKey,
            sigType: "ecdsa",
          }),
      });
      const byId = new Map(state.attesters.map((a) => [a.operatorId, a]));
      const tasks = await Promise.all(
        summary.results.map(async (r, i) => {
          const receipt = r.txHash ? await provider.getTransactionReceipt(r.txHash) : null;
          return {
            ...r,
            expected: i < 2 ? "approved" : "rejected",
            block: receipt?.blockNumber ?? null,
            attesters: r.attestersIds.map((id) => ({
              operatorId: id,
              name: byId.get(id)?.name ?? null,
              address: byId.get(id)?.address ?? null,
            })),
          };
        }),
      );
      return { up, taskDefinition, tasks };
    } finally {
      provider.destroy();
    }
  });

  let tornDown = false;
  if (flags.down) {
    const { devnetDown } = await import("../../devnet/manage.js");
    await devnetDown(projectDir);
    tornDown = true;
  }
  const next = tornDown
    ? ["avsctl quickstart            # run it again", "avsctl init my-avs           # start your own AVS"]
    : [
        `avsctl ${cwdFlag} task send --wait             # fire another task`,
        `avsctl ${cwdFlag} task send --count 100 --concurrency 10 --wait   # a small load test`,
        `avsctl ${cwdFlag} task list                    # every verdict on-chain`,
        `avsctl ${cwdFlag} devnet status                # health of each component`,
        `avsctl ${cwdFlag} devnet down                  # stop everything`,
        "avsctl init my-avs                                 # then: cd my-avs && avsctl devnet up",
      ];
  const ok = outcome.tasks.every((t) => t.status === t.expected);
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
    exitCode: ok ? EXIT.OK : EXIT.FAILED,
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
        ...next.map((n) => `  ${n}`),
      ].join("\n"),
  };
}
