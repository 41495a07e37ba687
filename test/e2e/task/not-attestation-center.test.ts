/**
 * An address that is not an AttestationCenter, given as one, is refused before anything else:
 * our OBLS, InternalTaskHandler and AvsGovernance, an account without code, by flag, variable,
 * multi-L2 list or config file, for task-def list/show/create and task list/status/trace/send.
 * Without the check they read as an empty AttestationCenter (no definitions, no tasks, a
 * verdict never seen) and exited 0. The built CLI against a real anvil with the chain id of the
 * devnet's L2 and our deployed contracts; nothing may be sent (nonces, blocks, and the requests
 * a real aggregator endpoint on 127.0.0.1 received).
 */

import { writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployL1, deployL2, type L2Deployment } from "../../../src/chain/deploy.js";
import { ANVIL_DEV_PRIVATE_KEYS } from "../../../src/chain/dev-keys.js";
import { useAnvil } from "../../helpers/anvil.js";
import {
  avsctl,
  chainMark,
  DEPLOYER_KEY,
  deployGen1AttestationCenter,
  expectError,
  expectOk,
  useProjectDir,
} from "../task-def/fixture.js";

const chain = useAnvil({ chainId: 31338 });
const project = useProjectDir("not-ac");
const configured = useProjectDir("not-ac-config");
const dotEnv = useProjectDir("not-ac-dotenv");

const PERFORMER_KEY = ANVIL_DEV_PRIVATE_KEYS[4];
const PERFORMER = new Wallet(PERFORMER_KEY).address;
const TASK_HASH = `0x${"ab".repeat(32)}`;

/** Every target variable unset, so only what a test gives counts. */
const NO_TARGET = {
  AVSCTL_RPC_URL: undefined,
  L2_RPC: undefined,
  AVSCTL_ATTESTATION_CENTER: undefined,
  ATTESTATION_CENTER_ADDRESS: undefined,
  AVSCTL_PRIVATE_KEY: undefined,
  PRIVATE_KEY: undefined,
  PRIVATE_KEY_PERFORMER: undefined,
};

let l2: L2Deployment;
let governance: string;
let gen1: string;
const eoa = Wallet.createRandom().address;

/** A real HTTP endpoint standing in for an aggregator: it records every request it gets. */
let aggregator: Server;
let aggregatorUrl: string;
const aggregatorRequests: string[] = [];

/** A JSON-RPC proxy in front of the chain that counts the numOfTaskDefinitions() calls. */
let proxy: Server;
let proxyUrl: string;
let probes = 0;

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

beforeAll(async () => {
  l2 = await deployL2({ rpcUrl: chain().rpcUrl, privateKey: DEPLOYER_KEY });
  governance = (await deployL1({ rpcUrl: chain().rpcUrl, privateKey: DEPLOYER_KEY })).avsGovernance;
  gen1 = await deployGen1AttestationCenter(chain());
  aggregator = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      aggregatorRequests.push(body);
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ jsonrpc: "2.0", id: 1, result: true }));
    });
  });
  aggregatorUrl = await listen(aggregator);
  proxy = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", async () => {
      const calls = [JSON.parse(body)].flat() as Array<{ method: string; params?: any[] }>;
      for (const c of calls) {
        if (
          c.method === "eth_call" &&
          String(c.params?.[0]?.data ?? c.params?.[0]?.input).startsWith("0x34a7c391")
        )
          probes++;
      }
      const answer = await fetch(chain().rpcUrl, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      res.setHeader("content-type", "application/json");
      res.end(await answer.text());
    });
  });
  proxyUrl = await listen(proxy);
});

afterAll(async () => {
  await new Promise((resolve) => aggregator?.close(resolve));
  await new Promise((resolve) => proxy?.close(resolve));
});

const run = (args: string[], env: Record<string, string | undefined> = {}, cwd = project()) =>
  avsctl(args, { cwd, env: { ...NO_TARGET, ...env } });

/** Sends nothing: the deployer's and the performer's nonces and the chain's block stay. */
async function unchanged<T>(fn: () => Promise<T>): Promise<T> {
  const before = [await chainMark(chain()), await chainMark(chain(), PERFORMER)];
  const requests = aggregatorRequests.length;
  const result = await fn();
  expect([await chainMark(chain()), await chainMark(chain(), PERFORMER)]).toEqual(before);
  expect(aggregatorRequests.length).toBe(requests);
  return result;
}

describe("task-def with --attestation-center that is not an AttestationCenter", () => {
  const flags = (address: string) => ["--rpc-url", chain().rpcUrl, "--attestation-center", address];
  const commands: Array<[string, string[]]> = [
    ["list", ["task-def", "list"]],
    ["show", ["task-def", "show", "1"]],
    ["create", ["task-def", "create", "--name", "x", "--private-key", DEPLOYER_KEY]],
  ];

  for (const [name, args] of commands) {
    it(`${name}: the OBLS, the InternalTaskHandler and the AvsGovernance are refused naming the flag (exit 2, nothing sent)`, async () => {
      const cases: Array<[string, RegExp]> = [
        [l2.obls, /looks like the OBLS/],
        [l2.internalTaskHandler, /looks like an InternalTaskHandler/],
        [governance, /looks like an AvsGovernance/],
      ];
      for (const [address, like] of cases) {
        const error = await unchanged(async () =>
          expectError(await run([...args, ...flags(address)]), 2, "INVALID_ADDRESS"),
        );
        expect(error.message).toContain(`--attestation-center: ${address} is not an AttestationCenter`);
        expect(error.message).toMatch(like);
        expect(error.details).toMatchObject({ argument: "--attestation-center", address });
        expect(error.hint).toMatch(/pass --attestation-center the address of the AVS's AttestationCenter/);
      }
    });

    it(`${name}: an account without code is "no contract at" (exit 2, nothing sent)`, async () => {
      const error = await unchanged(async () =>
        expectError(await run([...args, ...flags(eoa)]), 2, "INVALID_ADDRESS"),
      );
      expect(error.message).toBe(`--attestation-center: no contract at ${eoa} on this chain`);
    });
  }

  it("the real AttestationCenters, ours (generation 2) and the gen-1 one, pass with one probe call", async () => {
    for (const [address, generation] of [
      [l2.attestationCenter, "gen2"],
      [gen1, "gen1"],
    ] as const) {
      probes = 0;
      const body = expectOk(
        await run(["task-def", "list", "--rpc-url", proxyUrl, "--attestation-center", address]),
      );
      expect(body.generation).toBe(generation);
      expect(probes).toBe(1);
    }
  });
});

describe("task commands with an AttestationCenter setting that is not one", () => {
  it("task list: an account without code in AVSCTL_ATTESTATION_CENTER is refused naming the variable", async () => {
    const error = expectError(
      await run(["task", "list"], { AVSCTL_RPC_URL: chain().rpcUrl, AVSCTL_ATTESTATION_CENTER: eoa }),
      2,
      "INVALID_ADDRESS",
    );
    expect(error.message).toBe(`AVSCTL_ATTESTATION_CENTER: no contract at ${eoa} on this chain`);
    expect(error.hint).toMatch(/AVSCTL_ATTESTATION_CENTER/);
  });

  it("task list, status and trace: the OBLS in ATTESTATION_CENTER_ADDRESS (single or chainId@address) is refused", async () => {
    for (const value of [l2.obls, `31338@${l2.obls}`, `31338@${l2.obls},31339@${l2.attestationCenter}`]) {
      const env = { L2_RPC: chain().rpcUrl, ATTESTATION_CENTER_ADDRESS: value };
      for (const args of [
        ["task", "list"],
        ["task", "status", "1"],
        ["task", "status", TASK_HASH],
        ["task", "trace", TASK_HASH],
      ]) {
        const error = expectError(await run(args, env), 2, "INVALID_ADDRESS");
        expect(error.message, args.join(" ")).toContain(
          `ATTESTATION_CENTER_ADDRESS: ${l2.obls} is not an AttestationCenter: it looks like the OBLS`,
        );
        expect(error.details.argument).toBe("ATTESTATION_CENTER_ADDRESS");
      }
    }
  });

  it("task send --aggregator --wait: refused before the aggregator is called (exit 2)", async () => {
    const env = {
      L2_RPC: chain().rpcUrl,
      ATTESTATION_CENTER_ADDRESS: l2.obls,
      PRIVATE_KEY_PERFORMER: PERFORMER_KEY,
    };
    const error = await unchanged(async () =>
      expectError(
        await run(["task", "send", "--aggregator", aggregatorUrl, "--wait", "--timeout", "15"], env),
        2,
        "INVALID_ADDRESS",
      ),
    );
    expect(error.message).toContain(`ATTESTATION_CENTER_ADDRESS: ${l2.obls} is not an AttestationCenter`);
    const eoaError = await unchanged(async () =>
      expectError(
        await run(["task", "send", "--aggregator", aggregatorUrl, "--wait", "--timeout", "15"], {
          ...env,
          ATTESTATION_CENTER_ADDRESS: eoa,
        }),
        2,
        "INVALID_ADDRESS",
      ),
    );
    expect(eoaError.message).toBe(`ATTESTATION_CENTER_ADDRESS: no contract at ${eoa} on this chain`);
  });

  it("a config file's network.attestationCenter is named with its file", async () => {
    const file = path.join(configured(), "avsctl.config.json");
    writeFileSync(
      file,
      JSON.stringify({ network: { rpcUrl: chain().rpcUrl, attestationCenter: l2.internalTaskHandler } }),
    );
    const error = expectError(await run(["task", "list"], {}, configured()), 2, "INVALID_ADDRESS");
    expect(error.message).toContain(
      `network.attestationCenter (in ${file}): ${l2.internalTaskHandler} is not an AttestationCenter: it looks like an InternalTaskHandler`,
    );
  });

  it("a project's .env is named as such", async () => {
    const dir = dotEnv();
    writeFileSync(
      path.join(dir, ".env"),
      `L2_RPC=${chain().rpcUrl}\nATTESTATION_CENTER_ADDRESS=${l2.obls}\n`,
    );
    writeFileSync(path.join(dir, "avsctl.config.json"), JSON.stringify({ name: "dotenv" }));
    const error = expectError(await run(["task", "list"], {}, dir), 2, "INVALID_ADDRESS");
    expect(error.message).toContain(
      `ATTESTATION_CENTER_ADDRESS (in .env): ${l2.obls} is not an AttestationCenter`,
    );
    expect(error.hint).toMatch(/^set ATTESTATION_CENTER_ADDRESS \(in \.env\) to the address/);
  });

  it("the real AttestationCenters pass: ours and the gen-1 one list their (no) tasks, one probe call each", async () => {
    for (const address of [l2.attestationCenter, gen1]) {
      probes = 0;
      const body = expectOk(
        await run(["task", "list"], { AVSCTL_RPC_URL: proxyUrl, AVSCTL_ATTESTATION_CENTER: address }),
      );
      expect(body).toEqual({ chains: [31338], tasks: [] });
      expect(probes).toBe(1);
    }
  });
});
