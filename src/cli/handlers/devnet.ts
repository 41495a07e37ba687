import { existsSync } from "node:fs";
import path from "node:path";
import { loadConfig } from "../../config/load.js";
import type { OperatorKeys } from "../../devnet/operator-keys.js";
import {
  devnetName,
  isWorkflowProject,
  type PlanDifference,
  quickstartProject,
  type RecordedPlan,
  SERVICE_KINDS,
  type UpFlags,
} from "../../devnet/plan.js";
import type { RemovedResources } from "../../devnet/runtime/types.js";
import { type DevnetState, publicState, readDevnetState } from "../../devnet/state.js";
import { AvsctlError, EXIT, invalidArgument, isAvsctlError } from "../../errors.js";
import { shellQuote } from "../../shell-quote.js";
import type { CommandContext } from "../context.js";
import { lockedDevnet } from "../devnet-lock.js";
import { follow, INTERRUPT_GRACE_MS } from "../follow.js";
import { avsctlPrefix } from "../format.js";
import { withProgress } from "../progress.js";
import type { CommandResult } from "../runner.js";
import { renderState } from "./devnet-status.js";

async function project(ctx: CommandContext) {
  return loadConfig({ cwd: ctx.cwd, configFile: ctx.config, env: ctx.env });
}

export { renderState };

/** `--operator-keys <dir>`: every operator there, unlocked with one password, before anything starts. */
async function operatorKeys(ctx: CommandContext, given: string): Promise<OperatorKeys> {
  const dir = path.resolve(ctx.cwd, given);
  if (!existsSync(dir)) throw invalidArgument("--operator-keys", `${dir} does not exist`);
  const { unlockOperatorKeys } = await import("../../keys/keystore.js");
  const { passwordSource } = await import("./signer-flags.js");
  const password = await passwordSource(ctx, ctx.env, {}, { noStdinFlag: true })();
  const unlocked = await unlockOperatorKeys(dir, password).catch((error: unknown) => {
    // the one password there is comes from the environment: name it, as keys import names its flag
    if (!isAvsctlError(error) || error.code !== "WRONG_PASSWORD") throw error;
    throw new AvsctlError("WRONG_PASSWORD", error.message, {
      hint: error.hint,
      details: { ...error.details, argument: "AVSCTL_KEYSTORE_PASSWORD" },
      cause: error,
    });
  });
  return {
    dir,
    accounts: unlocked.map((o) => ({
      address: o.address,
      privateKey: o.privateKey,
      blsSecretKey: o.blsSecretKey,
    })),
  };
}

export async function devnetUpCommand(
  ctx: CommandContext,
  flags: UpFlags & { operatorKeys?: string; watch?: boolean },
): Promise<CommandResult> {
  const loaded = await project(ctx);
  const { operatorKeys: keysDir, watch, ...upFlags } = flags;
  // "" stays "": resolved, it would name the directory ("cannot be read (EISDIR)")
  if (upFlags.caCerts) upFlags.caCerts = path.resolve(ctx.cwd, upFlags.caCerts);
  const operators = keysDir === undefined ? undefined : await operatorKeys(ctx, keysDir);
  const { devnetUp } = await import("../../devnet/up.js");
  const configured = new Set(Object.keys(loaded.sources).filter((k) => k.startsWith("devnet.")));
  // The lock covers the start only: `--watch` then runs without holding it.
  const result = await lockedDevnet(ctx, loaded.root, "devnet up", () =>
    withProgress(ctx, "devnet up", (step) =>
      devnetUp({
        config: loaded.config,
        projectDir: loaded.root,
        flags: upFlags,
        progress: step,
        operators,
        env: loaded.env,
        configured,
        unlockOperatorKeys: (dir) => recordedOperatorKeys(ctx, dir),
        // Ctrl-C stops what this run started instead of leaving it running unrecorded
        signal: ctx.signal,
      }),
    ),
  ).catch((error: unknown) => {
    throw withCaCertsRerun(ctx, flags, error);
  });
  const differences = result.differences.map((d) => `${d.flag}: running ${d.running}, asked ${d.asked}`);
  const apply =
    differences.length > 0
      ? freshCommand(ctx, flags, result.state, configured, loaded.config.devnet, result.differences)
      : undefined;
  const applyLine = `to apply, removing the running devnet and its chain state: ${apply}`;
  const { repaired, supervisorStarted } = result;
  // Added keys (docs/cli.md#devnet-up lists them): why this runtime, and what a script should know.
  const data = {
    ...publicState(result.state),
    runtimeReason: result.runtimeReason,
    warnings: [
      ...differences.map((d) => `${d}; ${repaired ? "not applied" : "nothing changed"}`),
      ...(apply ? [applyLine] : []),
      ...result.warnings,
    ],
    ...(repaired
      ? {
          repaired: {
            problems: repaired.problems,
            ...(repaired.movedPorts ? { movedPorts: repaired.movedPorts } : {}),
          },
        }
      : {}),
    ...(supervisorStarted ? { supervisorStarted } : {}),
  };
  const unchanged = supervisorStarted
    ? `devnet already running and healthy, but its supervisor was not running: started it again (pid ${supervisorStarted.pid}); nothing else changed`
    : "devnet already running and healthy; nothing changed";
  const differing = differences.length === 0 ? [] : [...differences.map((d) => `  ${d}`), applyLine, ""];
  const shown: CommandResult = {
    data,
    human: () =>
      [
        ...(repaired
          ? [
              repaired.unfinished
                ? `${repaired.problems.join("; ")}; started the devnet as that \`up\` was to start it: ${startedAs(result.state)}`
                : `the devnet was unhealthy (${repaired.problems.join("; ")}); started it again as it was started: ${startedAs(result.state)}`,
              ...portsKept(repaired.movedPorts),
              ...(differing.length > 0
                ? ["it differs from what was asked, which was not applied:", ...differing]
                : []),
            ]
          : result.created
            ? []
            : differing.length === 0
              ? [unchanged]
              : [`${unchanged}, but it differs from what was asked:`, ...differing]),
        renderState(data),
        ...result.warnings.map((w) => `warning: ${w}`),
        "",
        "next: avsctl task send --wait",
      ].join("\n"),
  };
  if (!watch) return shown;
  // The state first (one JSON line under --json), then the watch's events as they come.
  ctx.out.stdout(ctx.json ? `${JSON.stringify(data)}\n` : `${shown.human!(data)}\n\n`);
  const { watchUntilInterrupted } = await import("./devnet-watch.js");
  await watchUntilInterrupted(ctx, loaded, upFlags.caCerts, "devnet up --watch");
  return { data: undefined, human: () => "" };
}

/**
 * The `--operator-keys` directory an unhealthy devnet was started with, for `up` to start it
 * again without the flag. Only with AVSCTL_KEYSTORE_PASSWORD: a prompt would cut through the
 * progress display, and the flag asks for the password before anything starts.
 */
async function recordedOperatorKeys(ctx: CommandContext, dir: string): Promise<OperatorKeys> {
  if (ctx.env.AVSCTL_KEYSTORE_PASSWORD === undefined) {
    throw new AvsctlError(
      "MISSING_ARGUMENT",
      `the devnet's attesters run with the operator keys of ${dir}, and AVSCTL_KEYSTORE_PASSWORD is not set; nothing was changed`,
      {
        hint: `set AVSCTL_KEYSTORE_PASSWORD to the keystores' password, or pass \`--operator-keys ${shellQuote(dir)}\` to be asked for it`,
        details: { argument: "AVSCTL_KEYSTORE_PASSWORD" },
      },
    );
  }
  return operatorKeys(ctx, dir);
}

/** Whether a process devnet started again kept its ports, so the URLs users hold stay true. */
function portsKept(moved: ReadonlyArray<{ component: string }> | undefined): string[] {
  if (moved === undefined) return [];
  if (moved.length === 0) return ["each component listens on the port it had"];
  return [
    `each component listens on the port it had, but ${moved.map((m) => m.component).join(", ")}, whose port was taken (below)`,
  ];
}

/** How a devnet `up` started again was started, in words (what its state does not show). */
function startedAs(state: DevnetState): string {
  const plan = (state.internal?.plan ?? {}) as RecordedPlan;
  const count = (n: number, what: string) => `${n} ${what}${n === 1 ? "" : "s"}`;
  const service = (kind: "execution" | "validation") => {
    const summary = plan.services?.[kind];
    if (summary === "sample") return `avsctl's sample ${kind} service`;
    if (summary === "project") return `the project's ${kind} service`;
    return `${kind} service at ${summary}`;
  };
  const services = SERVICE_KINDS.filter(
    (k) => plan.services?.[k] !== undefined && plan.services[k] !== "none",
  );
  const words = [
    `${state.runtime} runtime`,
    count(state.attesters.length, "attester"),
    count(state.l2.length, "L2 chain"),
    plan.blockTime ? `block time ${plan.blockTime} s` : "a block per transaction",
    services.length === 0 ? "no services" : services.map(service).join(", "),
    state.engine ? "task engine" : "no task engine",
    ...(plan.caCerts ? [`CA bundle ${plan.caCerts.file}`] : []),
    ...(plan.operatorKeys ? [`operator keys of ${plan.operatorKeys}`] : []),
  ];
  return words.join(", ");
}

/** Variables other tools read a CA bundle from: behind a proxy, one of them often names its CA. */
const OTHER_CA_VARIABLES = [
  "PIP_CERT",
  "REQUESTS_CA_BUNDLE",
  "CURL_CA_BUNDLE",
  "GIT_SSL_CAINFO",
  "npm_config_cafile",
];

/**
 * A service image build that did not trust a TLS certificate, with no CA bundle given: the hint
 * ends with this `up` again plus `--ca-certs`, naming the bundle another tool is set to trust
 * when there is one.
 */
export function withCaCertsRerun(
  ctx: CommandContext,
  flags: UpFlags & { operatorKeys?: string; watch?: boolean },
  error: unknown,
): unknown {
  if (!isAvsctlError(error) || !error.details?.untrustedCertificate || error.details.caCerts !== null)
    return error;
  const variable = OTHER_CA_VARIABLES.find((name) => {
    const file = ctx.env[name];
    return file !== undefined && path.isAbsolute(file) && existsSync(file);
  });
  const words = [avsctlPrefix(ctx), "devnet up", ...flagWords(flags)];
  if (flags.watch) words.push("--watch");
  words.push("--ca-certs", variable ? shellQuote(ctx.env[variable]!) : "proxy-ca.pem");
  const lead = variable
    ? `with the bundle ${variable} names (if it holds the proxy's CA)`
    : "with the proxy's CA certificate saved as proxy-ca.pem (PEM)";
  return new AvsctlError(error.code, error.message, {
    hint: `${error.hint}\n${lead}: ${words.join(" ")}`,
    details: error.details,
    cause: error.cause,
  });
}

/** The flags of an `up` as they were given, less --ca-certs and --watch. */
function flagWords(flags: UpFlags & { operatorKeys?: string }): string[] {
  const words: string[] = [];
  const valued: Array<[string, string | number | undefined]> = [
    ["--runtime", flags.runtime],
    ["--attesters", flags.attesters],
    ["--l2-chains", flags.l2Chains],
    ["--block-time", flags.blockTime],
    ["--validation-url", flags.validationUrl],
    ["--execution-url", flags.executionUrl],
    ["--services-runtime", flags.servicesRuntime],
    ["--operator-keys", flags.operatorKeys],
  ];
  if (flags.fresh) words.push("--fresh");
  for (const [flag, value] of valued) if (value !== undefined) words.push(flag, shellQuote(String(value)));
  if (flags.services === false) words.push("--no-services");
  if (flags.engine !== undefined) words.push(flags.engine ? "--engine" : "--no-engine");
  return words;
}

/**
 * `avsctl devnet up --fresh` with the flags this `up` was given: what applies them. What neither
 * a flag nor the config file asks keeps the running devnet's value (its runtime, attesters, L2s,
 * block time), and so does what no difference names (its services, task engine, CA bundle and
 * operator keys): left out, `--fresh` would start the defaults instead (Docker where it answers,
 * one L2, ...), changing more than the differences it names.
 */
export function freshCommand(
  ctx: CommandContext,
  flags: UpFlags & { operatorKeys?: string },
  running: DevnetState,
  configured: ReadonlySet<string>,
  /** The config's devnet settings: the defaults where `configured` has no key. */
  defaults: { attesters: number; l2Chains: number; blockTime: number; engine?: boolean },
  /** The differences the command is to apply. */
  named: readonly PlanDifference[] = [],
): string {
  const words = [avsctlPrefix(ctx), "devnet up --fresh"];
  const recorded = (running.internal?.plan ?? {}) as RecordedPlan;
  const kept = <T>(given: T | undefined, key: string, value: T | undefined, byDefault?: T): T | undefined =>
    given ?? (configured.has(`devnet.${key}`) || value === byDefault ? undefined : value);
  const unnamed = (...labels: string[]) =>
    !named.some((d) => labels.some((l) => d.flag === l || d.flag.startsWith(`${l} (`)));
  // the services as they run, unless a flag or a named difference asks for others
  const servicesKept =
    flags.services !== false &&
    flags.validationUrl === undefined &&
    flags.executionUrl === undefined &&
    unnamed("--no-services", "--validation-url", "--execution-url", "devnet.services") &&
    !named.some((d) => d.flag.startsWith("services."));
  const external = (kind: "execution" | "validation") =>
    servicesKept && running.serviceRuntimes?.[kind] === "external"
      ? (running.services[kind] ?? undefined)
      : undefined;
  const onHost = SERVICE_KINDS.some(
    (kind) => recorded.services?.[kind] === "project" && running.serviceRuntimes?.[kind] === "process",
  );
  const caSources = ["--ca-certs", "devnet.caCerts", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"];
  const valued: Array<[string, string | number | undefined]> = [
    ["--runtime", kept<string>(flags.runtime, "runtime", running.runtime)],
    ["--attesters", kept(flags.attesters, "attesters", recorded.attesters, defaults.attesters)],
    [
      "--l2-chains",
      kept(flags.l2Chains, "l2Chains", recorded.l2Chains ?? running.l2.length, defaults.l2Chains),
    ],
    ["--block-time", kept(flags.blockTime, "blockTime", recorded.blockTime, defaults.blockTime)],
    ["--validation-url", flags.validationUrl ?? external("validation")],
    ["--execution-url", flags.executionUrl ?? external("execution")],
    [
      "--services-runtime",
      flags.servicesRuntime ??
        (running.runtime === "docker" &&
        onHost &&
        !configured.has("devnet.servicesRuntime") &&
        unnamed("--services-runtime", "devnet.servicesRuntime")
          ? "process"
          : undefined),
    ],
    [
      "--ca-certs",
      flags.caCerts ??
        (recorded.caCerts?.source === "--ca-certs" && unnamed(...caSources)
          ? recorded.caCerts.file
          : undefined),
    ],
    [
      "--operator-keys",
      flags.operatorKeys ?? (unnamed("--operator-keys") ? recorded.operatorKeys : undefined),
    ],
  ];
  for (const [flag, value] of valued) if (value !== undefined) words.push(flag, shellQuote(String(value)));
  const noServices = running.services.execution === null && running.services.validation === null;
  if (flags.services === false || (servicesKept && noServices)) words.push("--no-services");
  const byDefault = defaults.engine ?? isWorkflowProject(running.internal?.projectDir ?? ctx.cwd);
  const engine =
    flags.engine ??
    (unnamed("--engine", "--no-engine", "devnet.engine") && (running.engine !== undefined) !== byDefault
      ? running.engine !== undefined
      : undefined);
  if (engine !== undefined) words.push(engine ? "--engine" : "--no-engine");
  return words.join(" ");
}

export async function devnetDownCommand(
  ctx: CommandContext,
  flags: { all?: boolean; volumes?: boolean },
): Promise<CommandResult> {
  const loaded = await project(ctx);
  const { devnetDown } = await import("../../devnet/manage.js");
  const volumes = flags.volumes === true;
  const { kept, warnings, ...removed } = await lockedDevnet(ctx, loaded.root, "devnet down", () =>
    devnetDown(loaded.root, loaded.config, { all: flags.all === true, volumes }),
  );
  // `quickstart` run here keeps its devnet in .avsctl/quickstart: `down` here stops it too, its
  // saved state kept as any devnet's (a second quickstart resumes it), unless --volumes.
  const qs = quickstartProject(loaded.root);
  let quickstart: { name: string; projectDir: string; removed: RemovedResources; kept: string[] } | undefined;
  if (existsSync(qs.projectDir)) {
    const name = readDevnetState(qs.projectDir)?.name ?? devnetName(qs.config, qs.projectDir);
    const {
      kept: qsKept,
      warnings: left,
      ...r
    } = await lockedDevnet(ctx, qs.projectDir, "devnet down", () =>
      devnetDown(qs.projectDir, qs.config, { volumes }),
    );
    warnings.push(...left);
    if (count(r) > 0) quickstart = { name, projectDir: qs.projectDir, removed: r, kept: qsKept };
  }
  const summary = (r: RemovedResources) =>
    `removed ${r.containers.length} container(s), ${r.networks.length} network(s), ${r.volumes.length} volume(s), ${r.processes.length} process(es)`;
  return {
    data: {
      removed,
      kept,
      ...(quickstart ? { quickstart } : {}),
      ...(warnings.length > 0 ? { warnings } : {}),
    },
    human: () =>
      [
        ...warnings.map((w) => `warning: ${w}`),
        count(removed) === 0 && !quickstart ? "nothing was running" : "",
        count(removed) > 0 ? summary(removed) : "",
        kept.length > 0
          ? `kept the saved state for the next \`devnet up\` (\`devnet down --volumes\` deletes it): ${kept.map((k) => (path.isAbsolute(k) ? path.relative(loaded.root, k) : k)).join(", ")}`
          : "",
        quickstart
          ? `quickstart devnet "${quickstart.name}" (${path.relative(process.cwd(), qs.projectDir) || "."}): ${summary(quickstart.removed)}${quickstart.kept.length > 0 ? "; its saved state kept for the next `quickstart`" : ""}`
          : "",
      ]
        .filter((l) => l !== "")
        .join("\n"),
  };
}

function count(r: RemovedResources): number {
  return r.containers.length + r.networks.length + r.volumes.length + r.processes.length;
}

export async function devnetEnvCommand(
  ctx: CommandContext,
  flags: { format?: "dotenv" | "shell" | "json"; service?: "execution" | "validation" },
): Promise<CommandResult> {
  const loaded = await project(ctx);
  const { devnetEnv } = await import("../../devnet/env.js");
  const { env } = await devnetEnv(loaded.root, flags.service);
  const format = ctx.json ? "json" : (flags.format ?? "dotenv");
  return { data: env, human: () => renderEnv(env, format) };
}

/** `shell` is for `eval "$(avsctl devnet env --format shell)"`: every value quoted for sh. */
function renderEnv(env: Record<string, string>, format: "dotenv" | "shell" | "json"): string {
  if (format === "json") return JSON.stringify(env, null, 2);
  const entries = Object.entries(env);
  if (format === "shell")
    return entries.map(([k, v]) => `export ${k}=${shellQuote(v, { always: true })}`).join("\n");
  // dotenv readers take a bare value to the end of the line; a value that could be misread is quoted
  return entries.map(([k, v]) => `${k}=${/^[\w@%+=:,./-]*$/.test(v) ? v : JSON.stringify(v)}`).join("\n");
}

export async function devnetLogsCommand(
  ctx: CommandContext,
  component: string | undefined,
  flags: { follow?: boolean; tail?: number; since?: number; task?: string },
): Promise<CommandResult> {
  if (!flags.follow) return printLogs(ctx, component, flags);
  let lines = 0;
  const again = [
    "avsctl devnet logs",
    ...(component === undefined ? [] : [component]),
    "-f",
    ...(flags.task === undefined ? [] : ["--task", flags.task]),
  ].join(" ");
  await follow(
    ctx,
    async () => void (await printLogs(ctx, component, flags, () => lines++)),
    (cause) =>
      new AvsctlError(
        "INTERRUPTED",
        `devnet logs -f was interrupted after ${lines} line(s); the devnet keeps running`,
        { hint: `\`${again}\` follows again`, details: { lines }, cause },
      ),
    INTERRUPT_GRACE_MS,
  );
  return { data: undefined, human: () => "" };
}

async function printLogs(
  ctx: CommandContext,
  component: string | undefined,
  flags: { follow?: boolean; tail?: number; since?: number; task?: string },
  printed: () => void = () => {},
): Promise<CommandResult> {
  const { tail } = flags;
  const loaded = await project(ctx);
  if (component === undefined || flags.since !== undefined || flags.task !== undefined) {
    return (await import("./devnet-logs.js")).mergedLogsCommand(ctx, loaded.root, component, flags, printed);
  }
  const { devnetLogs } = await import("../../devnet/manage.js");
  const lines: string[] = [];
  for await (const line of devnetLogs(loaded.root, component, {
    follow: flags.follow,
    tail,
    signal: ctx.signal,
  })) {
    // Logs stream straight through; with --json each line is a JSON string.
    if (flags.follow || !ctx.json) {
      ctx.out.stdout(ctx.json ? `${JSON.stringify(line)}\n` : `${line}\n`);
      printed();
    } else lines.push(line);
  }
  return { data: ctx.json && !flags.follow ? { lines } : undefined, human: () => "" };
}

export async function devnetRestartCommand(ctx: CommandContext, component: string): Promise<CommandResult> {
  const loaded = await project(ctx);
  const { devnetRestart } = await import("../../devnet/manage.js");
  const status = await lockedDevnet(ctx, loaded.root, "devnet restart", () =>
    withProgress(ctx, `restart ${component}`, (step) => devnetRestart(loaded.root, component, step)),
  );
  return {
    data: status,
    human: () =>
      [
        `${component}: ${status.healthy ? "restarted and healthy" : `restarted but unhealthy: ${status.problems.join(", ")}`}`,
        ...(status.warnings ?? []).map((w) => `warning: ${w}`),
      ].join("\n"),
    exitCode: status.healthy ? EXIT.OK : EXIT.FAILED,
  };
}

export async function devnetExportCommand(
  ctx: CommandContext,
  flags: { format?: string; output?: string },
): Promise<CommandResult> {
  const loaded = await project(ctx);
  const { exportDevnet } = await import("../../devnet/export.js");
  const result = await withProgress(ctx, "devnet export", (step) =>
    exportDevnet({
      config: loaded.config,
      projectDir: loaded.root,
      format: flags.format ?? "compose",
      output: flags.output,
      cwd: ctx.cwd,
      progress: step,
      signal: ctx.signal,
    }),
  );
  // Without -o the YAML itself is the output, so `avsctl devnet export > compose.yaml` works.
  return { data: result, human: () => (result.path ? `wrote ${result.path}` : result.content) };
}

/** The hidden `devnet bootstrap` an exported topology runs once: deploy, register, task definitions. */
export async function devnetBootstrapCommand(
  ctx: CommandContext,
  flags: { attesters?: number },
): Promise<CommandResult> {
  const attesters = flags.attesters ?? 3;
  const { bootstrapDevnet } = await import("../../devnet/export.js");
  const result = await withProgress(ctx, "devnet bootstrap", (step) =>
    bootstrapDevnet({ env: ctx.env, attesters, progress: step }),
  );
  return {
    data: result,
    human: () =>
      result.alreadyDone
        ? `contracts already deployed (AvsGovernance ${result.avsGovernance}); nothing to do`
        : `deployed AvsGovernance ${result.avsGovernance}, AttestationCenter ${result.attestationCenters.join(", ")}; ` +
          `registered ${attesters} attester(s); task definitions: ${result.taskDefinitions.map((t) => `${t.taskDefinitionId} ${t.name}`).join(", ")}`,
  };
}

/** The hidden `devnet service <name>` that containers and processes run. Blocks until a signal. */
export async function devnetServiceCommand(
  ctx: CommandContext,
  name: string,
  flags: { port?: number; host?: string },
): Promise<CommandResult> {
  const port = flags.port ?? 0;
  const host = flags.host ?? "127.0.0.1";
  const samples = await import("../../devnet/samples/sample-services.js");
  let service: { url: string; stop(): Promise<void> };
  if (name === "sample-validation") service = await samples.startSampleValidation({ host, port });
  else if (name === "sample-execution") {
    const aggregatorUrl = ctx.env.OTHENTIC_CLIENT_RPC_ADDRESS;
    const performerKey = ctx.env.PRIVATE_KEY_PERFORMER;
    if (!aggregatorUrl || !performerKey) {
      throw invalidArgument(
        "environment",
        "OTHENTIC_CLIENT_RPC_ADDRESS and PRIVATE_KEY_PERFORMER are required",
      );
    }
    service = await samples.startSampleExecution({ host, port, aggregatorUrl, performerKey });
  } else if (name === "price-feed") {
    service = await samples.startPriceFeed({ host, port, price: ctx.env.AVSCTL_FEED_PRICE });
  } else if (name === "ipfs") {
    const { startIpfsServer } = await import("../../ipfs/server.js");
    const ipfs = await startIpfsServer({
      host,
      port,
      dataDir: ctx.env.AVSCTL_IPFS_DIR ?? path.join(ctx.cwd, ".avsctl", "ipfs"),
    });
    service = { url: ipfs.url, stop: () => ipfs.close() };
  } else if (name === "task-engine") {
    const { startTaskEngine } = await import("../../task-engine/index.js");
    const { engineServiceOptions } = await import("../../task-engine/settings.js");
    const { close, ...options } = await engineServiceOptions(ctx.env);
    const engine = await startTaskEngine({
      ...options,
      storeFile: ctx.env.AVSCTL_ENGINE_STORE ?? path.join(ctx.cwd, ".avsctl", "engine.sqlite"),
      host,
      port,
      ...(ctx.env.AVSCTL_ENGINE_OPERATOR_SECRET
        ? { operatorSecret: ctx.env.AVSCTL_ENGINE_OPERATOR_SECRET }
        : {}),
      log: (record) => ctx.out.stdout(`${JSON.stringify(record)}\n`),
    });
    const { watcherFromEnv } = await import("../../task-engine/watch.js");
    const watcher = await watcherFromEnv(ctx.env, engine.url, ctx.env.AVSCTL_ENGINE_OPERATOR_SECRET);
    service = {
      url: engine.url,
      stop: async () => {
        await watcher?.stop();
        await engine.stop().finally(close);
      },
    };
  } else if (name === "triggers") {
    const { parseTriggerSetup, startDevnetTriggers } = await import("../../devnet/trigger-service.js");
    const runner = await startDevnetTriggers(parseTriggerSetup(ctx.env.AVSCTL_TRIGGER_SETUP), {
      statusPort: port,
      statusHost: host,
    });
    service = { url: runner.statusUrl ?? `http://${host}:${port}`, stop: () => runner.stop() };
  } else {
    throw invalidArgument(
      "<name>",
      `unknown service "${name}" (sample-validation, sample-execution, price-feed, ipfs, triggers, task-engine)`,
    );
  }
  // service.url is how to reach it from here (127.0.0.1 for a wildcard host); the line says
  // where it listens, which a container's published port or another host reaches.
  const listenPort = new URL(service.url).port || "80";
  const listenHost = host.includes(":") ? `[${host}]` : host;
  ctx.out.stderr(`${name} listening on http://${listenHost}:${listenPort}\n`);
  const { signal } = ctx;
  await new Promise<void>((resolve) => {
    if (signal.aborted) resolve();
    signal.addEventListener("abort", () => resolve(), { once: true });
  });
  await service.stop();
  return { data: undefined, human: () => "" };
}
