import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Interface, JsonRpcProvider } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { containerName } from "../../../src/devnet/runtime/labels.js";
import { isAlive, ProcessRuntime } from "../../../src/devnet/runtime/process.js";
import { runCli } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";

// One devnet per runtime: stake and operator-set scenarios run against it in order.
const acIface = new Interface([
  "event TaskSubmitted(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
]);
const oblsIface = new Interface([
  "function votingPower(uint256) view returns (uint256)",
  "function getOperatorBlsKeyG1(uint256) view returns (uint256[2])",
  "function numOfVotersWithoutG1Key() view returns (uint256)",
]);

/** A devnet of `runtime` in a project of its own, started before and removed after its suite. */
function devnet(runtime: "process" | "docker") {
  const dir = mkdtempSync(path.join(tmpdir(), `avsctl-operators-${runtime}-`));
  writeFileSync(
    path.join(dir, "avsctl.config.json"),
    JSON.stringify({ name: `e2e-operators-${runtime}-${process.pid}` }),
  );
  const cli = (args: string[], cwd = dir, timeoutMs = 180_000) =>
    runCli([...args, "--json"], { cwd, timeoutMs });
  const ctx = {
    dir,
    cli,
    state: undefined as any,
    l2: undefined as JsonRpcProvider | undefined,
    sent: 0,
    /** `devnet up`, keeping the state it prints (also after a down: the saved chains resume). */
    async up() {
      const up = await cli(["devnet", "up", "--runtime", runtime], dir, 300_000);
      expect(up.code, up.stderr + up.stdout).toBe(0);
      ctx.state = up.json();
      ctx.l2?.destroy();
      ctx.l2 = new JsonRpcProvider(ctx.state.l2[0].rpcUrl, undefined, { staticNetwork: true });
    },
    idOf: (name: string): number => ctx.state.attesters.find((a: any) => a.name === name).operatorId,
    /** The attester ids of an approved task, from its TaskSubmitted event on L2. */
    async attestersOnChain(txHash: string): Promise<number[]> {
      const receipt = await ctx.l2!.getTransactionReceipt(txHash);
      for (const log of receipt!.logs) {
        const parsed = acIface.parseLog(log);
        if (parsed?.name === "TaskSubmitted") return (parsed.args.attestersIds as bigint[]).map(Number);
      }
      throw new Error(`no TaskSubmitted in ${txHash}`);
    },
    async l2VotingPower(operatorId: number): Promise<bigint> {
      const out = await ctx.l2!.call({
        to: ctx.state.l2[0].obls,
        data: oblsIface.encodeFunctionData("votingPower", [operatorId]),
      });
      return oblsIface.decodeFunctionResult("votingPower", out)[0] as bigint;
    },
    /** The operator's G1 key on L2 (zeros: none) and how many voters have none. */
    async l2KeyG1(operatorId: number): Promise<{ key: bigint[]; votersWithout: bigint }> {
      const call = async (fn: string, args: unknown[]) =>
        oblsIface.decodeFunctionResult(
          fn,
          await ctx.l2!.call({ to: ctx.state.l2[0].obls, data: oblsIface.encodeFunctionData(fn, args) }),
        )[0];
      return {
        key: [...(await call("getOperatorBlsKeyG1", [operatorId]))].map(BigInt),
        votersWithout: BigInt(await call("numOfVotersWithoutG1Key", [])),
      };
    },
    /** A new task each time: the same data again would be the same task hash, answered from its first verdict. */
    async approvedTask(): Promise<number[]> {
      const r = await cli(["task", "send", "--wait", "--data", `stake-${++ctx.sent}`]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.json().status).toBe("approved");
      return ctx.attestersOnChain(r.json().txHash);
    },
  };
  beforeAll(() => ctx.up(), 360_000);
  afterAll(async () => {
    ctx.l2?.destroy();
    await runCli(["devnet", "down", "--volumes"], { cwd: dir, timeoutMs: 120_000 });
    rmSync(dir, { recursive: true, force: true });
  }, 180_000);
  return ctx;
}

/** `operator remove <name>`: unregistered on L1 and L2, its node stopped. */
async function removeAttester(
  cli: (args: string[]) => Promise<{ code: number; stderr: string; json(): any }>,
  name: string,
) {
  const r = await cli(["operator", "remove", name]);
  expect(r.code, r.stderr).toBe(0);
  expect(r.json()).toMatchObject({
    action: "remove",
    l1: { registered: false },
    node: { state: "stopped" },
  });
  expect(r.json().l2[0].active).toBe(false);
}

describe("avsctl operator on a process devnet", () => {
  const net = devnet("process");
  const { dir, cli } = net;
  const { approvedTask, idOf, l2VotingPower } = net;
  it("an unknown name is refused with exit 2 naming it; no devnet is exit 4", async () => {
    const r = await cli(["operator", "set-stake", "attester-9", "0"]);
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: "INVALID_ARGUMENT" });
    expect(r.json().error.message).toContain("attester-9");
    const bad = await cli(["operator", "set-stake", "attester-1", "lots"]);
    expect(bad.code).toBe(2);
    // commander took -1eth for an unknown option
    const negative = await cli(["operator", "set-stake", "attester-2", "-1eth"]);
    expect(negative.code).toBe(2);
    expect(negative.json().error).toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { argument: "<amount>" },
    });
    // the name of an L2 chain component (a 2-L2 devnet's second chain), refused with nothing added
    const reserved = await cli(["operator", "add", "l2-2"]);
    expect(reserved.code).toBe(2);
    expect(reserved.json().error).toMatchObject({
      code: "INVALID_ARGUMENT",
      details: { argument: "<name>" },
    });
    const status = (await cli(["devnet", "status"])).json();
    expect(status.attesters.map((a: any) => a.name)).toEqual(["attester-1", "attester-2", "attester-3"]);

    const empty = mkdtempSync(path.join(tmpdir(), "avsctl-operators-none-"));
    try {
      writeFileSync(path.join(empty, "avsctl.config.json"), JSON.stringify({ name: "no-devnet" }));
      const none = await cli(["operator", "remove", "attester-1"], empty);
      expect(none.code).toBe(4);
      expect(none.json().error.code).toBe("NO_DEVNET");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it("set-stake attester-1 0: after the sync L2 holds 0 for it and a task no longer counts its vote", async () => {
    // 300 ETH in all, 200 needed: any two attesters decide.
    expect((await approvedTask()).length).toBeGreaterThanOrEqual(2);

    const r = await cli(["operator", "set-stake", "attester-1", "0"]);
    expect(r.code, r.stderr).toBe(0);
    const changed = r.json();
    expect(changed).toMatchObject({ action: "set-stake", name: "attester-1", synced: true });
    expect(changed.l1).toMatchObject({ stake: "0", votingPower: "0", registered: true });
    expect(changed.l2[0]).toMatchObject({ operatorId: idOf("attester-1"), active: true, votingPower: "0" });
    expect(changed.syncs.length).toBeGreaterThanOrEqual(1);
    expect(changed.syncs[0].isApproved).toBe(true);
    expect(await l2VotingPower(idOf("attester-1"))).toBe(0n);

    const ids = await approvedTask();
    expect(ids).not.toContain(idOf("attester-1"));
    expect(ids).toEqual([idOf("attester-2"), idOf("attester-3")]);
  });

  let added: any;
  it("add night-owl --stake 1eth: registered on L2 with 1 ETH, its node runs and its vote is in the next task", async () => {
    // task-def commands sign on L2 with the governance key the relayer mirrors registrations
    // with: the relayer must follow them, not fail a conflict at a time (16 s each: five of them
    // outlast operator add's 60 s wait)
    for (let i = 0; i < 5; i++)
      expect((await cli(["task-def", "set-min-voting-power", "1", "0"])).code).toBe(0);
    const r = await cli(["operator", "add", "night-owl", "--stake", "1eth"]);
    expect(r.code, r.stderr).toBe(0);
    added = r.json();
    expect(added.l1).toMatchObject({ stake: (10n ** 18n).toString(), registered: true });
    expect(added.l2[0]).toMatchObject({ active: true, votingPower: (10n ** 18n).toString() });
    expect(added.node).toMatchObject({ name: "night-owl", state: "running" });
    // the relayer mirrors the G2 key; `operator add` registers its G1 twin beside it
    const g1 = await net.l2KeyG1(added.l2[0].operatorId);
    expect(g1.key.some((w) => w !== 0n)).toBe(true);
    expect(g1.votersWithout).toBe(0n);
    const status = (await cli(["devnet", "status"])).json();
    expect(JSON.stringify(status)).toContain("night-owl");

    // With attester-2 and -3 at 0, night-owl holds all the voting power: its vote must be in.
    const two = await cli(["operator", "set-stake", "attester-2", "0", "--no-wait"]);
    expect(two.code, two.stderr).toBe(0);
    expect(two.json().synced).toBe(false);
    const three = await cli(["operator", "set-stake", "attester-3", "0"]);
    expect(three.code, three.stderr).toBe(0);
    const id4 = added.l2[0].operatorId;
    expect(await l2VotingPower(idOf("attester-2"))).toBe(0n);
    expect(await l2VotingPower(id4)).toBe(10n ** 18n);
    expect(await approvedTask()).toEqual([id4]);
  });

  let pid4: number | undefined;
  it("down + up: the saved chains resume and night-owl's node starts again, listed in the state", async () => {
    pid4 = added.node.pid;
    const down = await cli(["devnet", "down"]);
    expect(down.code, down.stderr).toBe(0);
    expect(isAlive(pid4!)).toBe(false);
    await net.up();
    expect(net.state.attesters.map((a: any) => a.name)).toEqual([
      "attester-1",
      "attester-2",
      "attester-3",
      "night-owl",
    ]);
    expect(net.state.attesters[3]).toMatchObject({
      address: added.address,
      operatorId: added.l2[0].operatorId,
    });
    // an attester by any name, not only attester-<n>: the state records its node as one
    const saved = JSON.parse(readFileSync(path.join(dir, ".avsctl", "devnet.json"), "utf8"));
    expect(saved.internal.components).toContainEqual(
      expect.objectContaining({ name: "night-owl", kind: "attester" }),
    );
    const node = await new ProcessRuntime({ project: net.state.name, projectDir: dir }).inspect("night-owl");
    expect(node.running).toBe(true);
    pid4 = node.pid;
    expect(isAlive(pid4!)).toBe(true);
    // Still the only voting power on the resumed chains: the restarted node signs with its key.
    expect(await approvedTask()).toEqual([added.l2[0].operatorId]);
  });

  it("remove attester-2, one up started: down + up leave it out, healthy, and tasks are approved", async () => {
    const removed = await cli(["operator", "remove", "attester-2"]);
    expect(removed.code, removed.stderr).toBe(0);
    const down = await cli(["devnet", "down"]);
    expect(down.code, down.stderr).toBe(0);
    // the chains no longer count attester-2: a node started for it is refused and never ready
    await net.up();
    expect(net.state.healthy).toBe(true);
    expect(net.state.attesters.map((a: any) => a.name)).toEqual(["attester-1", "attester-3", "night-owl"]);
    const runtime = new ProcessRuntime({ project: net.state.name, projectDir: dir });
    expect((await runtime.list()).map((c) => c.component)).not.toContain("attester-2");
    pid4 = (await runtime.inspect("night-owl")).pid;
    const status = await cli(["devnet", "status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.stringify(status.json())).not.toContain("attester-2");
    // night-owl still holds every voting power left
    expect(await approvedTask()).toEqual([added.l2[0].operatorId]);
  });

  it("remove night-owl: unregistered on L2 and its node stopped", async () => {
    await removeAttester(cli, "night-owl");
    expect(isAlive(pid4 ?? added.node.pid)).toBe(false);
    const status = (await cli(["devnet", "status"])).json();
    expect(JSON.stringify(status)).not.toContain("night-owl");
  });
});

describeDocker("avsctl operator on a Docker devnet", () => {
  const net = devnet("docker");
  const { cli, approvedTask, idOf, l2VotingPower } = net;
  const running = (component: string): string[] =>
    execFileSync(
      "docker",
      ["ps", "--filter", `name=^/${containerName(net.state.name, component)}$`, "--format", "{{.Names}}"],
      { encoding: "utf8" },
    )
      .split("\n")
      .filter(Boolean);

  let id4: number;
  it("add attester-4: its container runs beside the others and its vote is in the next task", async () => {
    const r = await cli(["operator", "add", "attester-4", "--stake", "1eth"]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json().node).toMatchObject({ name: "attester-4", state: "running" });
    id4 = r.json().l2[0].operatorId;
    expect(running("attester-4")).toEqual([containerName(net.state.name, "attester-4")]);
    const status = await cli(["devnet", "status"]);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.stringify(status.json())).toContain("attester-4");

    // Every other attester at 0: attester-4 holds all the voting power, its vote must be in.
    for (const name of ["attester-1", "attester-2"]) {
      const zero = await cli(["operator", "set-stake", name, "0", "--no-wait"]);
      expect(zero.code, zero.stderr).toBe(0);
    }
    const three = await cli(["operator", "set-stake", "attester-3", "0"]);
    expect(three.code, three.stderr).toBe(0);
    expect(await l2VotingPower(idOf("attester-1"))).toBe(0n);
    expect(await l2VotingPower(id4)).toBe(10n ** 18n);
    expect(await approvedTask()).toEqual([id4]);
  });

  it("remove attester-4: unregistered on L2 and its container gone", async () => {
    await removeAttester(cli, "attester-4");
    expect(running("attester-4")).toEqual([]);
    expect(
      execFileSync(
        "docker",
        ["ps", "-a", "--filter", `name=^/${containerName(net.state.name, "attester-4")}$`, "-q"],
        {
          encoding: "utf8",
        },
      ).trim(),
    ).toBe("");
  });
});
