import { pastableUrl } from "../chain/json-rpc.js";
import { CHAIN_REQUEST_TIMEOUT_MS } from "../chain/rpc.js";
import { normalizePrivateKey } from "../chain/signer.js";
import type { ChainTarget } from "../chain/target.js";
import {
  checkTaskDefinitionExists,
  executionInput,
  executionSends,
  expiredDefinitionHint,
  type PreparedTask,
  prepareTask,
  refusalReason,
  type SendSite,
  type SignatureType,
  sendPrepared,
  TASK_DEF_TARGET_PLACEHOLDER,
} from "../client/send.js";
import type { LoadedConfig } from "../config/load.js";
import type { RecordedPlan } from "../devnet/plan.js";
import { buildTask } from "../devnet/samples/sample-rule.js";
import { type DevnetState, readDevnetState } from "../devnet/state.js";
import { resolveProjectTarget } from "../devnet/target.js";
import { AvsctlError, invalidArgument, isAvsctlError } from "../errors.js";
import { shellQuote } from "../shell-quote.js";
import { type LoadSummary, runTasks } from "./run.js";

/** `task send`, typed: every value already checked where its flag is declared. */
export interface SendTasksOptions {
  project: Pick<LoadedConfig, "root" | "config" | "env"> & Partial<Pick<LoadedConfig, "sources">>;
  taskDefinitionId: number;
  via?: "rpc" | "execution";
  proof?: string;
  data?: string;
  sigType?: SignatureType;
  targetChain?: number;
  /** An aggregator's JSON-RPC URL instead of the devnet's. */
  aggregator?: string;
  wait: boolean;
  timeoutMs: number;
  count: number;
  concurrency: number;
  rate?: number;
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

/**
 * Which path a send takes: the project's own execution service when the devnet runs one and no
 * raw-proof flag asks otherwise, so a project's first task is checked by its own rules.
 */
export function choosePath(
  opts: Pick<SendTasksOptions, "via" | "aggregator" | "proof" | "sigType">,
  executionUrl: string | null | undefined,
): "rpc" | "execution" {
  if (opts.via) return opts.via;
  if (opts.aggregator !== undefined || opts.proof !== undefined || opts.sigType !== undefined) return "rpc";
  return executionUrl ? "execution" : "rpc";
}

/**
 * The performer's key: the project's PRIVATE_KEY_PERFORMER, then AVSCTL_PRIVATE_KEY, then the
 * devnet's performer. `||`: a `.env` copied from .env.example holds empty values, which mean
 * "not set".
 */
export function performerKeyOf(env: NodeJS.ProcessEnv, devnetPerformerKey: string | undefined): string {
  // checked here, where its source is known: a malformed key reaching ethers came back as an
  // internal error quoting the key
  if (env.PRIVATE_KEY_PERFORMER)
    return normalizePrivateKey(env.PRIVATE_KEY_PERFORMER, "PRIVATE_KEY_PERFORMER");
  if (env.AVSCTL_PRIVATE_KEY) return normalizePrivateKey(env.AVSCTL_PRIVATE_KEY, "AVSCTL_PRIVATE_KEY");
  if (devnetPerformerKey) return devnetPerformerKey;
  throw new AvsctlError("MISSING_ARGUMENT", "no performer key", {
    hint: "set PRIVATE_KEY_PERFORMER (or AVSCTL_PRIVATE_KEY)",
    details: { argument: "PRIVATE_KEY_PERFORMER" },
  });
}

/** Where tasks go and where verdicts are read: the devnet, or --aggregator plus a configured L2. */
async function sendContext(opts: SendTasksOptions) {
  const { project, targetChain } = opts;
  const devnet = readDevnetState(project.root);
  if (!devnet && !opts.aggregator) {
    throw new AvsctlError("NO_DEVNET", "no devnet is running for this project", {
      hint: "start one with `avsctl devnet up`, or pass --aggregator <url> (and set PRIVATE_KEY_PERFORMER)",
    });
  }
  const aggregatorUrl = opts.aggregator ?? devnet!.aggregator.rpcUrl;
  const performerKey = performerKeyOf(project.env, devnet?.performer.privateKey);
  let target: ChainTarget | undefined;
  const onDevnet = devnet !== undefined && !opts.aggregator;
  if (onDevnet && targetChain !== undefined && !devnet.l2.some((l) => l.chainId === targetChain)) {
    throw invalidArgument(
      "--target-chain",
      `the devnet has no L2 with chain id ${targetChain} (it has ${devnet.l2.map((l) => l.chainId).join(", ")})`,
    );
  }
  const network = project.config.network;
  if (!devnet && opts.wait && network.rpcUrl === undefined && network.attestationCenter === undefined) {
    // verdicts are read on the L2: without one --wait could only send and never see the verdict
    throw new AvsctlError(
      "NO_DEVNET",
      "--wait reads the verdict on the L2, and no devnet is running and no L2 is set (L2_RPC or AVSCTL_RPC_URL, with ATTESTATION_CENTER_ADDRESS or AVSCTL_ATTESTATION_CENTER); nothing was sent",
      {
        hint: "set L2_RPC and ATTESTATION_CENTER_ADDRESS to the aggregator's L2 and its AttestationCenter, or send without --wait",
        details: { argument: "L2_RPC" },
      },
    );
  }
  if (onDevnet || opts.wait) {
    target = await resolveProjectTarget({
      projectDir: project.root,
      config: project.config,
      sources: project.sources,
      chainId: targetChain,
      chainFlag: "--target-chain",
      // a chain that stops answering must not hold the command past --timeout
      requestTimeoutMs: Math.min(CHAIN_REQUEST_TIMEOUT_MS, opts.timeoutMs),
    });
  }
  return { devnet, aggregatorUrl, performerKey, target, site: sendSite(opts, target) };
}

/**
 * Off the devnet, hints name what reaches the user's network: the target flags of task-def with
 * the L2 and AttestationCenter the user set (the ones --wait resolved, else the configured ones).
 */
function sendSite(opts: SendTasksOptions, target: ChainTarget | undefined): SendSite {
  if (opts.aggregator === undefined) return {};
  const network = opts.project.config.network;
  const rpcUrl = target?.rpcUrl ?? network.rpcUrl;
  const ac = target?.attestationCenter ?? network.attestationCenter;
  const taskDefTarget =
    rpcUrl === undefined || ac === undefined
      ? TASK_DEF_TARGET_PLACEHOLDER
      : `--rpc-url ${pastableUrl(rpcUrl, "<l2-url>")} --attestation-center ${shellQuote(ac)}${opts.targetChain === undefined || target ? "" : ` --chain-id ${opts.targetChain}`}`;
  return { aggregator: opts.aggregator, taskDefTarget };
}

/**
 * Sends `count` tasks (as the performer over JSON-RPC, or through the devnet's execution
 * service) and, with `wait`, follows each to its verdict on-chain. A single task that could
 * not be sent at all throws its error.
 */
export async function sendTasks(opts: SendTasksOptions): Promise<LoadSummary> {
  if (opts.via === "execution" && (opts.proof !== undefined || opts.sigType !== undefined)) {
    throw invalidArgument(
      "--via",
      "with --via execution the execution service builds and signs the proof (drop --proof/--sig-type)",
    );
  }
  if (opts.via === "execution" && opts.aggregator !== undefined) {
    // the devnet's execution service sends to the devnet's aggregator, never to --aggregator
    throw invalidArgument(
      "--via",
      "--via execution goes through the devnet's execution service, which sends to the devnet's aggregator, not to --aggregator",
      "drop --via execution: with --aggregator avsctl signs as the performer and sends itself (--via rpc); an execution service of your own takes POST /task/execute",
    );
  }
  const sc = await sendContext(opts);
  try {
    const chainId = sc.target?.chainId ?? opts.targetChain ?? 0;
    const via = choosePath(opts, opts.aggregator ? undefined : sc.devnet?.services.execution);
    if (via === "execution" && !sc.devnet?.services.execution) {
      throw invalidArgument(
        "--via",
        "the devnet runs no execution service",
        "start the devnet with services (without --no-services), or use --via rpc",
      );
    }
    const { Wallet } = await import("ethers");
    const performer = new Wallet(sc.performerKey).address;
    if (via === "execution" && sc.target) {
      await checkTaskDefinitionExists(sc.target, performer, opts.taskDefinitionId);
    }
    const target = {
      aggregatorUrl: sc.aggregatorUrl,
      performerKey: sc.performerKey,
      sigType: opts.sigType ?? "ecdsa",
      targetChainId: opts.targetChain,
    };
    const viaService =
      via === "execution"
        ? executionSends(
            sc.devnet!.services.execution!,
            executionInput(opts.taskDefinitionId, opts.data, opts.targetChain),
            performer,
            sc.aggregatorUrl,
            sc.site,
          )
        : undefined;
    // Built and signed once per index: every retry of a send repeats that very task (one hash),
    // so no retry can make a second one.
    const prepared = new Map<number, Promise<PreparedTask>>();
    const signed = new Map<number, PreparedTask>();
    const preparedFor = (i: number): Promise<PreparedTask> => {
      let p = prepared.get(i);
      if (!p) {
        p = prepareTask(
          buildTask({ proof: opts.proof, data: opts.data, taskDefinitionId: opts.taskDefinitionId }),
          target,
        ).then((task) => {
          signed.set(i, task);
          return task;
        });
        prepared.set(i, p);
      }
      return p;
    };
    const summary = await runTasks({
      count: opts.count,
      concurrency: opts.concurrency,
      rate: opts.rate,
      wait: opts.wait,
      timeoutMs: opts.timeoutMs,
      chainId,
      provider: sc.target?.provider,
      attestationCenter: sc.target?.attestationCenter,
      aggregatorUrl: sc.aggregatorUrl,
      // The execution service builds a new task on each call: only a refusal may be sent again,
      // or the task it handed back (signed, sent, unanswered), as that very task.
      idempotent: viaService ? (i) => viaService.signedTask(i) !== undefined : true,
      sameTaskCause:
        via === "execution"
          ? "the execution service built the same task for the same input"
          : opts.proof !== undefined || opts.data !== undefined
            ? `the ${[opts.proof !== undefined ? "--proof" : "", opts.data !== undefined ? "--data" : ""].filter(Boolean).join(" and ")} given made every task the same`
            : "avsctl's sample tasks came out the same",
      sendOne: async (i, left) =>
        viaService
          ? viaService.sendOne(i, left)
          : sendPrepared(await preparedFor(i), sc.aggregatorUrl, Math.min(15_000, left), sc.site),
      // The execution service builds the proof itself: a send it failed names the definition and
      // performer, or the task it handed back.
      taskOf: (i) => {
        const task = signed.get(i) ?? viaService?.signedTask(i);
        return task
          ? {
              taskHash: task.taskHash,
              taskDefinitionId: task.taskDefinitionId,
              proofOfTask: task.proofOfTask,
              performer: task.performer,
            }
          : { taskDefinitionId: opts.taskDefinitionId, ...(via === "execution" ? { performer } : {}) };
      },
      onProgress: opts.onProgress,
      signal: opts.signal,
      l2DownHint: l2DownHint(sc.target, "send again once it answers"),
    });
    if (summary.l2Unanswered) throw l2Unanswered(summary, opts, sc.target);
    const validation = (sc.devnet?.internal?.plan as RecordedPlan | undefined)?.services?.validation;
    if (via === "rpc" && opts.proof === undefined && summary.rejected > 0 && !opts.aggregator) {
      // the verdict is the chain's; what it owes to the proof avsctl made up is ours to say
      if (validation !== undefined && validation !== "sample" && validation !== "none")
        summary.warnings.push(
          "with --via rpc and no --proof, a task's proof is avsctl's sample proof (the SHA-256 of its data), which only the devnet's sample validation service accepts; this devnet validates with the project's own service, which rejected it. Pass --proof, or send with --via execution so that the project's execution service builds the proof",
        );
    }
    // A task that was sent and failed on the aggregator's side is a result; one never sent, an error.
    if (opts.count === 1 && summary.sent === 0 && summary.results[0]!.status === "failed") {
      throw (
        summary.errors[0] ??
        new AvsctlError("COMMAND_FAILED", summary.results[0]!.error ?? "sending the task failed")
      );
    }
    return summary;
  } catch (error) {
    const named = await expiredDefinitionNamed(error, sc.target, sc.site, opts.taskDefinitionId);
    throw sc.devnet && !opts.aggregator && sc.target
      ? definitionsPerChain(named, sc.devnet, sc.target.chainId)
      : named;
  } finally {
    sc.target?.provider.destroy();
  }
}

/** Where to look when the L2 that --wait reads does not answer: the devnet's status, or what gave its URL. */
function l2DownHint(target: ChainTarget | undefined, then: string): string {
  const check =
    target?.rpcFrom === undefined
      ? "`avsctl devnet status` shows whether the L2 runs"
      : `check that the node ${target.rpcFrom} points at runs`;
  return `${check}; ${then}`;
}

/**
 * RPC_UNREACHABLE for a wait the L2 left without an answer until --timeout: what was sent and
 * decided, and the tasks still undecided, which the aggregator took and may have decided since.
 */
function l2Unanswered(summary: LoadSummary, opts: SendTasksOptions, target: ChainTarget | undefined) {
  const { error, undecided } = summary.l2Unanswered!;
  const decided = summary.approved + summary.rejected;
  const within = `within --timeout (${Math.round(opts.timeoutMs / 100) / 10} s)`;
  // off the devnet `task status` and `task list` read the L2 the user set
  const setting = opts.aggregator === undefined ? "" : " (with L2_RPC and ATTESTATION_CENTER_ADDRESS set)";
  const details = {
    sent: summary.sent,
    decided,
    undecided: undecided.length,
    taskHashes: undecided.slice(0, 100),
  };
  if (opts.count === 1) {
    const hash = undecided[0]!;
    return new AvsctlError(
      "RPC_UNREACHABLE",
      `the L2 stopped answering while task ${hash} waited for its verdict, and did not answer again ${within}; the aggregator took the task and may have decided it`,
      {
        hint: l2DownHint(
          target,
          `once it answers, \`avsctl task status ${hash}\` shows the task's verdict${setting}`,
        ),
        details,
        cause: error,
      },
    );
  }
  return new AvsctlError(
    "RPC_UNREACHABLE",
    `the L2 stopped answering while task send waited for verdicts, and did not answer again ${within}: ${decided} of the ${summary.sent} task(s) sent have their verdict, ${undecided.length} are undecided and may still be decided on-chain`,
    {
      hint: l2DownHint(
        target,
        `once it answers, \`avsctl task list\` shows the verdicts that landed${setting}`,
      ),
      details,
      cause: error,
    },
  );
}

/**
 * An expired definition's refusal, its hint naming the definition's own name (read from the L2's
 * TaskDefinitionCreated events), so the `task-def create` it prints works when pasted.
 */
async function expiredDefinitionNamed(
  error: unknown,
  target: ChainTarget | undefined,
  site: SendSite,
  taskDefinitionId: number,
): Promise<unknown> {
  if (!target || !isAvsctlError(error) || refusalReason(error) !== "TASK_DEFINITION_EXPIRED") return error;
  const { chainTaskDefinitions } = await import("../devnet/status-checks.js");
  const definitions = await chainTaskDefinitions(target.rpcUrl, target.attestationCenter).catch(() => []);
  const name = definitions.find((d) => d.taskDefinitionId === taskDefinitionId)?.name;
  if (name === undefined) return error;
  return new AvsctlError(error.code, error.message, {
    hint: expiredDefinitionHint(String(taskDefinitionId), name, site),
    details: error.details,
    cause: error,
  });
}

/**
 * Task definitions are per L2, and `task-def list` shows the first L2's: on a devnet with
 * several, a definition unknown here may be another L2's. The hint says how to see and reach those.
 */
function definitionsPerChain(error: unknown, devnet: DevnetState, chainId: number): unknown {
  if (!isAvsctlError(error) || error.code !== "TASK_DEF_NOT_FOUND" || devnet.l2.length < 2) return error;
  const others = devnet.l2.map((l) => l.chainId).filter((id) => id !== chainId);
  const elsewhere =
    others.length === 1
      ? `\`avsctl task-def list --chain-id ${others[0]}\` shows chain ${others[0]}'s, and --target-chain ${others[0]} sends there`
      : `\`avsctl task-def list --chain-id <id>\` shows those of chain ${others.join(", ")}, and --target-chain <id> sends there`;
  return new AvsctlError(error.code, error.message, {
    hint: `task definitions are per L2 and this one was looked up on chain ${chainId}: ${elsewhere}`,
    details: error.details,
    cause: error,
  });
}
