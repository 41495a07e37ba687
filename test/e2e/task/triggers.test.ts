import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../helpers/cli.js";

// A devnet whose config has an interval and a block trigger; the devnet runs the trigger runner.
const dir = mkdtempSync(path.join(tmpdir(), "avsctl-triggers-"));
writeFileSync(
  path.join(dir, "avsctl.config.json"),
  JSON.stringify({
    name: `e2e-triggers-${process.pid}`,
    taskDefinitions: [
      {
        name: "ticks",
        triggers: [
          { type: "interval", every: "1s", maxFirings: 3 },
          { type: "block", everyBlocks: 4, maxFirings: 2 },
        ],
      },
    ],
  }),
);
const cli = (args: string[]) => runCli([...args, "--json"], { cwd: dir, timeoutMs: 180_000 });

beforeAll(async () => {
  const up = await cli(["devnet", "up", "--runtime", "process"]);
  expect(up.code, up.stderr + up.stdout).toBe(0);
}, 240_000);

afterAll(async () => {
  await runCli(["devnet", "down"], { cwd: dir });
  rmSync(dir, { recursive: true, force: true });
});

async function waitForTriggers(): Promise<any[]> {
  // Bounded: 60 polls of 500 ms.
  for (let i = 0; i < 60; i++) {
    const r = await cli(["task", "triggers"]);
    expect(r.code, r.stderr).toBe(0);
    const triggers = r.json().triggers;
    if (triggers.every((t: any) => t.done)) return triggers;
    // keep blocks coming so the block trigger sees its multiples
    await cli(["task", "send"]);
    await new Promise((res) => setTimeout(res, 500));
  }
  throw new Error("triggers did not finish in 30 s");
}

describe("triggers in the devnet", () => {
  it("task triggers lists the running triggers with their next firing", async () => {
    const r = await cli(["task", "triggers"]);
    expect(r.code, r.stderr).toBe(0);
    const body = r.json();
    expect(body.running).toBe(true);
    expect(body.triggers.map((t: any) => t.type).sort()).toEqual(["block", "interval"]);
    for (const t of body.triggers) expect(t.taskDefinitionId).toBe(1);
  });

  it("each trigger fires its count, each firing sends one task by one elected performer, approved on-chain", async () => {
    const triggers = await waitForTriggers();
    const interval = triggers.find((t) => t.type === "interval");
    const block = triggers.find((t) => t.type === "block");
    expect(interval.firings).toBe(3);
    expect(block.firings).toBe(2);
    expect(interval.sent + interval.skipped).toBe(3);
    expect(block.sent + block.skipped).toBe(2);
    expect(block.lastFiring.blockNumber % 4).toBe(0);

    // every sent firing is on-chain exactly once, performed by the operator it elected
    const firings = (await fetch(`${await readStateTriggersUrl()}/firings`).then((r) => r.json())) as {
      firings: any[];
    };
    const sent = firings.firings.filter((f: any) => f.outcome === "sent");
    expect(sent.length).toBe(interval.sent + block.sent);
    const list = await cli(["task", "list", "--task-def", "1"]);
    const byHash = new Map<string, any>();
    for (const t of list.json().tasks) byHash.set(t.taskHash, t);
    for (const f of sent) {
      const onChain = byHash.get(f.taskHash);
      expect(onChain, f.taskHash).toBeDefined();
      expect(onChain.status).toBe("approved");
      expect(onChain.performer.toLowerCase()).toBe(f.performer.toLowerCase());
    }
  }, 120_000);
});

async function readStateTriggersUrl(): Promise<string> {
  const { readFileSync } = await import("node:fs");
  const state = JSON.parse(readFileSync(path.join(dir, ".avsctl", "devnet.json"), "utf8"));
  return state.internal.triggersUrl;
}
