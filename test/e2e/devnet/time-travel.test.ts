/**
 * Time triggers follow the devnet's chain time (issue 17), end to end with the built CLI: a
 * process devnet running the trigger runner (an interval, a daily cron half an hour from now and
 * a fixed time an hour from now) and the task engine (a stored task with a fixed time an hour
 * from now). `devnet advance --time 1h` makes every one of them fire at once, for the slot the
 * chain's clock passed, where real time would have made the test wait an hour.
 */

import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { until } from "../../helpers/until.js";
import { type TempProject, tempProject } from "./support.js";

const HOUR = 3_600_000;

describe("devnet advance --time and time triggers, process runtime (built CLI)", () => {
  const p: TempProject = tempProject("e2e-clock");
  const inHalfAnHour = new Date(Date.now() + HOUR / 2);
  const fixedAt = Date.now() + HOUR;
  const ok = async (args: string[], timeoutMs?: number) => {
    const r = await p.cli([...args, "--json"], undefined, timeoutMs);
    if (r.code !== 0) throw new Error(`avsctl ${args.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
    return r.json();
  };
  const triggers = async () => (await ok(["task", "triggers"])).triggers as any[];

  beforeAll(async () => {
    writeFileSync(
      path.join(p.dir, "avsctl.config.json"),
      JSON.stringify({
        name: p.name,
        devnet: { engine: true },
        taskDefinitions: [
          {
            name: "clock",
            triggers: [
              { type: "interval", every: "1h", maxFirings: 1 },
              // daily, half an hour from now: real time does not reach it during the test
              {
                type: "cron",
                expression: `${inHalfAnHour.getUTCMinutes()} ${inHalfAnHour.getUTCHours()} * * *`,
                timezone: "UTC",
                maxFirings: 1,
              },
              { type: "fixedTime", at: [fixedAt] },
            ],
          },
        ],
      }),
    );
    await ok(["devnet", "up", "--runtime", "process"], 300_000);
  }, 360_000);

  afterAll(async () => {
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 120_000);
    if (r.code !== 0) console.error(`devnet down --volumes failed:\n${r.stdout}\n${r.stderr}`);
    p.remove();
  }, 180_000);

  it("after advance --time 1h, the runner's interval, cron and fixed time and the engine's fixed time fire at once", {
    timeout: 240_000,
  }, async () => {
    const workflow = path.join(p.dir, "fixed.json");
    writeFileSync(
      workflow,
      JSON.stringify({
        name: "in-an-hour",
        trigger: { id: "t", name: "trig", type: "fixedTime", config: { epochs: [fixedAt] } },
        nodes: [
          {
            id: "c",
            name: "c",
            type: "customCode",
            config: { lang: "javascript", source: "return trig.data" },
          },
        ],
        edges: [{ id: "e1", source: "t", target: "c" }],
      }),
    );
    const stored = await ok(["workflow", "create", workflow]);
    expect(stored.status).toBe("active");

    const waiting = await triggers();
    const byType = (list: any[], type: string) => list.find((t) => t.type === type);
    expect(byType(waiting, "cron").firings).toBe(0);
    expect(byType(waiting, "fixedTime")).toMatchObject({
      firings: 0,
      nextFiring: new Date(fixedAt).toISOString(),
    });

    const advanced = await ok(["devnet", "advance", "--time", "1h"]);
    expect(advanced.chains.length).toBeGreaterThan(0);

    const fired = await until(
      async () => {
        const list = await triggers();
        // counted when fired, recorded once its task was sent: wait for both
        return list.every((t) => t.firings === 1 && t.lastFiring) && list;
      },
      "every trigger of the runner to fire once, its task sent",
      60_000,
    );
    const wallNow = Date.now();
    // the slots fired are the chain's, which real time has not reached
    expect(Date.parse(byType(fired, "cron").lastFiring.scheduledAt)).toBeGreaterThan(wallNow);
    expect(byType(fired, "cron").lastFiring.scheduledAt).toBe(byType(waiting, "cron").nextFiring);
    expect(byType(fired, "fixedTime").lastFiring.scheduledAt).toBe(new Date(fixedAt).toISOString());
    for (const t of fired) expect(t.lastFiring.outcome).not.toBe("failed");

    const executions = await until(
      async () => {
        const items = (await ok(["workflow", "executions", stored.id])).items as any[];
        return items.length > 0 && items;
      },
      "the engine's fixed-time task to run",
      60_000,
    ).catch(async (error) => {
      // what the engine's watcher did, for the failure's reader
      const logs = await p.cli(["devnet", "logs", "task-engine"], undefined, 30_000);
      throw new Error(`${(error as Error).message}\n${logs.stdout.slice(-6_000)}`);
    });
    expect(executions).toHaveLength(1);
    expect(executions[0].triggerReason).toMatchObject({ type: "fixedTime", epoch: fixedAt });
  });
});
