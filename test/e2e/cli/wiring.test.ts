/**
 * The wiring table, in-process through `main()`: every command with the flags and arguments
 * commander registered for it, the JSON keys of a success that needs no devnet, and the exit
 * code of each. A flag added, renamed or dropped, or a JSON key changed, fails here first;
 * docs/cli.md changes with it. The spawned-binary e2e tests sit beside this one.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Command } from "commander";
import { afterAll, describe, expect, it } from "vitest";
import { deployL2 } from "../../../src/chain/deploy.js";
import { main } from "../../../src/cli/main.js";
import { buildProgram } from "../../../src/cli/program.js";
import { Runner } from "../../../src/cli/runner.js";
import { ANVIL_DEV_PRIVATE_KEYS, useAnvil } from "../../helpers/anvil.js";

const TARGET = [
  "--rpc-url",
  "--attestation-center",
  "--chain-id",
  "--private-key",
  "--keystore",
  "--password-stdin",
  "--allow-dev-keys",
  "--abi",
  "--dry-run",
];
const NODE = [
  "--avs-webapi",
  "--avs-webapi-port",
  "--l1-chain",
  "--l2-chain",
  "--metrics",
  "--metrics.port",
  "--keystore",
  "--host",
];
/** Each role lists its own flags; the other role's are refused by name (hidden, not listed). */
const AGGREGATOR = [
  "--json-rpc",
  "--json-rpc.port",
  "--json-rpc.custom-message-enabled",
  "--internal-tasks",
  "--sync-interval",
  "--journal",
  "--max-pending-tasks",
  "--relayer",
];
const ATTESTER = ["--avs-webapi-for", "--aggregator"];
const WORKFLOW = [
  "--input",
  "--inputs",
  "--secret",
  "--trigger-data",
  "--rpc-url",
  "--concurrency",
  "--code-timeout",
];
const KEYS = ["--dir", "--password-stdin", "--insecure"];
const ENGINE = ["--engine", "--keystore", "--password-stdin"];

/** Each command (the words after `avsctl`): its positional arguments and its flags. */
const WIRING: Record<string, { args?: string[]; flags: string[] }> = {
  init: {
    args: ["[dir]"],
    flags: ["--template", "--language", "--name", "--force", "--no-install", "--list-templates"],
  },
  "task-def create": {
    flags: [
      ...TARGET,
      "--name",
      "--block-expiry",
      "--reward-attesters",
      "--reward-performer",
      "--reward-aggregator",
      "--dispute-period",
      "--min-voting-power",
      "--restricted-operators",
      "--max-attesters",
    ],
  },
  "task-def list": { flags: [...TARGET, "--all", "--from-block"] },
  "task-def show": { args: ["<id>"], flags: TARGET },
  "task-def set-min-voting-power": { args: ["<id>", "<wei>"], flags: TARGET },
  "task-def set-restricted-operators": { args: ["<id>", "<ids...>"], flags: TARGET },
  "task-def set-max-attesters": { args: ["<id>", "<n>"], flags: TARGET },
  "task-def apply": { flags: TARGET },
  "devnet up": {
    flags: [
      "--runtime",
      "--attesters",
      "--l2-chains",
      "--block-time",
      "--no-services",
      "--engine",
      "--no-engine",
      "--fresh",
      "--validation-url",
      "--execution-url",
      "--services-runtime",
      "--ca-certs",
      "--operator-keys",
      "--watch",
    ],
  },
  "devnet down": { flags: ["--all", "--volumes"] },
  "devnet snapshot save": { args: ["<name>"], flags: [] },
  "devnet snapshot list": { flags: [] },
  "devnet snapshot restore": { args: ["<name>"], flags: [] },
  "devnet snapshot delete": { args: ["<name>"], flags: [] },
  "devnet advance": { flags: ["--blocks", "--time"] },
  "devnet status": { flags: [] },
  "devnet env": { flags: ["--format", "--service"] },
  "devnet logs": { args: ["[node]"], flags: ["--follow", "--tail", "--since", "--task"] },
  "devnet restart": { args: ["<node>"], flags: [] },
  "devnet watch": { flags: ["--ca-certs"] },
  "devnet ui": { flags: ["--port", "--open"] },
  "devnet export": { flags: ["--format", "--output"] },
  "devnet bootstrap": { flags: ["--attesters"] },
  "devnet service": { args: ["<name>"], flags: ["--port", "--host"] },
  "task send": {
    flags: [
      "--task-def",
      "--via",
      "--proof",
      "--data",
      "--sig-type",
      "--target-chain",
      "--aggregator",
      "--wait",
      "--timeout",
      "--count",
      "--concurrency",
      "--rate",
    ],
  },
  "task status": { args: ["<taskNumber|taskHash>"], flags: ["--target-chain"] },
  "task trace": { args: ["<taskHash|taskNumber>"], flags: ["--target-chain"] },
  "task list": { flags: ["--task-def", "--status", "--from-block", "--to-block", "--target-chain"] },
  "task watch": { flags: ["--target-chain", "--timeout", "--from-block"] },
  "task triggers": { flags: [] },
  "operator add": { args: ["<name>"], flags: ["--stake"] },
  "operator remove": { args: ["<name>"], flags: ["--no-wait"] },
  "operator set-stake": { args: ["<name>", "<amount>"], flags: ["--no-wait"] },
  "node aggregator": { flags: [...NODE, ...AGGREGATOR] },
  "node attester": { flags: [...NODE, ...ATTESTER] },
  "workflow validate": { args: ["<file>"], flags: [] },
  "workflow simulate": { args: ["<file>"], flags: [...WORKFLOW, "--from", "--private-key"] },
  "workflow run": {
    args: ["<file>"],
    flags: [...WORKFLOW, "--private-key", "--keystore", "--password-stdin", "--allow-dev-keys", "--engine"],
  },
  "workflow create": { args: ["<file>"], flags: ENGINE },
  "workflow list": { flags: [...ENGINE, "--status", "--limit", "--cursor"] },
  "workflow get": { args: ["<id>"], flags: ENGINE },
  "workflow trigger": { args: ["<id>"], flags: [...ENGINE, "--wait", "--trigger-data"] },
  "workflow cancel": { args: ["<id>"], flags: ENGINE },
  "workflow delete": { args: ["<id>"], flags: ENGINE },
  "workflow executions": { args: ["<id>"], flags: [...ENGINE, "--limit", "--cursor"] },
  "workflow execution": { args: ["<id>", "<execId>"], flags: [...ENGINE, "--watch"] },
  "secret set": { args: ["<name>"], flags: [...ENGINE, "--value", "--workflow"] },
  "secret list": { flags: [...ENGINE, "--workflow"] },
  "secret delete": { args: ["<name>"], flags: ENGINE },
  "keys create": { args: ["<name>"], flags: KEYS },
  "keys import": {
    args: ["<name>"],
    flags: [...KEYS, "--ecdsa-keystore", "--bls-keystore", "--private-key", "--key-stdin"],
  },
  "keys export": { args: ["<name>"], flags: [...KEYS, "--format", "--out"] },
  "keys list": { flags: KEYS },
  "keys show": { args: ["<name>"], flags: [...KEYS, "--reveal"] },
  quickstart: { flags: ["--keep", "--down", "--runtime"] },
  "config show": { flags: [] },
};

const silent = { stdout: () => {}, stderr: () => {} };
const program = buildProgram(new Runner(silent, {}), silent);

/** Every leaf command of the tree, by the words a user types. */
function leaves(command: Command, prefix: string[] = []): Map<string, Command> {
  const out = new Map<string, Command>();
  for (const sub of command.commands) {
    const words = [...prefix, sub.name()];
    if (sub.commands.length > 0) for (const [k, v] of leaves(sub, words)) out.set(k, v);
    else out.set(words.join(" "), sub);
  }
  return out;
}

function argumentsOf(command: Command): string[] {
  return command.registeredArguments.map((a) => {
    const name = `${a.name()}${a.variadic ? "..." : ""}`;
    return a.required ? `<${name}>` : `[${name}]`;
  });
}

describe("wiring table: commands, flags and arguments as commander registered them", () => {
  const registered = leaves(program);

  it("lists every command of the program, and only those", () => {
    expect([...registered.keys()].sort()).toEqual(Object.keys(WIRING).sort());
  });

  for (const [name, want] of Object.entries(WIRING)) {
    it(`${name}`, () => {
      const command = registered.get(name);
      expect(command, name).toBeDefined();
      const flags = command!.options.filter((o) => !o.hidden).map((o) => o.long ?? o.short);
      expect([...flags].sort()).toEqual([...want.flags].sort());
      expect(argumentsOf(command!)).toEqual(want.args ?? []);
    });
  }
});

const root = mkdtempSync(path.join(tmpdir(), "avsctl-wiring-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let dirCount = 0;
function dir(files: Record<string, string> = {}): string {
  const d = path.join(root, `p${++dirCount}`);
  mkdirSync(d, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(d, name), content);
  return d;
}

/** The developer's shell must not decide the outcome: no target, no keys, never a prompt. */
function cleanEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, CI: "true", NO_COLOR: "1" };
  for (const name of Object.keys(env)) {
    if (/^(AVSCTL_|L2_RPC$|L1_RPC$|PRIVATE_KEY|ATTESTATION_CENTER|DEBUG$|OTHENTIC_)/.test(name))
      delete env[name];
  }
  return { ...env, ...extra };
}

async function run(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
  const code = await main(["node", "avsctl", ...args], out, cleanEnv(env));
  return { code, stdout, stderr };
}

const keysOf = (value: unknown) => Object.keys(value as object).sort();

const VALID_WORKFLOW = path.resolve("examples/workflows/price-check.json");
const PASSWORD = { AVSCTL_KEYSTORE_PASSWORD: "wiring-test-password" };

interface JsonCase {
  name: string;
  /** Arguments after `avsctl --cwd <dir> --json`. */
  args: () => string[];
  files?: Record<string, string>;
  env?: NodeJS.ProcessEnv;
  exit: number;
  keys: string[];
}

const chain = useAnvil({ chainId: 31_337 });
let attestationCenter = "";

const jsonCases: JsonCase[] = [
  {
    name: "config show",
    args: () => ["config", "show"],
    exit: 0,
    keys: ["file", "root", "config", "sources", "signer", "warnings"],
  },
  {
    name: "init --no-install",
    args: () => ["init", "proj", "--no-install", "--language", "ts"],
    exit: 0,
    keys: ["path", "name", "template", "language", "files", "installed"],
  },
  {
    name: "keys create",
    args: () => ["keys", "create", "alice", "--dir", "keys", "--insecure"],
    env: PASSWORD,
    exit: 0,
    keys: ["name", "address", "blsPublicKey", "blsPublicKeyG1", "blsPublicKeyG2", "files"],
  },
  { name: "keys list (empty)", args: () => ["keys", "list", "--dir", "keys"], exit: 0, keys: ["keys"] },
  {
    name: "workflow validate (valid)",
    args: () => ["workflow", "validate", VALID_WORKFLOW],
    exit: 0,
    keys: ["valid", "errors"],
  },
  {
    name: "workflow validate (invalid): exit 2, same keys",
    args: () => ["workflow", "validate", "bad.json"],
    files: { "bad.json": JSON.stringify({ name: "x", nodes: [], edges: [{ from: "a", to: "b" }] }) },
    exit: 2,
    keys: ["valid", "errors"],
  },
  {
    name: "devnet snapshot list without snapshots",
    args: () => ["devnet", "snapshot", "list"],
    exit: 0,
    keys: ["snapshots"],
  },
  {
    name: "devnet down without a devnet: what was removed, what was kept",
    args: () => ["devnet", "down"],
    files: { "avsctl.config.json": JSON.stringify({ name: "wiring-down" }) },
    exit: 0,
    keys: ["removed", "kept"],
  },
  {
    name: "task triggers without a devnet",
    args: () => ["task", "triggers"],
    exit: 0,
    keys: ["running", "triggers"],
  },
  {
    name: "task-def create --dry-run on a plain anvil",
    args: () => [
      "task-def",
      "create",
      "--name",
      "wired",
      "--reward-attesters",
      "0.1eth",
      "--restricted-operators",
      "3,1",
      "--rpc-url",
      chain().rpcUrl,
      "--attestation-center",
      attestationCenter,
      "--dry-run",
    ],
    exit: 0,
    keys: ["dryRun", "generation", "chainId", "calls", "warnings"],
  },
];

describe("JSON keys and exit codes of a success, in-process", () => {
  for (const c of jsonCases) {
    it(`${c.name}: exit ${c.exit}`, async () => {
      if (c.name.startsWith("task-def") && attestationCenter === "") {
        attestationCenter = (
          await deployL2({ rpcUrl: chain().rpcUrl, privateKey: ANVIL_DEV_PRIVATE_KEYS[0] })
        ).attestationCenter;
      }
      const cwd = dir(c.files);
      const r = await run(["--cwd", cwd, "--json", ...c.args()], c.env);
      expect(r.code, r.stdout + r.stderr).toBe(c.exit);
      expect(keysOf(JSON.parse(r.stdout))).toEqual([...c.keys].sort());
    });
  }

  it("task-def create --dry-run: the parsed flags reach the call (wei, sorted ids), nothing sent", async () => {
    const r = await run(["--cwd", dir(), "--json", ...jsonCases.at(-1)!.args()]);
    expect(r.code, r.stdout).toBe(0);
    const body = JSON.parse(r.stdout);
    expect(body.calls).toHaveLength(1);
    expect(keysOf(body.calls[0])).toEqual(["args", "data", "method", "to"]);
    expect(body.calls[0].method).toMatch(/^createNewTaskDefinition\(/);
    expect(JSON.stringify(body.calls[0].args)).toContain("100000000000000000");
    expect(body.warnings).toEqual([
      expect.stringContaining("1,3"),
      // a plain anvil's AttestationCenter has no operators, so none of the set can attest
      expect.stringMatching(/operator id\(s\) 1, 3 are not active/),
      // off the devnet it names what to do there, not a devnet command that would exit 4
      expect.stringMatching(
        /^no restricted operator can attest, .*\(NO_ELIGIBLE_ATTESTERS\); include the operator ids of attesters registered with voting power/,
      ),
    ]);
    expect(body.warnings.join("\n")).not.toMatch(/devnet/);
  });
});

describe("the handler context", () => {
  const warned = { "avsctl.config.json": JSON.stringify({ name: "w", notAKey: 1 }) };

  it("config warnings join the --json result as `warnings`", async () => {
    const r = await run(["--cwd", dir(warned), "--json", "task", "triggers"]);
    expect(r.code, r.stdout).toBe(0);
    expect(JSON.parse(r.stdout).warnings).toEqual([expect.stringContaining("notAKey")]);
    expect(r.stderr).toBe("");
  });

  it("config warnings go to stderr for humans, stdout keeps the result", async () => {
    const r = await run(["--cwd", dir(warned), "task", "triggers"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^warning: notAKey/m);
    expect(r.stdout).not.toContain("notAKey");
  });

  it("config show reports its warnings once, in its own result, as strings like every command's", async () => {
    const r = await run(["--cwd", dir(warned), "--json", "config", "show"]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).warnings).toEqual(["notAKey: unknown key, ignored"]);
    const other = await run(["--cwd", dir(warned), "--json", "task", "triggers"]);
    expect(JSON.parse(r.stdout).warnings).toEqual(JSON.parse(other.stdout).warnings);
  });

  it("a flag value is parsed where it is declared: a bad one exits 2 naming the flag", async () => {
    for (const [args, flag] of [
      [["task", "send", "--count", "0"], "--count"],
      [["task", "watch", "--timeout", "soon"], "--timeout"],
      [["task-def", "create", "--name", "x", "--max-attesters", "-1"], "--max-attesters"],
      [["workflow", "simulate", VALID_WORKFLOW, "--from", "0x12"], "--from"],
      [["node", "aggregator", "--metrics.port", "70000"], "--metrics.port"],
      [["keys", "export", "a", "--format", "pem"], "--format"],
    ] as const) {
      const r = await run(["--cwd", dir(), "--json", ...args]);
      expect(r.code, `${args.join(" ")}: ${r.stdout}`).toBe(2);
      const { error } = JSON.parse(r.stdout);
      expect(["INVALID_ARGUMENT", "INVALID_ADDRESS"]).toContain(error.code);
      expect(error.details?.argument, args.join(" ")).toBe(flag);
      // the default usage hint names the command that failed, as for any other usage error
      if (error.code === "INVALID_ARGUMENT")
        expect(error.hint).toContain(`avsctl ${args[0]} ${args[1]} --help`);
    }
  });
});
