/**
 * The exit-code table, wired: each command's failure modes, run in-process through `main()`,
 * give the exit code of the table (0 ok, 1 failed, 2 invalid input, 3 timeout, 4 environment),
 * the stable `--json` error code, and a hint that names only commands and flags that exist.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";
import { buildProgram } from "../../../src/cli/program.js";
import { Runner } from "../../../src/cli/runner.js";
import { AvsctlError, DEFAULT_HINTS, ERROR_CODES, type ErrorCode, hintOf } from "../../../src/errors.js";
import { withAnvil } from "../../helpers/anvil.js";
import { cleanEnv } from "../../helpers/cli.js";
import { foreignFlags, unpastable } from "../../helpers/pastable.js";

const root = mkdtempSync(path.join(tmpdir(), "avsctl-exit-codes-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
/** A fresh directory holding `files`; no devnet has ever run there. */
function dir(files: Record<string, string> = {}): string {
  const d = path.join(root, `p${++dirCount}`);
  mkdirSync(d, { recursive: true });
  for (const [name, content] of Object.entries(files)) writeFileSync(path.join(d, name), content);
  return d;
}

async function run(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const out = { stdout: (t: string) => void (stdout += t), stderr: (t: string) => void (stderr += t) };
  const code = await main(["node", "avsctl", ...args], out, cleanEnv());
  return { code, stdout, stderr };
}

const AC = "0x5FbDB2315678afecb367f032d93F642f64180aa3";
const DEAD_RPC = "http://127.0.0.1:1"; // nothing listens on port 1: refused at once
const foreign = ["--rpc-url", DEAD_RPC, "--attestation-center", AC];

interface Case {
  name: string;
  /** Arguments after `avsctl`, without --cwd and --json (added here). */
  args: string[];
  /** Files of the project directory the command runs in. */
  files?: Record<string, string>;
  exit: number;
  code: ErrorCode;
}

const badJson = { "avsctl.config.json": '{ "name": "x",, }' };
const notEmpty = { "keep.txt": "mine" };

const cases: Case[] = [
  // usage (2): commander's own parsing
  { name: "unknown command", args: ["bogus"], exit: 2, code: "UNKNOWN_COMMAND" },
  { name: "unknown subcommand", args: ["devnet", "bogus"], exit: 2, code: "UNKNOWN_COMMAND" },
  { name: "unknown flag", args: ["task", "send", "--bogus"], exit: 2, code: "UNKNOWN_OPTION" },
  { name: "unknown global flag", args: ["--bogus", "devnet", "status"], exit: 2, code: "UNKNOWN_OPTION" },
  { name: "missing argument", args: ["task-def", "show"], exit: 2, code: "MISSING_ARGUMENT" },
  { name: "missing option value", args: ["task", "list", "--status"], exit: 2, code: "MISSING_ARGUMENT" },
  // invalid values (2): checked before anything is sent or started
  {
    // commander took `-1eth` for an unknown option
    name: "operator set-stake, a negative amount",
    args: ["operator", "set-stake", "attester-2", "-1eth"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "operator add, a name the devnet keeps",
    args: ["operator", "add", "performer"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "task list --status",
    args: ["task", "list", "--status", "maybe"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "task list --from-block",
    args: ["task", "list", "--from-block", "-3"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "task list --to-block before --from-block",
    args: ["task", "list", "--from-block", "19", "--to-block", "17"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  { name: "task status <n>", args: ["task", "status", "seven"], exit: 2, code: "INVALID_ARGUMENT" },
  // a hash cut short is refused, not read as a task number in hex
  { name: "task status <0x..>", args: ["task", "status", "0xdeadbeef"], exit: 2, code: "INVALID_ARGUMENT" },
  { name: "task trace <0x..>", args: ["task", "trace", "0x259a6925"], exit: 2, code: "INVALID_ARGUMENT" },
  {
    name: "devnet up --runtime",
    args: ["devnet", "up", "--runtime", "vm"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "devnet up --attesters",
    args: ["devnet", "up", "--attesters", "0"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  { name: "devnet logs --tail", args: ["devnet", "logs", "--tail", "x"], exit: 2, code: "INVALID_ARGUMENT" },
  {
    name: "task-def --abi",
    args: ["task-def", "list", ...foreign, "--abi", "gen9"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "task-def --rpc-url not a URL",
    args: ["task-def", "list", "--rpc-url", "ftp://x", "--attestation-center", AC],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    // a required value not given is MISSING_ARGUMENT (docs/cli.md), not a wrong one
    name: "task-def --rpc-url without --attestation-center",
    args: ["task-def", "list", "--rpc-url", DEAD_RPC],
    exit: 2,
    code: "MISSING_ARGUMENT",
  },
  {
    name: "task-def --attestation-center without --rpc-url",
    args: ["task-def", "list", "--attestation-center", AC],
    exit: 2,
    code: "MISSING_ARGUMENT",
  },
  { name: "node attester, no L2", args: ["node", "attester"], exit: 2, code: "MISSING_ARGUMENT" },
  // a flag of the other role is refused by name, not ignored
  {
    name: "node attester --journal",
    args: ["node", "attester", "--journal", "x.db"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "node attester --json-rpc",
    args: ["node", "attester", "--json-rpc"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "node aggregator --aggregator",
    args: ["node", "aggregator", "--aggregator", DEAD_RPC],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    // the devnet's execution service sends to the devnet's aggregator, never to --aggregator
    name: "task send --via execution --aggregator",
    args: ["task", "send", "--via", "execution", "--aggregator", DEAD_RPC],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    // "nothing to change" would be said of a config that is not there
    name: "task-def apply, no config",
    args: ["task-def", "apply", ...foreign],
    exit: 2,
    code: "CONFIG_NOT_FOUND",
  },
  {
    name: "task-def create without --name",
    args: ["task-def", "create", ...foreign],
    exit: 2,
    code: "MISSING_ARGUMENT",
  },
  {
    name: "task-def create --reward-attesters",
    args: ["task-def", "create", "--name", "x", "--reward-attesters", "lots", ...foreign],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  {
    name: "quickstart --keep --down",
    args: ["quickstart", "--keep", "--down"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  // invalid addresses (2)
  {
    name: "task-def --attestation-center not hex",
    args: ["task-def", "list", "--rpc-url", DEAD_RPC, "--attestation-center", "0x1234"],
    exit: 2,
    code: "INVALID_ADDRESS",
  },
  {
    name: "task-def --attestation-center bad checksum",
    args: ["task-def", "list", "--rpc-url", DEAD_RPC, "--attestation-center", AC.replace("F", "f")],
    exit: 2,
    code: "INVALID_ADDRESS",
  },
  // configuration (2)
  { name: "config JSON syntax", args: ["config", "show"], files: badJson, exit: 2, code: "CONFIG_INVALID" },
  {
    name: "config JSON syntax (task list)",
    args: ["task", "list"],
    files: badJson,
    exit: 2,
    code: "CONFIG_INVALID",
  },
  {
    name: "config value",
    args: ["config", "show"],
    files: { "avsctl.config.json": JSON.stringify({ devnet: { attesters: 0 } }) },
    exit: 2,
    code: "CONFIG_INVALID",
  },
  {
    // checked at load by task-def's own parser, before devnet up deploys or apply sends
    name: "config taskDefinitions amount",
    args: ["config", "show"],
    files: {
      "avsctl.config.json": JSON.stringify({ taskDefinitions: [{ name: "a", rewardAttesters: "abc" }] }),
    },
    exit: 2,
    code: "CONFIG_INVALID",
  },
  {
    name: "config taskDefinitions amount (task-def apply --dry-run)",
    args: ["task-def", "apply", "--dry-run", ...foreign],
    files: {
      "avsctl.config.json": JSON.stringify({ taskDefinitions: [{ name: "a", minVotingPower: "lots" }] }),
    },
    exit: 2,
    code: "CONFIG_INVALID",
  },
  {
    name: "config network.attestationCenter (task list)",
    args: ["task", "list"],
    files: { "avsctl.config.json": JSON.stringify({ network: { attestationCenter: "0x12" } }) },
    exit: 2,
    code: "CONFIG_INVALID",
  },
  {
    name: "--config missing",
    args: ["--config", "nope.json", "config", "show"],
    exit: 2,
    code: "CONFIG_NOT_FOUND",
  },
  // init (2)
  {
    name: "init into a non-empty directory",
    args: ["init", ".", "--no-install", "--language", "ts"],
    files: notEmpty,
    exit: 2,
    code: "DIRECTORY_NOT_EMPTY",
  },
  { name: "init --template", args: ["init", "x", "--template", "nope"], exit: 2, code: "INVALID_ARGUMENT" },
  { name: "init --language", args: ["init", "x", "--language", "cobol"], exit: 2, code: "INVALID_ARGUMENT" },
  // keys
  {
    name: "keys import a short key",
    args: ["keys", "import", "k", "--dir", "keys", "--private-key", "0x1234", "--insecure"],
    exit: 2,
    code: "INVALID_KEY",
  },
  {
    name: "keys show unknown",
    args: ["keys", "show", "nobody", "--dir", "keys"],
    exit: 1,
    code: "NOT_FOUND",
  },
  // input is checked before the environment: a bad flag is 2 even without a devnet
  {
    name: "task send --via unknown",
    args: ["task", "send", "--via", "nope"],
    exit: 2,
    code: "INVALID_ARGUMENT",
  },
  // no signer (2): the engine commands take --keystore, not --private-key
  {
    name: "workflow list, no signer",
    args: ["workflow", "list", "--engine", DEAD_RPC],
    exit: 2,
    code: "MISSING_ARGUMENT",
  },
  {
    name: "secret list, no signer",
    args: ["secret", "list", "--engine", DEAD_RPC],
    exit: 2,
    code: "MISSING_ARGUMENT",
  },
  // no devnet (4)
  { name: "task send, no devnet", args: ["task", "send"], exit: 4, code: "NO_DEVNET" },
  { name: "task list, no devnet", args: ["task", "list"], exit: 4, code: "NO_DEVNET" },
  { name: "task status, no devnet", args: ["task", "status", "1"], exit: 4, code: "NO_DEVNET" },
  { name: "task watch, no devnet", args: ["task", "watch", "--timeout", "1"], exit: 4, code: "NO_DEVNET" },
  { name: "task trace, no devnet", args: ["task", "trace", "1"], exit: 4, code: "NO_DEVNET" },
  { name: "devnet status, no devnet", args: ["devnet", "status"], exit: 4, code: "NO_DEVNET" },
  { name: "devnet logs, no devnet", args: ["devnet", "logs"], exit: 4, code: "NO_DEVNET" },
  {
    name: "devnet logs <node>, no devnet",
    args: ["devnet", "logs", "aggregator"],
    exit: 4,
    code: "NO_DEVNET",
  },
  {
    name: "devnet restart, no devnet",
    args: ["devnet", "restart", "aggregator"],
    exit: 4,
    code: "NO_DEVNET",
  },
  { name: "task-def list, no devnet", args: ["task-def", "list"], exit: 4, code: "NO_DEVNET" },
  { name: "task-def show, no devnet", args: ["task-def", "show", "1"], exit: 4, code: "NO_DEVNET" },
  {
    name: "task-def create, no devnet",
    args: ["task-def", "create", "--name", "x"],
    exit: 4,
    code: "NO_DEVNET",
  },
  {
    name: "task-def apply, no devnet",
    args: ["task-def", "apply"],
    files: { "avsctl.config.json": JSON.stringify({ taskDefinitions: [{ name: "x" }] }) },
    exit: 4,
    code: "NO_DEVNET",
  },
  // unreachable RPC (4)
  {
    name: "task-def list, dead RPC",
    args: ["task-def", "list", ...foreign],
    exit: 4,
    code: "RPC_UNREACHABLE",
  },
  {
    name: "task-def set-min-voting-power, dead RPC",
    args: ["task-def", "set-min-voting-power", "1", "5", ...foreign],
    exit: 4,
    code: "RPC_UNREACHABLE",
  },
  // Needing a running devnet, so in the task tests (test/e2e/task): a rejected task (1,
  // TASK_REJECTED verdict), an unknown --task-def on send (2, TASK_DEF_NOT_FOUND), an execution
  // service that answers an error (1, EXECUTION_FAILED), `send --wait` timing out (3), and
  // `task-def show 99` (2, TASK_DEF_NOT_FOUND, in test/e2e/task-def).
];

const program = buildProgram(new Runner({ stdout: () => {}, stderr: () => {} }, {}), {
  stdout: () => {},
  stderr: () => {},
});

describe("exit codes and --json errors", () => {
  for (const c of cases) {
    it(`${c.name}: exit ${c.exit}, ${c.code}`, async () => {
      const cwd = dir(c.files);
      const r = await run(["--cwd", cwd, "--json", ...c.args]);
      expect(r.code, r.stdout + r.stderr).toBe(c.exit);
      const body = JSON.parse(r.stdout) as { error: { code: string; message: string; hint: unknown } };
      expect(body.error.code).toBe(c.code);
      expect(body.error.message).toEqual(expect.any(String));
      expect(typeof body.error.hint).toBe("string");
      expect((body.error.hint as string).trim()).not.toBe("");
      expect(unpastable(`${body.error.hint}`, program)).toEqual([]);
      // but the flag an UNKNOWN_OPTION names, which is the one the user got wrong
      if (c.code !== "UNKNOWN_OPTION") {
        expect(foreignFlags(`${body.error.message}\n${body.error.hint}`, c.args, program)).toEqual([]);
      }

      // the same failure for a human: the code and the hint on stderr, nothing on stdout
      const human = await run(["--cwd", cwd, ...c.args]);
      expect(human.code).toBe(c.exit);
      expect(human.stdout).toBe("");
      expect(human.stderr).toContain(`Error [${c.code}]`);
      expect(human.stderr).toContain(body.error.hint as string);
    });
  }

  it("no devnet and no target: a command with --rpc-url names the flags, one without names the variables", async () => {
    const withFlags = JSON.parse((await run(["--cwd", dir(), "--json", "task-def", "list"])).stdout).error;
    expect(withFlags.message).toContain("no --rpc-url/--attestation-center given");
    const without = JSON.parse((await run(["--cwd", dir(), "--json", "task", "list"])).stdout).error;
    expect(without.message).toBe(
      "no target: no devnet is running and AVSCTL_RPC_URL/AVSCTL_ATTESTATION_CENTER are not set",
    );
    expect(without.hint).toContain("set AVSCTL_RPC_URL and AVSCTL_ATTESTATION_CENTER");

    // a target from the environment: what is missing or unreachable is named as it was given
    const withEnv = async (env: Record<string, string>) => {
      let stdout = "";
      const out = { stdout: (t: string) => void (stdout += t), stderr: () => {} };
      const code = await main(["node", "avsctl", "--cwd", dir(), "--json", "task", "list"], out, {
        ...cleanEnv(),
        ...env,
      });
      return { code, error: JSON.parse(stdout).error };
    };
    const half = await withEnv({ AVSCTL_RPC_URL: DEAD_RPC });
    expect(half.code).toBe(2);
    expect(half.error.code).toBe("MISSING_ARGUMENT");
    expect(half.error.message).toBe(
      "AVSCTL_ATTESTATION_CENTER: required with AVSCTL_RPC_URL (or set ATTESTATION_CENTER_ADDRESS)",
    );
    const dead = await withEnv({ AVSCTL_RPC_URL: DEAD_RPC, AVSCTL_ATTESTATION_CENTER: AC });
    expect(dead.code).toBe(4);
    expect(dead.error.code).toBe("RPC_UNREACHABLE");
    expect(dead.error.hint).toContain("check AVSCTL_RPC_URL");
    // the URL is the user's: a devnet started now would not answer there
    expect(dead.error.hint).not.toMatch(/devnet/);
    const flagged = JSON.parse(
      (
        await run([
          "--cwd",
          dir(),
          "--json",
          "task-def",
          "list",
          "--rpc-url",
          DEAD_RPC,
          "--attestation-center",
          AC,
        ])
      ).stdout,
    ).error;
    expect(flagged).toMatchObject({
      code: "RPC_UNREACHABLE",
      hint: expect.stringContaining("check --rpc-url"),
    });
    expect(flagged.hint).not.toMatch(/devnet/);
    expect(foreignFlags(`${dead.error.message}\n${dead.error.hint}`, ["task", "list"], program)).toEqual([]);
  });

  it("a malformed target variable is named as it was given (and its .env), the hint saying what to fix", async () => {
    const named = async (args: string[], env: Record<string, string>, files: Record<string, string> = {}) => {
      let stdout = "";
      const out = { stdout: (t: string) => void (stdout += t), stderr: () => {} };
      const code = await main(["node", "avsctl", "--cwd", dir(files), "--json", ...args], out, {
        ...cleanEnv(),
        ...env,
      });
      return { code, error: JSON.parse(stdout).error };
    };
    for (const args of [
      ["task", "list"],
      ["task-def", "list"],
    ]) {
      const cases: Array<[Record<string, string>, Record<string, string>, string, string, string]> = [
        [{ L2_RPC: "notaurl" }, {}, "INVALID_ARGUMENT", "L2_RPC", "fix the environment variable L2_RPC"],
        [
          {},
          { ".env": "L2_RPC=notaurl\n" },
          "INVALID_ARGUMENT",
          "L2_RPC (in .env)",
          "fix L2_RPC in the project's .env",
        ],
        [
          { L2_RPC: DEAD_RPC, ATTESTATION_CENTER_ADDRESS: "0x12" },
          {},
          "INVALID_ADDRESS",
          "ATTESTATION_CENTER_ADDRESS",
          "fix the environment variable ATTESTATION_CENTER_ADDRESS",
        ],
        [
          { L2_RPC: DEAD_RPC },
          { ".env": "ATTESTATION_CENTER_ADDRESS=0x12\n" },
          "INVALID_ADDRESS",
          "ATTESTATION_CENTER_ADDRESS (in .env)",
          "fix ATTESTATION_CENTER_ADDRESS in the project's .env",
        ],
      ];
      for (const [env, files, code, name, hint] of cases) {
        const r = await named(args, env, files);
        expect(r.code, `${args.join(" ")} ${name}`).toBe(2);
        expect(r.error).toMatchObject({ code, hint, details: { argument: name } });
        expect(r.error.message).toMatch(new RegExp(`^${name.replace(/[().]/g, "\\$&")}: "`));
      }
    }
    // a flag given is still named as the flag
    const flagged = await named(["task-def", "list", "--rpc-url", "notaurl", "--attestation-center", AC], {
      L2_RPC: DEAD_RPC,
    });
    expect(flagged.error.details.argument).toBe("--rpc-url");
  });

  it("an RPC URL nothing answers at: the hint names what gave it, and fixing that is what gets past it", async () => {
    const unreachable = (name: string) =>
      `check ${name}: nothing answers JSON-RPC at that URL (a typo, or the node is down)`;
    const attempt = async (args: string[], env: Record<string, string>, files: Record<string, string>) => {
      const cwd = dir(files);
      let stdout = "";
      const out = { stdout: (t: string) => void (stdout += t), stderr: () => {} };
      const code = await main(["node", "avsctl", "--cwd", cwd, "--json", ...args], out, {
        ...cleanEnv(),
        ...env,
      });
      return { code, cwd, error: JSON.parse(stdout).error };
    };
    const config = (rpcUrl: string) => ({
      "avsctl.config.json": JSON.stringify({ name: "x", network: { rpcUrl, attestationCenter: AC } }),
    });
    // each origin, with the URL nothing answers at and with one that answers: [env, files, name]
    const origins = (url: string): Array<[Record<string, string>, Record<string, string>, string]> => [
      [{ AVSCTL_RPC_URL: url, AVSCTL_ATTESTATION_CENTER: AC }, {}, "AVSCTL_RPC_URL"],
      [{ L2_RPC: url, ATTESTATION_CENTER_ADDRESS: AC }, {}, "L2_RPC"],
      [{}, { ".env": `L2_RPC=${url}\nATTESTATION_CENTER_ADDRESS=${AC}\n` }, "L2_RPC (in .env)"],
      [{}, config(url), "network.rpcUrl (in <file>)"],
    ];
    await withAnvil({}, async (chain) => {
      for (const args of [
        ["task", "list"],
        ["task-def", "list"],
      ]) {
        const fixed = origins(chain.rpcUrl);
        for (const [i, [env, files, name]] of origins(DEAD_RPC).entries()) {
          const r = await attempt(args, env, files);
          const origin = name.replace("<file>", path.join(r.cwd, "avsctl.config.json"));
          expect(r.code, `${args.join(" ")} ${name}`).toBe(4);
          expect(r.error).toMatchObject({ code: "RPC_UNREACHABLE", hint: unreachable(origin) });
          expect(foreignFlags(`${r.error.message}\n${r.error.hint}`, args, program)).toEqual([]);
          // the same origin set to a URL a node answers at: what fails now is the next thing, the
          // AttestationCenter (no contract at it on a fresh chain)
          const [fixedEnv, fixedFiles] = fixed[i]!;
          const ok = await attempt(args, fixedEnv, fixedFiles);
          expect(ok.error, `${args.join(" ")} ${name}`).toMatchObject({ code: "INVALID_ADDRESS" });
        }
      }
      // a flag names the flag, which the command takes, over the variable it wins over
      const flagged = await attempt(
        ["task-def", "list", "--rpc-url", DEAD_RPC, "--attestation-center", AC],
        { L2_RPC: chain.rpcUrl },
        {},
      );
      expect(flagged.error).toMatchObject({ code: "RPC_UNREACHABLE", hint: unreachable("--rpc-url") });
      expect(foreignFlags(flagged.error.hint, ["task-def", "list"], program)).toEqual([]);
      const pasted = await attempt(
        ["task-def", "list", "--rpc-url", chain.rpcUrl, "--attestation-center", AC],
        { L2_RPC: DEAD_RPC },
        {},
      );
      expect(pasted.error).toMatchObject({ code: "INVALID_ADDRESS" });
    });
    // something that answers JSON-RPC, but no chain id: not said to answer nothing
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: 42 }));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const notANode = await attempt(["task", "list"], { L2_RPC: url, ATTESTATION_CENTER_ADDRESS: AC }, {});
      expect(notANode.error).toMatchObject({
        code: "RPC_UNREACHABLE",
        message: `${url} is not an Ethereum JSON-RPC endpoint`,
      });
      expect(notANode.error.hint).not.toMatch(/nothing answers/);
    } finally {
      server.close();
    }
  });

  it("a malformed performer key is INVALID_KEY naming its variable, and is never printed", async () => {
    const key = "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
    const send = async (env: Record<string, string>) => {
      let text = "";
      const out = { stdout: (t: string) => void (text += t), stderr: (t: string) => void (text += t) };
      const args = ["node", "avsctl", "--cwd", dir(), "--json", "task", "send", "--aggregator", DEAD_RPC];
      const code = await main(args, out, { ...cleanEnv(), ...env });
      return { code, text, error: JSON.parse(text).error };
    };
    for (const [name, value, problem] of [
      ["PRIVATE_KEY_PERFORMER", `0x${key.slice(0, -1)}g`, "expected 32 bytes of hex"],
      ["PRIVATE_KEY_PERFORMER", "0x12", "expected 32 bytes of hex"],
      ["PRIVATE_KEY_PERFORMER", `0x${"0".repeat(64)}`, "it is zero"],
      [
        "AVSCTL_PRIVATE_KEY",
        "0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141",
        "it is not below the secp256k1 group order",
      ],
    ] as const) {
      const r = await send({ [name]: value });
      expect(r.code, r.text).toBe(2);
      expect(r.error.code).toBe("INVALID_KEY");
      expect(r.error.message).toBe(`${name}: not a private key (${problem})`);
      expect(r.text).not.toContain(value.slice(2, 20));
    }
    // surrounding blanks (a copied line) are no part of the key: it is taken, and goes no further
    // than the aggregator nobody listens for
    const padded = await send({ PRIVATE_KEY_PERFORMER: `${key} ` });
    expect(padded.error.code).toBe("RPC_UNREACHABLE");
    expect(padded.text).not.toContain(key.slice(0, 20));
  });

  it("no signer: the message names the signer flags the command takes", async () => {
    const r = await run(["--cwd", dir(), "--json", "workflow", "list", "--engine", DEAD_RPC]);
    expect(JSON.parse(r.stdout).error.message).toBe("no signer: pass --keystore, or set AVSCTL_PRIVATE_KEY");
  });

  it("a task that is neither a number nor a hash: the error says both are taken", async () => {
    for (const command of ["status", "trace"]) {
      const r = await run(["--cwd", dir(), "--json", "task", command, "abc"]);
      expect(r.code).toBe(2);
      expect(JSON.parse(r.stdout).error.message).toBe(
        '<taskNumber|taskHash>: "abc" is neither a task number (decimal) nor a task hash (0x and 64 hex digits)',
      );
    }
  });

  it("a count out of its range states the range it takes, whatever the value", async () => {
    for (const value of ["99999999999", "-3", "0", "1000001", "many"]) {
      const r = await run(["--cwd", dir(), "--json", "devnet", "advance", "--blocks", value]);
      expect(r.code, value).toBe(2);
      expect(JSON.parse(r.stdout).error.message, value).toBe(
        `--blocks: expected an integer from 1 to 1000000, got "${value}"`,
      );
    }
  });

  it("a config syntax error names the parser's line and column", async () => {
    const r = await run(["--cwd", dir(badJson), "--json", "config", "show"]);
    const { error } = JSON.parse(r.stdout);
    expect(error.message).toMatch(/line 1 column \d+/);
    expect(error.details).toMatchObject({ line: 1, column: expect.any(Number) });
  });

  it("every code of the catalog has a default hint that names only real commands and flags", () => {
    for (const code of Object.keys(ERROR_CODES) as ErrorCode[]) {
      expect(DEFAULT_HINTS[code], code).toBeDefined();
      for (const command of [undefined, "task send", "devnet logs"]) {
        const hint = hintOf(new AvsctlError(code, "m"), { command });
        expect(hint.trim(), code).not.toBe("");
        expect(unpastable(hint, program), code).toEqual([]);
      }
    }
  });
});

describe("help", () => {
  const groups = program.commands.filter((c) => c.commands.length > 0).map((c) => c.name());

  it("covers the command groups", () => {
    expect(groups).toEqual(
      expect.arrayContaining(["devnet", "task", "task-def", "keys", "workflow", "node"]),
    );
  });

  for (const args of [[], ...groups.map((g) => [g])]) {
    it(`\`avsctl ${args.join(" ")}\` prints its help on stdout and exits 0`, async () => {
      const r = await run(args);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: avsctl ${args.length ? `${args[0]} ` : ""}[options] [command]`);
      expect(r.stderr).toBe("");
    });
  }
});
