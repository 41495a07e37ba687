/**
 * `avsctl task-def` on a chain that is not the devnet's (chain id 5555): the well-known anvil
 * keys are refused unless --allow-dev-keys, whichever way they are given, while a key of one's
 * own that holds the governance role signs normally. Also the default target: a running
 * devnet described by `.avsctl/devnet.json`, on whose chains the anvil keys are fine.
 */

import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Wallet } from "ethers";
import { beforeAll, describe, expect, it } from "vitest";
import { useAnvil } from "../../helpers/anvil.js";
import {
  avsctl,
  chainMark,
  DEPLOYER,
  DEPLOYER_KEY,
  deployAttestationCenter,
  expectError,
  expectOk,
  fund,
  grantGovernance,
  useAttestationCenter,
  useProjectDir,
} from "./fixture.js";

const CHAIN_ID = 5555;
const chain = useAnvil({ chainId: CHAIN_ID });
const project = useProjectDir("task-def-foreign");

describe("a chain that is not the devnet's", () => {
  const center = useAttestationCenter(chain);
  const target = () => center().flags;
  const run = (args: string[], env?: Record<string, string | undefined>) =>
    avsctl(args, { cwd: project(), env });

  it("refuses an anvil key from --private-key, AVSCTL_PRIVATE_KEY or PRIVATE_KEY (exit 2, nothing sent)", async () => {
    const before = await chainMark(chain());
    const ways: Array<[string[], Record<string, string>]> = [
      [["--private-key", DEPLOYER_KEY], {}],
      [[], { AVSCTL_PRIVATE_KEY: DEPLOYER_KEY }],
      [[], { PRIVATE_KEY: DEPLOYER_KEY.slice(2) }],
    ];
    for (const [flags, env] of ways) {
      const r = await run(["task-def", "create", "--name", "dev", ...target(), ...flags], env);
      const error = expectError(r, 2, "DEV_KEY_REFUSED");
      expect(error.details.chainId).toBe(CHAIN_ID);
      expect(error.hint).toMatch(/--allow-dev-keys/);
    }
    expect(await chainMark(chain())).toEqual(before);
    expect(await center().contract.numOfTaskDefinitions()).toBe(0n);
  });

  it("no signer at all: exit 2 naming the signer flags task-def takes, nothing sent", async () => {
    const before = await chainMark(chain());
    const error = expectError(
      await run(["task-def", "create", "--name", "unsigned", ...target()]),
      2,
      "MISSING_ARGUMENT",
    );
    expect(error.message).toBe("no signer: pass --private-key, --keystore, or set AVSCTL_PRIVATE_KEY");
    expect(await chainMark(chain())).toEqual(before);
  });

  it("accepts it with --allow-dev-keys", async () => {
    const devKey = () => [...target(), "--private-key", DEPLOYER_KEY];
    const r = expectOk(
      await run(["task-def", "create", "--name", "allowed", ...devKey(), "--allow-dev-keys"]),
    );
    expect(r.taskDefinitionId).toBe(1);

    // a setter is refused the same way, then allowed
    const setter = ["task-def", "set-min-voting-power", "1", "9"];
    const before = await chainMark(chain());
    expectError(await run([...setter, ...devKey()]), 2, "DEV_KEY_REFUSED");
    expect(await chainMark(chain())).toEqual(before);
    const set = expectOk(await run([...setter, ...devKey(), "--allow-dev-keys"]));
    expect(set.taskDefinition.minimumVotingPower).toBe("9");
    expect(await center().contract.getTaskDefinitionMinimumVotingPower(1)).toBe(9n);
  });

  it("signs with a key of one's own that was granted the governance role", async () => {
    const { contract, provider } = center();
    const own = Wallet.createRandom();
    await grantGovernance(center(), own.address);

    // without gas money first: the operation fails (exit 1) and says what to do
    const poor = await run(["task-def", "create", "--name", "own-key", ...target()], {
      AVSCTL_PRIVATE_KEY: own.privateKey,
    });
    expect(poor.code, poor.stdout).toBe(1);
    expect(poor.body.error.code).toBe("TX_FAILED");
    expect(poor.body.error.hint).toMatch(/fund/);
    expect(await contract.numOfTaskDefinitions()).toBe(1n);

    await fund(chain(), own.address);
    const r = expectOk(
      await run(["task-def", "create", "--name", "own-key", ...target()], {
        AVSCTL_PRIVATE_KEY: own.privateKey,
      }),
    );
    expect(r.taskDefinitionId).toBe(2);
    expect((await provider.getTransaction(r.txHash))!.from).toBe(own.address);
  });

  it("reads (list, show, --dry-run) without any signer", async () => {
    const before = await chainMark(chain());
    const list = expectOk(await run(["task-def", "list", ...target()]));
    expect(list.chainId).toBe(CHAIN_ID);
    expect(list.taskDefinitions.map((d: { name: string }) => d.name)).toEqual(["allowed", "own-key"]);
    expect(expectOk(await run(["task-def", "show", "2", ...target()])).name).toBe("own-key");
    expect(expectOk(await run(["task-def", "create", "--name", "x", "--dry-run", ...target()])).dryRun).toBe(
      true,
    );
    expect(await chainMark(chain())).toEqual(before);
  });
});

describe("the running devnet as the default target", () => {
  let ac: string;
  let dir: string;

  beforeAll(async () => {
    ac = await deployAttestationCenter(chain());
    dir = path.join(project(), "devnet-project");
    mkdirSync(path.join(dir, ".avsctl"), { recursive: true });
    // what `avsctl devnet up` writes, for a devnet whose only L2 is this chain
    const state = {
      name: "test",
      runtime: "process",
      healthy: true,
      l1: { chainId: 5554, rpcUrl: "http://127.0.0.1:1", avsGovernance: DEPLOYER },
      l2: [
        {
          chainId: CHAIN_ID,
          rpcUrl: chain().rpcUrl,
          attestationCenter: ac,
          obls: ac,
          internalTaskHandler: ac,
        },
      ],
      aggregator: { rpcUrl: "http://127.0.0.1:1", address: DEPLOYER, operatorId: 1, metricsUrl: "" },
      attesters: [],
      performer: { address: DEPLOYER, privateKey: DEPLOYER_KEY },
      deployer: { address: DEPLOYER, privateKey: DEPLOYER_KEY },
      services: { execution: null, validation: null },
      taskDefinitions: [],
      startupMs: 0,
    };
    writeFileSync(path.join(dir, ".avsctl", "devnet.json"), JSON.stringify(state));
  });

  it("creates on the devnet's AttestationCenter with its deployer, no flags needed", async () => {
    const r = expectOk(await avsctl(["task-def", "create", "--name", "on-devnet"], { cwd: dir }));
    expect(r.taskDefinitionId).toBe(1);
    const list = expectOk(await avsctl(["task-def", "list"], { cwd: dir }));
    expect(list.attestationCenter.toLowerCase()).toBe(ac.toLowerCase());
    expect(list.taskDefinitions.map((d: { name: string }) => d.name)).toEqual(["on-devnet"]);
  });

  it("without a devnet and without flags, says what to pass", async () => {
    const empty = path.join(project(), "no-devnet");
    mkdirSync(empty, { recursive: true });
    const r = await avsctl(["task-def", "list"], { cwd: empty });
    expect(r.code).toBe(4);
    expect(r.body.error.code).toBe("NO_DEVNET");
    expect(r.body.error.hint).toMatch(/--rpc-url/);
  });
});
