import { quickstartProject } from "../devnet/plan.js";
import type { RuntimeRequest } from "../devnet/runtime/select.js";
import type { UpResult } from "../devnet/up.js";
import type { TaskResult } from "../task/run.js";

export interface QuickstartOptions {
  /** The checkout the quickstart belongs to; its devnet lives in `<root>/.avsctl/quickstart`. */
  root: string;
  runtime: RuntimeRequest;
  /** Tear the devnet down at the end. */
  down: boolean;
  progress?: (message: string) => void;
}

export interface QuickstartTask extends TaskResult {
  expected: "approved" | "rejected";
  block: number | null;
  attesters: Array<{ operatorId: number; name: string | null; address: string | null }>;
}

export interface QuickstartOutcome {
  projectDir: string;
  up: UpResult;
  taskDefinition: { taskDefinitionId: number; name: string; created: boolean };
  tasks: QuickstartTask[];
  tornDown: boolean;
  /** Every task got the verdict it was meant to get. */
  ok: boolean;
}

const DEMO = "quickstart-demo";

/**
 * `avsctl quickstart`: the whole life cycle on an embedded default project (built-in sample
 * services), so a fresh clone shows a working AVS in seconds: devnet up, a task definition,
 * three tasks (two valid, one with a wrong proof), each verdict read back from the chain.
 */
export async function runQuickstart(opts: QuickstartOptions): Promise<QuickstartOutcome> {
  const step = opts.progress ?? (() => {});
  // A devnet name of its own per checkout (quickstart-<hash of the directory>), so two checkouts'
  // quickstarts run side by side.
  const { projectDir, config } = quickstartProject(opts.root);
  const { devnetUp } = await import("../devnet/up.js");
  const { sendTaskRpc } = await import("../client/send.js");
  const { buildTask } = await import("../devnet/samples/sample-rule.js");
  const { runTasks } = await import("../task/run.js");
  const { resolveProjectTarget } = await import("../devnet/target.js");
  const { withTaskDefSession } = await import("../task-def/session.js");
  const { createTaskDefinition } = await import("../task-def/create.js");
  const { parseTaskDefinitionInput } = await import("../task-def/params.js");

  const up = await devnetUp({ config, projectDir, flags: { runtime: opts.runtime }, progress: step });
  const state = up.state;
  step(`creating task definition "${DEMO}"`);
  const taskDefinition = await withTaskDefSession(
    {
      project: { root: projectDir, config },
      abi: "auto",
      allowDevKeys: false,
      signer: () => ({ privateKey: { value: state.deployer.privateKey, source: "devnet deployer" } }),
    },
    async (s) => {
      const existing = (await s.client.list()).find((d) => d.name === DEMO);
      if (existing)
        return { taskDefinitionId: existing.taskDefinitionId, name: existing.name, created: false };
      const input = parseTaskDefinitionInput({
        name: DEMO,
        rewardAttesters: "0.001eth",
        rewardPerformer: "0.002eth",
      });
      const created = await createTaskDefinition(s.client, await s.signer(), input);
      return { taskDefinitionId: created.taskDefinitionId, name: created.name, created: true };
    },
  );

  step("sending 3 tasks: two valid, one with a wrong proof (the sample validation service rejects it)");
  const target = await resolveProjectTarget({ projectDir, config });
  let tasks: QuickstartTask[];
  try {
    // Unique data per run: a task hash can be submitted only once (MessageAlreadySigned).
    const run = new Date().toISOString();
    const id = taskDefinition.taskDefinitionId;
    const inputs = [
      buildTask({ data: `hello avs ${run}`, taskDefinitionId: id }),
      buildTask({ data: `second task ${run}`, taskDefinitionId: id }),
      buildTask({ data: `tampered ${run}`, proof: "0xnot-the-digest", taskDefinitionId: id }),
    ];
    const summary = await runTasks({
      count: inputs.length,
      concurrency: 1,
      wait: true,
      timeoutMs: 60_000,
      chainId: target.chainId,
      provider: target.provider,
      attestationCenter: target.attestationCenter,
      sendOne: (i) =>
        sendTaskRpc(inputs[i]!, {
          aggregatorUrl: state.aggregator.rpcUrl,
          performerKey: state.performer.privateKey,
          sigType: "ecdsa",
        }),
    });
    const byId = new Map(state.attesters.map((a) => [a.operatorId, a]));
    tasks = await Promise.all(
      summary.results.map(async (r, i) => {
        const receipt = r.txHash ? await target.provider.getTransactionReceipt(r.txHash) : null;
        return {
          ...r,
          expected: i < 2 ? ("approved" as const) : ("rejected" as const),
          block: receipt?.blockNumber ?? null,
          attesters: r.attestersIds.map((operatorId) => ({
            operatorId,
            name: byId.get(operatorId)?.name ?? null,
            address: byId.get(operatorId)?.address ?? null,
          })),
        };
      }),
    );
  } finally {
    target.provider.destroy();
  }

  if (opts.down) {
    const { devnetDown } = await import("../devnet/manage.js");
    // The quickstart's devnet is a demo: nothing of it is worth keeping for a later `up`.
    await devnetDown(projectDir, config, { volumes: true });
  }
  return {
    projectDir,
    up,
    taskDefinition,
    tasks,
    tornDown: opts.down,
    ok: tasks.every((t) => t.status === t.expected),
  };
}
