import { parseRpcList, pickRpcUrl } from "../../chain/endpoint-lists.js";
import { connectRpc } from "../../chain/rpc.js";
import { normalizePrivateKey } from "../../chain/signer.js";
import { connectDevnetRpc, devnetChainIdsOf } from "../../chain/target.js";
import { type LoadedConfig, privateKeyFromEnv } from "../../config/load.js";
import { type DevnetState, readDevnetState } from "../../devnet/state.js";
import { EXIT, invalidArgument } from "../../errors.js";
import { loadSigner } from "../../keys/signer.js";
import {
  chainUse,
  type ExecutionRecord,
  type ExecutionStep,
  loadWorkflow,
  maskRecord,
  readInputsFile,
  runWorkflow,
  secretsInCode,
  type ValidationResult,
  type Workflow,
  type WorkflowChain,
  type WorkflowProblem,
} from "../../workflow/index.js";
import type { CommandContext } from "../context.js";
import type { CommandResult } from "../runner.js";
import { configVarNames } from "./config-vars.js";
import { signerSpec } from "./signer-flags.js";

interface ExecuteFlags {
  input?: string[];
  inputs?: string;
  secret?: string[];
  triggerData?: unknown;
  rpcUrl?: string;
  privateKey?: string;
  keystore?: string;
  passwordStdin?: boolean;
  allowDevKeys?: boolean;
  from?: `0x${string}`;
  concurrency: number;
  codeTimeout: number;
  /** `run`: the task engine that records the run (default: the devnet's, when it has one). */
  engine?: string;
}

function problemLines(errors: WorkflowProblem[]): string {
  return errors.map((e) => `  ${e.code}  ${e.path || "(root)"}: ${e.message}`).join("\n");
}

/** `workflow validate <file>`: `{valid, errors}`, exit 2 when invalid. */
export async function workflowValidate(ctx: CommandContext, file: string): Promise<CommandResult> {
  const result = await loadWorkflow(file, ctx.cwd);
  const warnings = result.workflow ? secretsInCode(result.workflow) : [];
  const data = { valid: result.valid, errors: result.errors, ...(warnings.length > 0 ? { warnings } : {}) };
  return {
    data,
    exitCode: result.valid ? EXIT.OK : EXIT.USAGE,
    human: () =>
      result.valid
        ? `${warnings.map((w) => `warning: ${w}\n`).join("")}${file}: valid (${result.workflow!.nodes.length} node(s), ${result.workflow!.edges.length} edge(s))`
        : `${file}: ${result.errors.length} problem(s)\n${problemLines(result.errors)}`,
  };
}

function assignments(values: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf("=");
    if (eq <= 0) throw invalidArgument(flag, `"${v}" is not name=value`);
    out[v.slice(0, eq).trim()] = v.slice(eq + 1);
  }
  return out;
}

/** Secrets for `apContext.configVars`: AVSCTL_SECRET_<NAME> from the environment, then --secret. */
function configVarsOf(loaded: LoadedConfig, flags: ExecuteFlags): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const [k, v] of Object.entries(loaded.env)) {
    if (k.startsWith("AVSCTL_SECRET_") && k.length > 14 && v !== undefined) vars[k.slice(14)] = v;
  }
  return { ...vars, ...assignments(flags.secret, "--secret") };
}

/**
 * The `apContext.configVars` names the workflow reads that nobody set: each renders as nothing,
 * and the node that used it fails later with a message about its own field.
 */
function missingConfigVars(workflow: Workflow, configVars: Record<string, string>): string[] {
  return configVarNames(workflow)
    .filter((name) => !(name in configVars))
    .map(
      (name) =>
        `apContext.configVars.${name} is not set and reads as empty: give it with --secret ${name}=<value> or AVSCTL_SECRET_${name}`,
    );
}

function isDevnetUrl(devnet: DevnetState | undefined, rpcUrl: string): boolean {
  return !!devnet && [devnet.l1.rpcUrl, ...devnet.l2.map((l) => l.rpcUrl)].includes(rpcUrl);
}

/**
 * The chain a workflow's contract nodes use: --rpc-url, else the configured network (or
 * AVSCTL_RPC_URL / L2_RPC), else the running devnet's first L2. Undefined when there is none
 * (a contract node then fails and says what to pass). In run mode with writes, a signer too.
 */
async function openChain(
  ctx: CommandContext,
  loaded: LoadedConfig,
  workflow: Workflow,
  mode: "simulate" | "run",
  flags: ExecuteFlags,
): Promise<{ chain: WorkflowChain | undefined }> {
  const use = chainUse(workflow);
  if (!use.reads) return { chain: undefined };
  if (flags.rpcUrl !== undefined && !/^https?:\/\/.+/.test(flags.rpcUrl)) {
    throw invalidArgument("--rpc-url", `"${flags.rpcUrl}" is not an http(s) URL`);
  }
  const devnet = readDevnetState(loaded.root);
  const configured = loaded.config.network.rpcUrl;
  // L2_RPC may hold Othentic's `chainId@url,..` form: the configured chain's, else the first
  const rpcUrl =
    flags.rpcUrl ??
    (configured === undefined
      ? undefined
      : pickRpcUrl(parseRpcList(configured, "L2_RPC"), loaded.config.network.chainId)?.url) ??
    devnet?.l2[0]?.rpcUrl;
  if (!rpcUrl) return { chain: undefined };
  const onDevnet = isDevnetUrl(devnet, rpcUrl);
  const { from } = flags;
  const { provider, chainId } = await (onDevnet ? connectDevnetRpc(rpcUrl) : connectRpc(rpcUrl));
  ctx.own(provider);
  const chain: WorkflowChain = { provider, ...(from ? { from } : {}) };
  if (mode === "run" && use.writes) {
    const spec = signerSpec(ctx, loaded, flags, onDevnet ? devnet?.deployer.privateKey : undefined);
    chain.signer = await loadSigner(spec, provider, {
      chainId,
      devnetChainIds: devnetChainIdsOf(loaded.config, devnet),
      allowDevKeys: flags.allowDevKeys === true,
      signerFlags: ["--private-key", "--keystore"],
    });
  } else if (!from && use.writes) {
    // simulated writes come from the account `run` would send with, when we know it
    const key =
      flags.privateKey ??
      privateKeyFromEnv(loaded.env)?.value ??
      (onDevnet ? devnet?.deployer.privateKey : undefined);
    if (key) {
      const { Wallet } = await import("ethers");
      chain.from = new Wallet(normalizePrivateKey(key, "--private-key")).address;
    }
  }
  return { chain };
}

interface Prepared {
  result: ValidationResult;
  loaded: LoadedConfig;
  flags: ExecuteFlags;
}

async function prepare(ctx: CommandContext, file: string, flags: ExecuteFlags): Promise<Prepared> {
  const inputs = flags.inputs === undefined ? undefined : readInputsFile(flags.inputs, ctx.cwd);
  const result = await loadWorkflow(file, ctx.cwd, { inputs, assignments: flags.input ?? [] });
  return { result, loaded: await ctx.loadConfig(), flags };
}

async function execute(ctx: CommandContext, file: string, flags: ExecuteFlags, mode: "simulate" | "run") {
  const { triggerData } = flags;
  const { concurrency, codeTimeout: codeTimeoutMs } = flags;
  const { result, loaded } = await prepare(ctx, file, flags);
  if (!result.valid) {
    return { invalid: result.errors, record: undefined };
  }
  const workflow = result.workflow!;
  const configVars = configVarsOf(loaded, flags);
  const { chain } = await openChain(ctx, loaded, workflow, mode, flags);
  ctx.progress(
    `${mode === "run" ? "running" : "simulating"} ${workflow.name} (${workflow.nodes.length} node(s))`,
  );
  const ran = await runWorkflow(workflow, {
    mode,
    configVars,
    ...(triggerData === undefined ? {} : { triggerData }),
    ...(chain ? { chain } : {}),
    limits: { concurrency, codeTimeoutMs },
    signal: ctx.signal,
  });
  // The run masks secrets in its errors and logs only; what is printed (and recorded in the
  // engine) is the record the engine keeps of a run: outputs and trigger data masked too.
  const record = maskRecord(ran, workflow, configVars);
  return {
    invalid: undefined,
    record,
    workflow,
    warnings: missingConfigVars(workflow, configVars),
  };
}

function humanSteps(steps: ExecutionStep[]): string {
  return steps
    .map((s) => {
      const mark = s.success ? "ok  " : "FAIL";
      const head = `${mark} ${s.name} (${s.type}) ${s.endAt - s.startAt} ms`;
      const body = s.success
        ? `\n     -> ${truncate(JSON.stringify(s.output) ?? "null", 300)}`
        : `\n     ${s.error}`;
      return head + body;
    })
    .join("\n");
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}...` : text;
}

function invalidData(errors: WorkflowProblem[]) {
  return {
    status: "error" as const,
    error: `the workflow is invalid: ${errors.map((e) => `${e.code} at ${e.path || "(root)"}`).join(", ")}`,
    steps: [],
    errors,
  };
}

function recordResult(data: object, record: ExecutionRecord, warnings: string[]): CommandResult {
  return {
    data: warnings.length > 0 ? { ...data, warnings } : data,
    exitCode: record.status === "success" ? EXIT.OK : EXIT.FAILED,
    human: () =>
      `${warnings.map((w) => `warning: ${w}\n`).join("")}${humanSteps(record.steps)}\n${record.status.toUpperCase()}${record.error ? `: ${record.error}` : ""}`,
  };
}

/** An invalid file is invalid input: nothing ran (2), as `workflow validate` says. */
function invalidResult(invalid: WorkflowProblem[]): CommandResult {
  return {
    data: invalidData(invalid),
    exitCode: EXIT.USAGE,
    human: () => `invalid workflow\n${problemLines(invalid)}`,
  };
}

/** `workflow simulate <file>`: `{status, error, steps}`, nothing sent or saved; exit 0, 1, or 2 when invalid. */
export async function workflowSimulate(
  ctx: CommandContext,
  file: string,
  flags: ExecuteFlags,
): Promise<CommandResult> {
  const { invalid, record, warnings } = await execute(ctx, file, flags, "simulate");
  if (invalid) return invalidResult(invalid);
  return recordResult(
    { status: record!.status, error: record!.error, steps: record!.steps },
    record!,
    warnings!,
  );
}

/** `workflow run <file>`: like simulate, but writes are sent; prints the execution record. */
export async function workflowRun(
  ctx: CommandContext,
  file: string,
  flags: ExecuteFlags,
): Promise<CommandResult> {
  const { invalid, record, workflow, warnings } = await execute(ctx, file, flags, "run");
  if (invalid) return invalidResult(invalid);
  const { recordRun } = await import("./workflow-record.js");
  const recorded = await recordRun(ctx, flags, workflow!, record!);
  return recordResult(recorded ? { ...record!, recorded } : record!, record!, warnings!);
}
