/**
 * avsctl against a network of the user's (no devnet, no project): `task send --aggregator`,
 * `task-def --rpc-url`, `node`. What it prints names what works there, never a devnet command
 * (which would exit 4 NO_DEVNET), and a quoted command works pasted. A real anvil with our
 * AttestationCenter, and an aggregator's JSON-RPC surface on 127.0.0.1 built from the
 * aggregator's own dispatcher and refusals.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { encryptKeystoreJsonSync, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";
import { buildProgram } from "../../../src/cli/program.js";
import { Runner } from "../../../src/cli/runner.js";
import {
  chainUnavailable,
  noEligibleAttesters,
  notRecorded,
  unknownChain,
} from "../../../src/node/aggregator/refusals.js";
import { dispatchJsonRpc, RpcError } from "../../../src/node/json-rpc.js";
import { useAnvil } from "../../helpers/anvil.js";
import { cleanEnv, runCli, runPasted } from "../../helpers/cli.js";
import { foreignFlags, unpastable } from "../../helpers/pastable.js";
import { DEPLOYER_KEY, deployAttestationCenter } from "../task-def/fixture.js";

/** anvil's third account: a performer key the CLI takes from PRIVATE_KEY_PERFORMER. */
const PERFORMER_KEY = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";
const DEAD = "http://127.0.0.1:1";

const chain = useAnvil({ chainId: 31338 });
const root = mkdtempSync(path.join(tmpdir(), "avsctl-off-devnet-"));
let dirs = 0;
const dir = (files: Record<string, string> = {}) => {
  const d = path.join(root, `d${++dirs}`);
  mkdirSync(d, { recursive: true });
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(d, name), text);
  return d;
};

const silent = { stdout: () => {}, stderr: () => {} };
const program = buildProgram(new Runner(silent, {}), silent);

interface Failure {
  code: number;
  error: { code: string; message: string; hint: string; details?: Record<string, unknown> };
}

/** `avsctl --json <args>` in a directory of its own, as the walkthrough ran it. */
async function avsctl(args: string[], env: Record<string, string> = {}): Promise<Failure & { body: any }> {
  let stdout = "";
  const out = { stdout: (t: string) => void (stdout += t), stderr: () => {} };
  const code = await main(["node", "avsctl", "--cwd", dir(), "--json", ...args], out, {
    ...cleanEnv(),
    ...env,
  });
  const body = JSON.parse(stdout);
  return { code, error: body.error, body };
}

/** What every hint off the devnet must be: no devnet command, pastable, only the command's flags. */
function expectOffDevnet(r: Failure, args: string[]): void {
  expect(`${r.error.message}\n${r.error.hint}`).not.toMatch(/devnet/);
  expect(unpastable(r.error.hint, program)).toEqual([]);
  expect(foreignFlags(`${r.error.message}\n${r.error.hint}`, args, program)).toEqual([]);
}

let ac: string;
let aggregator: string;
let sent = 0;
/** What the aggregator answers sendTask with. */
let refusal: () => RpcError = () => new RpcError("INTERNAL_ERROR", "unset");
let server: http.Server;

beforeAll(async () => {
  ac = await deployAttestationCenter(chain());
  server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", async () => {
      const answer = await dispatchJsonRpc(body, {
        maxBatch: 10,
        methods: {
          sendTask: () => {
            sent++;
            throw refusal();
          },
        },
      });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(answer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  aggregator = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  rmSync(root, { recursive: true, force: true });
});

const performer = { PRIVATE_KEY_PERFORMER: PERFORMER_KEY };
const send = (...more: string[]) => ["task", "send", "--aggregator", aggregator, ...more];

describe("task send --aggregator: hints name what works off the devnet", () => {
  it("an aggregator nobody serves: check --aggregator, not the devnet", async () => {
    const args = ["task", "send", "--aggregator", DEAD];
    const r = await avsctl(args, performer);
    expect(r.code).toBe(4);
    expect(r.error.code).toBe("RPC_UNREACHABLE");
    expect(r.error.hint).toBe(
      "check the --aggregator URL, and that the aggregator runs there and serves JSON-RPC",
    );
    expectOffDevnet(r, args);
  });

  it("a chain the aggregator does not serve: the hint names the chains it serves", async () => {
    refusal = () => unknownChain(99999, [31338]);
    const args = send("--target-chain", "99999");
    const r = await avsctl(args, performer);
    expect(r.code).toBe(2);
    expect(r.error.code).toBe("INVALID_ARGUMENT");
    expect(r.error.message).toContain("does not serve chain 99999");
    expect(r.error.hint).toBe(
      "this aggregator serves chain 31338: pass one of them with --target-chain, or none for the first",
    );
    expectOffDevnet(r, args);
  });

  it("a refusal without a hint of its own points at the aggregator's own log", async () => {
    refusal = () => notRecorded(new Error("database or disk is full"));
    const args = send();
    const r = await avsctl(args, performer);
    expect(r.code).toBe(1);
    expect(r.error.hint).toBe(
      `the aggregator's own log (the process serving --aggregator ${aggregator}) shows why`,
    );
    expectOffDevnet(r, args);
  });

  it("no voting power can attest the definition: task-def show with the L2 the user gave, and it works pasted", async () => {
    const created = await avsctl([
      "task-def",
      "create",
      "--name",
      "powerless",
      "--restricted-operators",
      "99",
      "--rpc-url",
      chain().rpcUrl,
      "--attestation-center",
      ac,
      "--private-key",
      DEPLOYER_KEY,
    ]);
    expect(created.code, JSON.stringify(created.body)).toBe(0);
    const id = created.body.taskDefinitionId as number;
    refusal = () =>
      noEligibleAttesters({
        id,
        minimumVotingPower: 0n,
        restrictedAttesterIds: [99n],
        maximumNumberOfAttesters: 0,
        totalVotingPower: 0n,
        fetchedAt: 0,
      });
    const args = send("--task-def", String(id));
    const r = await avsctl(args, { ...performer, L2_RPC: chain().rpcUrl, ATTESTATION_CENTER_ADDRESS: ac });
    expect(r.code).toBe(1);
    expect(r.error.code).toBe("COMMAND_FAILED");
    const quoted = `avsctl task-def show ${id} --rpc-url ${chain().rpcUrl} --attestation-center ${ac}`;
    expect(r.error.hint).toBe(
      `the definition's restricted operators and minimum voting power leave no attester to approve its tasks: \`${quoted}\` shows them`,
    );
    expectOffDevnet(r, args);
    const pasted = await runPasted(`${quoted} --json`, { cwd: dir(), env: cleanEnv() });
    expect(pasted.code, pasted.stderr).toBe(0);
    expect(pasted.json()).toMatchObject({ taskDefinitionId: id, restrictedOperatorIndexes: ["99"] });
  });

  it("the aggregator cannot read its L2: exit 4, send again once it answers, no devnet command", async () => {
    refusal = () => chainUnavailable("check", 1, new Error("connect ECONNREFUSED 127.0.0.1:8545"));
    const l2 = { L2_RPC: chain().rpcUrl, ATTESTATION_CENTER_ADDRESS: ac };
    for (const args of [send(), send("--wait")]) {
      const before = sent;
      const started = Date.now();
      const r = await avsctl(args, { ...performer, ...l2 });
      // a refusal, not silence: not sent again until --timeout, nor called a timeout
      expect(sent - before, args.join(" ")).toBe(1);
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(r.code, args.join(" ")).toBe(4);
      expect(r.error.code).toBe("RPC_UNREACHABLE");
      expect(r.error.hint).toBe(
        "the aggregator could not read its L2, and took nothing: send the task again once its L2 RPC answers",
      );
      expectOffDevnet(r, args);
    }
  });

  it("an L2 node's URL given as --aggregator: said so", async () => {
    const args = ["task", "send", "--aggregator", chain().rpcUrl];
    const r = await avsctl(args, performer);
    expect(r.code).toBe(1);
    expect(r.error.hint).toBe(
      `--aggregator ${chain().rpcUrl} answers JSON-RPC but has no sendTask: is it an L2 node's URL rather than the aggregator's?`,
    );
    expectOffDevnet(r, args);
  });

  it("an unknown definition: task-def list with the L2 the user gave, and it works pasted", async () => {
    refusal = () => new RpcError("TASK_DEFINITION_NOT_FOUND", "task definition 99 does not exist");
    // no L2 given: the flags task-def needs, with placeholders
    const bare = await avsctl(send("--task-def", "99"), performer);
    expect(bare.error.code).toBe("TASK_DEF_NOT_FOUND");
    expect(bare.error.hint).toBe(
      "`avsctl task-def list --rpc-url <l2-url> --attestation-center <address>` shows the definitions; pass one with --task-def <id>",
    );
    expectOffDevnet(bare, send("--task-def", "99"));

    // with L2_RPC and ATTESTATION_CENTER_ADDRESS: spelled with them, and it lists the definitions
    const given = await avsctl(send("--task-def", "99"), {
      ...performer,
      L2_RPC: chain().rpcUrl,
      ATTESTATION_CENTER_ADDRESS: ac,
    });
    const quoted = /`(avsctl task-def list [^`]*)`/.exec(given.error.hint)?.[1];
    expect(quoted).toBe(`avsctl task-def list --rpc-url ${chain().rpcUrl} --attestation-center ${ac}`);
    expectOffDevnet(given, send("--task-def", "99"));
    const pasted = await runPasted(`${quoted} --json`, { cwd: dir(), env: cleanEnv() });
    expect(pasted.code, pasted.stderr).toBe(0);
    expect(pasted.json()).toMatchObject({ chainId: 31338, attestationCenter: ac });
  });

  it("--via execution with --aggregator is refused as such: there is no devnet to blame", async () => {
    const args = ["task", "send", "--aggregator", aggregator, "--via", "execution"];
    const before = sent;
    const r = await avsctl(args, performer);
    expect(r.code).toBe(2);
    expect(r.error.code).toBe("INVALID_ARGUMENT");
    expect(r.error.message).toBe(
      "--via: --via execution goes through the devnet's execution service, which sends to the devnet's aggregator, not to --aggregator",
    );
    expect(r.error.hint).not.toMatch(/devnet|--no-services/);
    expect(foreignFlags(r.error.hint, args, program)).toEqual([]);
    expect(sent).toBe(before);
  });

  it("--wait without an L2: names every variable that gives one, and sends nothing", async () => {
    const before = sent;
    const r = await avsctl(send("--wait"), performer);
    expect(r.code).toBe(4);
    expect(r.error.code).toBe("NO_DEVNET");
    for (const name of [
      "L2_RPC",
      "AVSCTL_RPC_URL",
      "ATTESTATION_CENTER_ADDRESS",
      "AVSCTL_ATTESTATION_CENTER",
    ])
      expect(r.error.message).toContain(name);
    expect(r.error.message).toMatch(/nothing was sent$/);
    expect(r.error.hint).toContain("set L2_RPC and ATTESTATION_CENTER_ADDRESS");
    expect(sent).toBe(before);
    expectOffDevnet({ ...r, error: { ...r.error, message: "" } }, send("--wait"));
  });
});

describe("task-def against --rpc-url", () => {
  const target = () => ["--rpc-url", chain().rpcUrl, "--attestation-center", ac];
  let id: number;

  beforeAll(async () => {
    const created = await avsctl([
      "task-def",
      "create",
      "--name",
      "off-devnet",
      "--dispute-period",
      "3",
      ...target(),
      "--private-key",
      DEPLOYER_KEY,
    ]);
    expect(created.code, JSON.stringify(created.body)).toBe(0);
    id = created.body.taskDefinitionId;
  });

  it("set-restricted-operators to ids that cannot attest: the warning names no devnet command", async () => {
    const r = await avsctl([
      "task-def",
      "set-restricted-operators",
      String(id),
      "99",
      ...target(),
      "--private-key",
      DEPLOYER_KEY,
    ]);
    expect(r.code).toBe(0);
    expect(r.body.warnings).toContainEqual(expect.stringMatching(/no restricted operator can attest/));
    expect(r.body.warnings.join("\n")).not.toMatch(/devnet/);
  });

  it("show of a definition that does not exist: a task-def list that works pasted", async () => {
    const r = await avsctl(["task-def", "show", "77", ...target()]);
    expect(r.error.code).toBe("TASK_DEF_NOT_FOUND");
    const quoted = /`(avsctl task-def list [^`]*)`/.exec(r.error.hint)?.[1];
    expect(quoted).toBeDefined();
    expect(unpastable(r.error.hint, program)).toEqual([]);
    const pasted = await runPasted(`${quoted} --json`, { cwd: dir(), env: cleanEnv() });
    expect(pasted.code, pasted.stderr).toBe(0);
  });

  it("--password-stdin with nothing on stdin: says stdin gave an empty password", async () => {
    const folder = dir();
    const file = path.join(folder, "signer.json");
    const wallet = Wallet.createRandom();
    const account = { address: wallet.address, privateKey: wallet.privateKey };
    writeFileSync(file, encryptKeystoreJsonSync(account, "a password", { scrypt: { N: 1 << 10 } }));
    const r = await runCli(
      [
        "--json",
        "task-def",
        "set-min-voting-power",
        String(id),
        "0",
        ...target(),
        "--keystore",
        file,
        "--password-stdin",
      ],
      { cwd: folder, env: cleanEnv(), input: "" },
    );
    expect(r.code, r.stderr).toBe(2);
    const { error } = r.json();
    expect(error.code).toBe("MISSING_ARGUMENT");
    expect(error.message).toBe("--password-stdin: stdin gave an empty password");
    expect(error.hint).not.toMatch(/you typed/);
  });

  it("apply whose plan is only drift sends nothing and needs no signer", async () => {
    const signed = [...target(), "--private-key", DEPLOYER_KEY];
    const made = await avsctl([
      "task-def",
      "create",
      "--name",
      "drifting",
      "--dispute-period",
      "3",
      ...signed,
    ]);
    expect(made.code).toBe(0);
    const folder = dir({
      "avsctl.config.json": JSON.stringify({
        network: { rpcUrl: chain().rpcUrl, attestationCenter: ac },
        taskDefinitions: [{ name: "drifting", disputePeriod: 9 }],
      }),
    });
    const r = await runCli(["--json", "task-def", "apply"], { cwd: folder, env: cleanEnv() });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const body = r.json();
    expect(body.plan).toEqual([expect.objectContaining({ action: "drift", name: "drifting" })]);
    expect(body.applied).toEqual([]);
  });

  it("apply with no config says there is none, instead of 'nothing to change'", async () => {
    const r = await runCli(["task-def", "apply", ...target()], { cwd: dir(), env: cleanEnv() });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("Error [CONFIG_NOT_FOUND]: no avsctl config in");
    expect(r.stderr).not.toContain("nothing to change");
  });
});

describe("node: each role's own flags", () => {
  const ATTESTER_ONLY = ["--aggregator", "--avs-webapi-for"];
  const AGGREGATOR_ONLY = ["--json-rpc", "--journal", "--relayer", "--internal-tasks", "--max-pending-tasks"];

  it("each role's help lists its flags and not the other's", async () => {
    const help = async (role: string) => (await runCli(["node", role, "--help"], { env: cleanEnv() })).stdout;
    const attester = await help("attester");
    const aggregator = await help("aggregator");
    for (const flag of AGGREGATOR_ONLY) {
      expect(attester).not.toMatch(new RegExp(`${flag}\\b(?!-)`));
      expect(aggregator).toContain(flag);
    }
    for (const flag of ATTESTER_ONLY) {
      expect(aggregator).not.toContain(`${flag} `);
      expect(attester).toContain(flag);
    }
  });

  it("a flag of the other role is refused by name, not ignored", async () => {
    for (const [role, flag, value] of [
      ["attester", "--journal", "j.db"],
      ["attester", "--relayer", undefined],
      ["aggregator", "--aggregator", DEAD],
    ] as const) {
      const r = await avsctl(["node", role, flag, ...(value ? [value] : [])]);
      expect(r.code, `${role} ${flag}`).toBe(2);
      expect(r.error.message).toBe(
        `${flag}: a flag of \`avsctl node ${role === "attester" ? "aggregator" : "attester"}\`; the ${role} does not take it`,
      );
      expect(unpastable(r.error.hint, program)).toEqual([]);
    }
  });

  it("an attester without the aggregator's URL is MISSING_ARGUMENT", async () => {
    const r = await avsctl(["node", "attester"], { L2_RPC: DEAD, ATTESTATION_CENTER_ADDRESS: ac });
    expect(r.code).toBe(2);
    expect(r.error.code).toBe("MISSING_ARGUMENT");
    expect(r.error.message).toContain("OTHENTIC_CLIENT_RPC_ADDRESS");
  });
});
