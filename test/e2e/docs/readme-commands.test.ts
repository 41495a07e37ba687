/**
 * Every command a user is told to run works as written: the shell blocks of README.md,
 * templates/README.md and the README of each generated project, the `next:` lines `init`,
 * `devnet up` and `quickstart` print, and the commands named in the hints of common errors.
 *
 * Table-driven: COMMANDS (README.md, templates/README.md) and PROJECT_COMMANDS (generated
 * READMEs) map each command, by its exact text, to how it is run; a README command that no table
 * knows fails the first test, so a new example cannot go untested. PRINTED maps the commands
 * avsctl prints (they name paths, so by pattern). Commands run with `sh -c`, `avsctl` being
 * `node <repo>/bin/avsctl.js` through a shim first on PATH, with DOCKER_HOST pointing at no
 * engine, so every devnet runs as processes (the README's "without one" path). One devnet per
 * project, reused by all its commands; everything started is stopped in afterAll.
 *
 * The order within a document is the reader's, with one exception: a generated README's block
 * that takes the devnet down runs after the others, so the by-hand services can send their task
 * to that devnet's aggregator, as the README's "set OTHENTIC_CLIENT_RPC_ADDRESS" asks. Each block
 * starts in the project folder (README.md's: in a scratch directory, or where `at` says).
 *
 * Generated READMEs of every template and language are read; the projects run are those whose
 * commands together cover every distinct command (the python and go blank READMEs hold no
 * command the others lack); the last test checks that every extracted command ran.
 */

import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { toUtf8String } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SampleService, startPriceFeed } from "../../../src/devnet/samples/sample-services.js";
import { binPath, repoRoot, runCli, withoutShellSettings } from "../../helpers/cli.js";
import {
  blockCommands,
  hintCommands,
  nextCommands,
  type ShellBlock,
  type ShellCommand,
  type ShellResult,
  ShellSession,
  shellBlocks,
  why,
} from "./shell.js";

// ------------------------------------------------------------------------------------------
// The tables
// ------------------------------------------------------------------------------------------

interface Context {
  /** The project the session is in (where `avsctl` finds its devnet). */
  project(): string;
  session: ShellSession;
  /** Output of commands whose printed `next:` lines later steps run. */
  printed: Map<string, string>;
}

type Check = (r: ShellResult, ctx: Context) => void | Promise<void>;

type Entry =
  /** Runs to completion with `exit` (default 0); `at` anchors the cwd (default: the session's). */
  | { run: "sh"; at?: "repo" | "checkout"; exit?: number; timeoutMs?: number; check?: Check }
  | { run: "cd" }
  /** A server: started, ready once `ready` answers 200, stopped when its block ends. */
  | { run: "start"; ready: string; timeoutMs?: number }
  /** Runs until interrupted (`-f`): must print and keep running, then stop on Ctrl-C with exit 0. */
  | { run: "follow" }
  /** Not run here, with the reason; `verify` checks what stands in for running it. */
  | { run: "elsewhere"; why: string; verify: () => void };

const SH: Entry = { run: "sh" };
const CI_RUN = path.join(repoRoot, ".ci", "run");

/** `.ci/run` runs `command` on a line of its own, verbatim. */
function ciRuns(command: string): () => void {
  return () => {
    const lines = readFileSync(CI_RUN, "utf8")
      .split("\n")
      .map((l) => l.trim());
    expect(lines, `.ci/run runs \`${command}\``).toContain(command);
  };
}

/** README.md and templates/README.md. */
const COMMANDS: Record<string, Entry> = {
  "npm ci": {
    run: "elsewhere",
    why: "installs this checkout's dependencies; CI runs it through .ci/run on a clean clone",
    verify: ciRuns("npm ci"),
  },
  "npm run build": {
    run: "elsewhere",
    why: "rebuilds dist/ under the running tests; CI builds through .ci/run's `npm test` (its script runs `npm run build` first)",
    verify: () => {
      ciRuns("npm test")();
      const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
      expect(pkg.scripts.test).toMatch(/^npm run build && /);
    },
  },
  "npm test": {
    run: "elsewhere",
    why: "the whole suite, this test included; CI runs it through .ci/run",
    verify: ciRuns("npm test"),
  },
  "npm link": {
    run: "elsewhere",
    why: "installs avsctl for the whole machine; the shim first on PATH stands in for it",
    verify: () => {
      const pkg = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8"));
      expect(pkg.bin).toEqual({ avsctl: "bin/avsctl.js" });
    },
  },
  // In a checkout of its own (bin/ linked to this one), so the quickstart's state stays out of
  // the working tree.
  "node bin/avsctl.js quickstart": {
    run: "sh",
    at: "checkout",
    timeoutMs: 300_000,
    check: (r, ctx) => {
      ctx.printed.set("quickstart", r.stdout);
    },
  },
  "avsctl init my-avs --language ts": { run: "sh", timeoutMs: 600_000 },
  "cd my-avs": { run: "cd" },
  "avsctl devnet up": { run: "sh", timeoutMs: 300_000 },
  "avsctl task send --via execution --wait": SH,
  "avsctl task send --count 200 --concurrency 20 --wait --json": {
    run: "sh",
    timeoutMs: 300_000,
    check: (r) => {
      expect(JSON.parse(r.stdout)).toMatchObject({ sent: 200, approved: 200, rejected: 0 });
    },
  },
  "avsctl task-def create --name price --restricted-operators 2,3,4": SH,
  "avsctl task send --task-def 2 --wait": SH,
  "avsctl devnet status": SH,
  "avsctl devnet env --service execution": SH,
  "avsctl devnet logs aggregator -f": { run: "follow" },
  "avsctl devnet snapshot save before-change": SH,
  "avsctl devnet advance --blocks 100": SH,
  "avsctl operator set-stake attester-1 0": { run: "sh", timeoutMs: 120_000 },
  "avsctl devnet down": { run: "sh", timeoutMs: 180_000 },
  "avsctl workflow validate examples/workflows/price-check.json --json": { run: "sh", at: "repo" },
  "avsctl workflow simulate examples/workflows/portfolio-loop.yaml --json": { run: "sh", at: "repo" },
  "avsctl workflow run examples/workflows/portfolio-loop.yaml --input portfolio.minValue=50": {
    run: "sh",
    at: "repo",
  },
};

/** The by-hand services answer a task they sent; it reaches its verdict on the devnet. */
const executedTask: Check = async (r, ctx) => {
  const body = JSON.parse(r.stdout);
  expect(body, r.stdout).toMatchObject({ error: false, data: { taskHash: expect.stringMatching(/^0x/) } });
  await approved(ctx.project(), body.data.taskHash);
};

/** `task send --data` through the execution service: the task it made carries that input. */
const dataCarries =
  (fragment: string): Check =>
  async (r, ctx) => {
    const number = /task #(\d+)/.exec(r.stdout)?.[1];
    expect(number, r.stdout).toBeDefined();
    const status = await runCli(["task", "status", number!, "--json"], { cwd: ctx.project(), env: ENV });
    expect(status.code, status.stdout + status.stderr).toBe(0);
    expect(toUtf8String(status.json().data)).toContain(fragment);
  };

const NPM_INSTALL: Entry = { run: "sh", timeoutMs: 600_000 };
const SERVICE_TESTS: Entry = { run: "sh", timeoutMs: 600_000 };
const EXECUTION_SERVICE: Entry = { run: "start", ready: "http://127.0.0.1:4003/health", timeoutMs: 300_000 };
const VALIDATION_SERVICE: Entry = { run: "start", ready: "http://127.0.0.1:4002/health", timeoutMs: 300_000 };

/** The READMEs `avsctl init` writes (every template and language). */
const PROJECT_COMMANDS: Record<string, Entry> = {
  "avsctl devnet up": { run: "sh", timeoutMs: 300_000 },
  "avsctl task send --wait": SH,
  'avsctl task send --data \'{"symbol":"BTCUSDT"}\' --wait': {
    run: "sh",
    check: dataCarries('"symbol":"BTCUSDT"'),
  },
  'avsctl task send --data \'{"input":"hello world"}\' --wait': {
    run: "sh",
    check: dataCarries("hello world"),
  },
  "avsctl task send --count 10 --concurrency 5 --wait": { run: "sh", timeoutMs: 180_000 },
  "avsctl devnet down": { run: "sh", timeoutMs: 180_000 },
  "avsctl workflow validate workflow.json": SH,
  // The comment asks to set the aggregator, the performer's key (and the PINATA_* settings):
  // taken from the running devnet. PRICE_SOURCE_URL (a public exchange by default) becomes a local feed: tests talk to
  // 127.0.0.1 only.
  "cp .env.example .env": { run: "sh", check: (_r, ctx) => fillDotEnv(ctx) },
  "cd execution-service": { run: "cd" },
  "cd validation-service": { run: "cd" },
  "cd ..": { run: "cd" },
  "cd ../validation-service": { run: "cd" },
  "npm install": NPM_INSTALL,
  "(cd execution-service && npm start)": EXECUTION_SERVICE,
  "(cd validation-service && npm start)": VALIDATION_SERVICE,
  "npm test": SERVICE_TESTS,
  "npm run typecheck": SERVICE_TESTS,
  "curl -X POST http://127.0.0.1:4003/task/execute -H 'content-type: application/json' -d '{\"symbol\":\"ETHUSDT\"}'":
    { run: "sh", check: executedTask },
  "curl -X POST http://127.0.0.1:4003/task/execute -H 'content-type: application/json' -d '{\"input\":\"hello\"}'":
    { run: "sh", check: executedTask },
  // Python
  "python3 -m venv .venv": SH,
  ".venv/bin/pip install -r requirements-dev.txt": NPM_INSTALL,
  "(cd execution-service && ../.venv/bin/python server.py)": EXECUTION_SERVICE,
  "(cd validation-service && ../.venv/bin/python server.py)": VALIDATION_SERVICE,
  "(cd execution-service && ../.venv/bin/python -m pytest)": SERVICE_TESTS,
  "(cd validation-service && ../.venv/bin/python -m pytest)": SERVICE_TESTS,
  // Go
  "(cd execution-service && go mod download)": NPM_INSTALL,
  "(cd validation-service && go mod download)": NPM_INSTALL,
  "(cd execution-service && go run .)": EXECUTION_SERVICE,
  "(cd validation-service && go run .)": VALIDATION_SERVICE,
  "(cd execution-service && go test ./...)": SERVICE_TESTS,
  "(cd validation-service && go test ./...)": SERVICE_TESTS,
};

/**
 * Commands avsctl prints for a user to paste (`next:` lines, hints, warnings), by pattern: they
 * name the project's directory. `after` checks more than the exit code.
 */
const PRINTED: Array<{ pattern: RegExp; cd?: true; timeoutMs?: number; after?: Check }> = [
  { pattern: /^cd \S+$/, cd: true },
  {
    pattern: /^avsctl init my-avs$/,
    timeoutMs: 600_000,
    after: (r, ctx) => void ctx.printed.set("init", r.stdout),
  },
  {
    pattern: /^avsctl devnet up$/,
    timeoutMs: 300_000,
    after: (r, ctx) => void ctx.printed.set("devnet up", r.stdout),
  },
  {
    // The warning of `devnet up` with flags that differ from the running devnet (keeping its runtime).
    pattern: /^avsctl devnet up --fresh --runtime (docker|process) --attesters 4$/,
    timeoutMs: 300_000,
    after: async (_r, ctx) => {
      const status = await runCli(["devnet", "status", "--json"], { cwd: ctx.project(), env: ENV });
      expect(status.json().attesters).toHaveLength(4);
    },
  },
  { pattern: /^avsctl( --cwd \S+)? task send( --via execution)? --wait$/ },
  { pattern: /^avsctl( --cwd \S+)? task send --count \d+ --concurrency \d+ --wait$/, timeoutMs: 300_000 },
  { pattern: /^avsctl( --cwd \S+)? task list$/ },
  { pattern: /^avsctl( --cwd \S+)? devnet status$/ },
  { pattern: /^avsctl( --cwd \S+)? devnet down$/, timeoutMs: 180_000 },
  { pattern: /^avsctl( --cwd \S+)? devnet logs( [a-z0-9-]+)?$/ },
  { pattern: /^avsctl( [a-z-]+){0,2} --help$/ },
  { pattern: /^avsctl task-def list$/ },
  { pattern: /^avsctl task-def show \d+$/ },
  { pattern: /^avsctl keys list$/ },
];

/**
 * Common errors, each with the commands its hint must name (exactly; another one fails the
 * test until this table knows it) and whether to run them. `before` sets the error up.
 */
interface Scenario {
  name: string;
  command: string;
  before?: string[];
  hints: Record<string, "run" | { skip: string }>;
}

/** In a project made by `init`, before its devnet is up. */
const BEFORE_UP: Scenario[] = [
  {
    name: "send without a devnet",
    command: "avsctl task send --wait",
    hints: { "avsctl devnet up": { skip: "the next scenario's hint runs it (it ends this state)" } },
  },
  { name: "status without a devnet", command: "avsctl devnet status", hints: { "avsctl devnet up": "run" } },
];

/** In that project with its devnet up, in this order. */
const WITH_DEVNET: Scenario[] = [
  { name: "unknown command", command: "avsctl taks list", hints: { "avsctl --help": "run" } },
  { name: "unknown subcommand", command: "avsctl task sned", hints: { "avsctl task --help": "run" } },
  { name: "unknown flag", command: "avsctl task send --wiat", hints: { "avsctl task send --help": "run" } },
  {
    name: "unknown task definition",
    command: "avsctl task-def show 99",
    hints: { "avsctl task-def list": "run" },
  },
  {
    name: "send to an unknown task definition",
    command: "avsctl task send --via rpc --task-def 99 --wait",
    hints: { "avsctl task-def list": "run" },
  },
  {
    name: "send through the service to an unknown task definition",
    command: "avsctl task send --task-def 99 --wait",
    hints: { "avsctl task-def list": "run" },
  },
  {
    name: "status of an unknown task",
    command: `avsctl task status 0x${"ab".repeat(32)}`,
    hints: { "avsctl task list": "run" },
  },
  {
    name: "an aggregator that does not answer",
    command: "avsctl task send --via rpc --aggregator http://127.0.0.1:9",
    // the URL is the user's: a devnet command would not help, the hint names --aggregator
    hints: {},
  },
  { name: "unknown keys", command: "avsctl keys show nobody-here", hints: { "avsctl keys list": "run" } },
  {
    name: "unreachable RPC",
    command:
      "avsctl task-def list --rpc-url http://127.0.0.1:9 --attestation-center 0x5FbDB2315678afecb367f032d93F642f64180aa3",
    // likewise: a devnet started now would not be at that URL
    hints: {},
  },
  {
    name: "the performer outside a restricted definition",
    before: ["avsctl task-def create --name closed --restricted-operators 3,4"],
    command: "avsctl task send --via rpc --task-def 2 --wait",
    hints: { "avsctl task-def show 2": "run" },
  },
  {
    name: "the execution service passes on the aggregator's refusal",
    command: "avsctl task send --task-def 2 --wait",
    // read back from the relayed message: the same hint as --via rpc
    hints: { "avsctl task-def show 2": "run" },
  },
];

// ------------------------------------------------------------------------------------------
// Set-up
// ------------------------------------------------------------------------------------------

let tmp = "";
let shim = "";
let checkout = "";
let ENV: Record<string, string | undefined> = {};
let feed: SampleService | undefined;
const sessions: ShellSession[] = [];
/** Every directory of this test's own a devnet may have been started in, for afterAll. */
const devnetDirs = new Set<string>();
const mayHaveDevnet = (dir: string) => {
  if (tmp && dir.startsWith(`${tmp}${path.sep}`)) devnetDirs.add(dir);
};
const ran = { readme: new Set<string>(), project: new Set<string>() };
/** The commands of every generated README (all templates and languages). */
const projectCommands = new Set<string>();
const printed = new Map<string, string>();

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-docs-"));
  shim = path.join(tmp, "shim");
  mkdirSync(shim);
  writeFileSync(
    path.join(shim, "avsctl"),
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(binPath)} "$@"\n`,
    { mode: 0o755 },
  );
  checkout = path.join(tmp, "checkout");
  mkdirSync(checkout);
  symlinkSync(path.join(repoRoot, "bin"), path.join(checkout, "bin"));
  feed = await startPriceFeed({ price: "3000.00" });
  // Settings of the developer's shell must not reach what the commands do.
  ENV = withoutShellSettings(
    {
      ...process.env,
      NO_COLOR: "1",
      PATH: [shim, path.dirname(process.execPath), process.env.PATH ?? ""].join(path.delimiter),
      // No engine answers here, so `auto` runs every devnet as processes.
      DOCKER_HOST: `unix://${path.join(tmp, "no-docker.sock")}`,
    },
    ["OTHENTIC_CLIENT_RPC_ADDRESS", "PRIVATE_KEY_PERFORMER", "PRICE_SOURCE_URL"],
  );
}, 60_000);

afterAll(async () => {
  await Promise.all(sessions.map((s) => s.stopAll()));
  if (checkout) devnetDirs.add(path.join(checkout, ".avsctl", "quickstart"));
  const left: string[] = [];
  for (const dir of devnetDirs) {
    // Twice at most: a devnet must not outlive the test because one `down` failed.
    for (let attempt = 0; attempt < 2 && existsSync(path.join(dir, ".avsctl", "devnet.json")); attempt++) {
      const r = await runCli(["devnet", "down"], { cwd: dir, env: ENV, timeoutMs: 180_000 }).catch(
        (error: Error) => ({ code: -1, stdout: "", stderr: error.message }),
      );
      if (r.code !== 0) left.push(`${dir}: exit ${r.code} ${r.stdout}${r.stderr}`);
    }
  }
  await feed?.stop();
  if (tmp) await rm(tmp, { recursive: true, force: true, maxRetries: 3 });
  expect(left, "devnet down failed in afterAll").toEqual([]);
}, 600_000);

function newSession(cwd: string): ShellSession {
  const session = new ShellSession(cwd, ENV as NodeJS.ProcessEnv);
  sessions.push(session);
  return session;
}

function scratch(name: string): string {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The directory of the nearest avsctl.config.json at or above `dir` (else `dir`). */
function projectOf(dir: string): string {
  for (let d = dir; ; d = path.dirname(d)) {
    if (existsSync(path.join(d, "avsctl.config.json"))) return d;
    if (path.dirname(d) === d) return dir;
  }
}

function contextOf(session: ShellSession): Context {
  return { session, printed, project: () => projectOf(session.cwd) };
}

async function approved(project: string, taskHash: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const r = await runCli(["task", "status", taskHash, "--json"], { cwd: project, env: ENV });
    if (r.code === 0) {
      expect(r.json().status).toBe("approved");
      return;
    }
    if (Date.now() > deadline) throw new Error(`task ${taskHash} has no verdict: ${r.stdout}${r.stderr}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

/** What the `.env.example` comment asks for, from the running devnet of the project. */
async function fillDotEnv(ctx: Context): Promise<void> {
  const root = ctx.project();
  const status = await runCli(["devnet", "status", "--json"], { cwd: root, env: ENV });
  expect(status.code, `a devnet runs for the by-hand services\n${status.stdout}`).toBe(0);
  const state = status.json();
  const file = path.join(root, ".env");
  let text = readFileSync(file, "utf8");
  const set = (name: string, value: string, required: boolean) => {
    const line = new RegExp(`^${name}=.*$`, "m");
    if (required) expect(text, `.env.example has a line to set ${name}`).toMatch(line);
    text = line.test(text) ? text.replace(line, `${name}=${value}`) : text;
  };
  set("OTHENTIC_CLIENT_RPC_ADDRESS", state.aggregator.rpcUrl, true);
  set("PRIVATE_KEY_PERFORMER", state.performer.privateKey, true);
  set("PRICE_SOURCE_URL", `${feed!.url}/price`, false);
  // Where the services pin to IPFS (price-oracle), the devnet's node stands in for Pinata.
  set("PINATA_API_URL", state.ipfs.pinataUrl, false);
  set("PINATA_GATEWAY", state.ipfs.gatewayUrl, false);
  writeFileSync(file, text);
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

/** README ports are fixed: wait (bounded) until another test's server has let go of them. */
async function waitPortFree(url: string): Promise<void> {
  const port = Number(new URL(url).port);
  const deadline = Date.now() + 120_000;
  while (!(await portFree(port))) {
    if (Date.now() > deadline) throw new Error(`port ${port} stays in use: the README's server cannot start`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

async function answers(url: string): Promise<boolean> {
  try {
    const r = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    return r.status === 200;
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------------------------
// Running
// ------------------------------------------------------------------------------------------

/** Runs one command of a README block, as its table entry says. */
async function runDocumented(command: ShellCommand, entry: Entry, ctx: Context): Promise<void> {
  const { session } = ctx;
  const where = `${command.block.source}:${command.block.line} \`${command.text}\``;
  switch (entry.run) {
    case "elsewhere":
      entry.verify();
      return;
    case "cd":
      session.cd(command.text.replace(/^cd\s+/, ""));
      return;
    case "start": {
      await waitPortFree(entry.ready);
      await session.start(command.text, () => answers(entry.ready), {
        timeoutMs: entry.timeoutMs ?? 120_000,
      });
      return;
    }
    case "follow": {
      // `exec`: the command itself leads the group, as in a terminal, where Ctrl-C reaches it
      // and not a wrapping `sh -c` (which a SIGINT would end by signal).
      const { child, output } = await session.start(`exec ${command.text}`, (o) => o.stdout.includes("\n"), {
        timeoutMs: 60_000,
      });
      expect(child.exitCode, `${where} keeps following`).toBeNull();
      const code = await session.interrupt(child);
      // interrupted, not finished: a script can tell the two apart
      expect(code, `${where} stops on Ctrl-C\n${output().stderr}`).toBe(130);
      expect(output().stderr).toContain("Error [INTERRUPTED]");
      return;
    }
    case "sh": {
      const cwd = entry.at === "repo" ? repoRoot : entry.at === "checkout" ? checkout : session.cwd;
      if (entry.at) session.cwd = cwd;
      mayHaveDevnet(projectOf(cwd));
      const r = await session.run(command.text, { timeoutMs: entry.timeoutMs ?? 120_000 });
      expect(r.code, `${where} in ${cwd}\n${why(command.text, r)}`).toBe(entry.exit ?? 0);
      await entry.check?.(r, ctx);
    }
  }
}

/**
 * Runs the blocks in order, each from `base` (a reader starts a block in the project folder);
 * `cd` moves within a block. Background servers a block started stop when it ends.
 */
async function runBlocks(
  blocks: ShellBlock[],
  table: Record<string, Entry>,
  ranSet: Set<string>,
  session: ShellSession,
  base: string,
): Promise<void> {
  const ctx = contextOf(session);
  for (const block of blocks) {
    session.cwd = base;
    try {
      for (const command of blockCommands(block)) {
        const entry = table[command.text];
        if (!entry) throw new Error(`no table entry for \`${command.text}\` (${block.source}:${block.line})`);
        await runDocumented(command, entry, ctx);
        ranSet.add(command.text);
      }
    } finally {
      await session.stopAll();
    }
  }
}

/** A printed command, run as PRINTED says, in the session's directory. */
async function runPrinted(text: string, session: ShellSession, source: string): Promise<void> {
  const row = PRINTED.find((p) => p.pattern.test(text));
  if (!row) throw new Error(`${source} prints \`${text}\`, which the PRINTED table does not know`);
  if (row.cd) {
    session.cd(text.replace(/^cd\s+/, ""));
    return;
  }
  mayHaveDevnet(projectOf(session.cwd));
  const r = await session.run(text, { timeoutMs: row.timeoutMs ?? 120_000 });
  expect(r.code, `${source}: \`${text}\` in ${session.cwd}\n${why(text, r)}`).toBe(0);
  await row.after?.(r, contextOf(session));
}

/** An error's hint names exactly the expected commands; those marked "run" succeed as written. */
async function runScenario(scenario: Scenario, session: ShellSession): Promise<void> {
  for (const setup of scenario.before ?? []) {
    const r = await session.run(setup, { timeoutMs: 120_000 });
    expect(r.code, why(setup, r)).toBe(0);
  }
  const r = await session.run(scenario.command, { timeoutMs: 120_000 });
  expect(r.code, `${scenario.name}: \`${scenario.command}\` fails\n${why(scenario.command, r)}`).not.toBe(0);
  const hint = hintCommands(r.stderr);
  expect(hint.hint, `${scenario.name}: a hint\n${why(scenario.command, r)}`).not.toBe("");
  expect
    .soft(hint.commands.sort(), `${scenario.name}: the commands its hint names\n${hint.hint}`)
    .toEqual(Object.keys(scenario.hints).sort());
  for (const command of hint.commands) {
    const how = scenario.hints[command];
    if (how !== "run") continue;
    await runPrinted(command, session, `the hint of "${scenario.name}"`);
  }
}

/** Reads a generated project's README and orders its blocks: the one that ends the devnet last. */
function projectBlocks(root: string, source: string): ShellBlock[] {
  const blocks = shellBlocks(readFileSync(path.join(root, "README.md"), "utf8"), source);
  const downs = (b: ShellBlock) => blockCommands(b).some((c) => c.text === "avsctl devnet down");
  return [...blocks.filter((b) => !downs(b)), ...blocks.filter(downs)];
}

/**
 * A project as its README and init's `next:` lines take it: init (in a scratch directory), the
 * printed next steps (cd, devnet up, a task), then every README block.
 */
async function projectLifeCycle(template: string, language: string): Promise<void> {
  const dir = scratch(`${template}-${language}`);
  const session = newSession(dir);
  const init = `avsctl init my-avs --template ${template} --language ${language}`;
  const r = await session.run(init, { timeoutMs: 900_000 });
  expect(r.code, why(init, r)).toBe(0);
  for (const command of nextCommands(r.stdout)) await runPrinted(command, session, `\`${init}\``);
  const root = path.join(dir, "my-avs");
  expect(session.cwd).toBe(root);
  await runBlocks(
    projectBlocks(root, `${template}/${language} README`),
    PROJECT_COMMANDS,
    ran.project,
    session,
    root,
  );
}

// ------------------------------------------------------------------------------------------
// The tests
// ------------------------------------------------------------------------------------------

const readmeBlocks = () => [
  ...shellBlocks(readFileSync(path.join(repoRoot, "README.md"), "utf8"), "README.md"),
  ...shellBlocks(readFileSync(path.join(repoRoot, "templates", "README.md"), "utf8"), "templates/README.md"),
];

describe("taking commands out of Markdown and output", () => {
  const block = (lang: string, ...lines: string[]): ShellBlock => ({
    source: "t",
    line: 1,
    lang,
    heading: "",
    lines,
  });
  it("splits a block as a shell reads it", () => {
    const texts = blockCommands(
      block(
        "sh",
        "cd a && npm test && npm run typecheck   # both",
        "(cd b && go test ./...)",
        'curl -d \'{"a":"#1 && 2"}\' \\',
        "  -H x",
        "",
        "# a comment line",
        "echo a#b; echo c",
      ),
    ).map((c) => c.text);
    expect(texts).toEqual([
      "cd a",
      "npm test",
      "npm run typecheck",
      "(cd b && go test ./...)",
      `curl -d '{"a":"#1 && 2"}' -H x`,
      "echo a#b",
      "echo c",
    ]);
    expect(blockCommands(block("console", "$ avsctl --version", "0.1.0")).map((c) => c.text)).toEqual([
      "avsctl --version",
    ]);
  });

  it("reads next: lines and hints", () => {
    expect(nextCommands("done\n\nnext: avsctl task send --wait\n")).toEqual(["avsctl task send --wait"]);
    expect(
      nextCommands(
        "it runs. Next:\n  avsctl task list   # all\n  avsctl init x   # then: cd x && avsctl devnet up\n",
      ),
    ).toEqual(["avsctl task list", "avsctl init x", "cd x", "avsctl devnet up"]);
    expect(hintCommands("Error [NO_DEVNET]: none\n  start one with `avsctl devnet up`\n")).toEqual({
      code: "NO_DEVNET",
      hint: "start one with `avsctl devnet up`",
      commands: ["avsctl devnet up"],
    });
  });
});

describe("every command a user is told to run works as written", () => {
  it("the tables know every command of README.md and of every generated README", async () => {
    const unknown: string[] = [];
    for (const c of readmeBlocks().flatMap(blockCommands)) {
      if (!COMMANDS[c.text]) unknown.push(`${c.block.source}:${c.block.line}  ${c.text}`);
    }
    const dir = scratch("all-templates");
    const list = await runCli(["init", "--list-templates", "--json"], { env: ENV });
    const templates: Array<{ name: string; languages: string[] }> = list.json().templates;
    const all = templates.flatMap((t) => t.languages.map((language) => ({ template: t.name, language })));
    expect(all.length).toBeGreaterThan(0);
    for (const { template, language } of all) {
      const name = `${template}-${language}`;
      const r = await runCli(
        ["init", name, "--template", template, "--language", language, "--no-install", "--json"],
        { cwd: dir, env: ENV },
      );
      expect(r.code, r.stdout + r.stderr).toBe(0);
      const readme = readFileSync(path.join(dir, name, "README.md"), "utf8");
      for (const c of shellBlocks(readme, `${name} README`).flatMap(blockCommands)) {
        projectCommands.add(c.text);
        if (!PROJECT_COMMANDS[c.text]) unknown.push(`${c.block.source}:${c.block.line}  ${c.text}`);
      }
    }
    expect(unknown, "README commands the tables do not know: add each with how it is run").toEqual([]);
  });

  it("README.md keeps the set-up, the main job and the tests at its top", () => {
    const top = shellBlocks(readFileSync(path.join(repoRoot, "README.md"), "utf8"), "README.md")
      .filter((b) => b.line < 40)
      .flatMap(blockCommands)
      .map((c) => c.text);
    expect(top).toEqual(
      expect.arrayContaining(["npm ci", "npm run build", "node bin/avsctl.js quickstart", "npm test"]),
    );
  });

  it("README.md, every block in order", { timeout: 900_000 }, async () => {
    const day = scratch("day");
    await runBlocks(readmeBlocks(), COMMANDS, ran.readme, newSession(day), day);
  });

  it("quickstart's next: lines, in its checkout", { timeout: 900_000 }, async () => {
    const output = printed.get("quickstart");
    expect(output, "README.md's quickstart ran").toBeDefined();
    const session = newSession(checkout);
    // At the checkout's root the quickstart's devnet is not "the" devnet: the hint says where it is.
    await runScenario(
      {
        name: "status at the checkout's root",
        command: "avsctl devnet status",
        hints: {
          "avsctl devnet up": {
            skip: "would start a second devnet in the checkout; run in the project below",
          },
          "avsctl --cwd .avsctl/quickstart devnet status": "run",
        },
      },
      session,
    );
    const commands = nextCommands(output!);
    expect(commands.length).toBeGreaterThan(0);
    for (const command of commands) {
      if (command === "cd my-avs") {
        // What follows `avsctl init my-avs` ("then: cd my-avs && avsctl devnet up"): first the
        // errors a project without a devnet meets, whose hints start it.
        await runPrinted(command, session, "quickstart");
        for (const scenario of BEFORE_UP) await runScenario(scenario, session);
        continue;
      }
      await runPrinted(command, session, "quickstart");
    }
    expect(session.cwd).toBe(path.join(checkout, "my-avs"));
  });

  it("init's and devnet up's next: lines", { timeout: 600_000 }, async () => {
    const init = printed.get("init");
    expect(init, "quickstart's `avsctl init my-avs` ran").toBeDefined();
    const session = newSession(checkout);
    const commands = nextCommands(init!);
    expect(commands).toEqual(["cd my-avs", "avsctl devnet up", "avsctl task send --via execution --wait"]);
    for (const command of commands) await runPrinted(command, session, "init");
    const up = nextCommands(printed.get("devnet up") ?? "");
    expect(up.length, "devnet up prints a next: line").toBeGreaterThan(0);
    for (const command of up) await runPrinted(command, session, "devnet up");
  });

  for (const scenario of WITH_DEVNET) {
    it(`the hint of an error: ${scenario.name}`, { timeout: 300_000 }, () =>
      runScenario(scenario, newSession(path.join(checkout, "my-avs"))),
    );
  }

  it("the command that applies other devnet flags, pasted as written", { timeout: 600_000 }, async () => {
    const session = newSession(path.join(checkout, "my-avs"));
    // `devnet up` with other flags than the running devnet's prints the command that applies them.
    const r = await session.run("avsctl devnet up --attesters 4", { timeoutMs: 120_000 });
    expect(r.code, why("devnet up --attesters 4", r)).toBe(0);
    const apply = /to apply[^:]*: (avsctl .*)$/m.exec(r.stdout)?.[1];
    expect(apply, r.stdout).toBeDefined();
    await runPrinted(apply!.trim(), session, "devnet up --attesters 4");
  });

  it("the typescript price-oracle project's README, in that project", { timeout: 900_000 }, async () => {
    const root = path.join(checkout, "my-avs");
    const session = newSession(root);
    await runBlocks(
      projectBlocks(root, "price-oracle/typescript README"),
      PROJECT_COMMANDS,
      ran.project,
      session,
      root,
    );
  });

  it("the workflow template's README", { timeout: 900_000 }, () =>
    projectLifeCycle("workflow", "typescript"),
  );
  it("the blank template's README (typescript)", { timeout: 900_000 }, () =>
    projectLifeCycle("blank", "typescript"),
  );
  it("the python price-oracle project's README", { timeout: 900_000 }, () =>
    projectLifeCycle("price-oracle", "python"),
  );
  it("the go price-oracle project's README", { timeout: 900_000 }, () =>
    projectLifeCycle("price-oracle", "go"),
  );

  it("every command of the tables ran (or is justified as run elsewhere)", () => {
    const readme = readmeBlocks()
      .flatMap(blockCommands)
      .map((c) => c.text)
      .filter((t) => !ran.readme.has(t));
    expect(readme, "README.md commands that did not run").toEqual([]);
    expect(projectCommands.size, "the first test read the generated READMEs").toBeGreaterThan(0);
    const project = [...projectCommands].filter((t) => !ran.project.has(t));
    expect(project, "generated README commands that did not run").toEqual([]);
  });
});
