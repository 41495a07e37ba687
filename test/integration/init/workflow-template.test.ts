/**
 * The workflow template for real: scaffold it, install its dependencies from npm, run its own
 * tests and typecheck (which run avsctl's engine as copied into the services), then run both
 * services as processes and check that the validation service approves what the execution
 * service proves and rejects a tampered proof. Network: 127.0.0.1 only (a price feed and a
 * fake aggregator run inside this test).
 */

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { hexlify, toUtf8Bytes } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ScaffoldResult, scaffoldProject } from "../../../src/init/scaffold.js";
import {
  childEnv,
  PERFORMER,
  postJson,
  run,
  SERVICES,
  type ServiceHarness,
  startServiceHarness,
} from "./support.js";

let tmp: string;
let project: ScaffoldResult;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), "avsctl-init-wf-it-"));
  project = await scaffoldProject({
    dir: path.join(tmp, "wf-avs"),
    template: "workflow",
    language: "ts",
    install: true,
    installOptions: { env: childEnv },
  });
}, 600_000);

afterAll(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

it("the generated workflow project passes its own tests and typecheck", { timeout: 300_000 }, async () => {
  expect(project.installed).toBe(true);
  for (const service of SERVICES) {
    const cwd = path.join(project.path, service);
    expect(await run("npm", ["test"], cwd)).toMatch(/ℹ fail 0/);
    await run("npm", ["run", "typecheck"], cwd);
  }
});

// ---- the two services as processes ----

describe("the workflow services as processes", () => {
  let services: ServiceHarness;
  let execution = "";
  let validation = "";

  beforeAll(async () => {
    services = await startServiceHarness({ ETHUSDT: "3000.00", DOGEUSDT: "0.15" });
    for (const service of SERVICES) {
      const started = await services.start({ cwd: path.join(project.path, service) });
      if (service === "execution-service") execution = started.url;
      else validation = started.url;
    }
  }, 120_000);

  afterAll(async () => {
    await services?.stop();
  });

  const validate = async (proofOfTask: string, data: string) => {
    const answer = await postJson(`${validation}/task/validate`, {
      proofOfTask,
      data,
      taskDefinitionId: 1,
      performer: PERFORMER,
    });
    expect(answer.status).toBe(200);
    return answer.body.data;
  };

  it("the validation service re-runs what the execution service proved and approves it", async () => {
    // Inputs travel as body fields, as `avsctl task send --data '{"symbol":"DOGEUSDT"}'` sends them.
    for (const inputs of [{}, { symbol: "DOGEUSDT" }]) {
      const before = services.aggregator.sendTasks.length;
      const { status, body } = await postJson(`${execution}/task/execute`, {
        taskDefinitionId: 1,
        ...inputs,
      });
      expect(status, JSON.stringify(body)).toBe(200);
      const { proofOfTask, data } = body.data;
      expect(proofOfTask).toMatch(/^0x[0-9a-f]{64}$/);
      expect(services.aggregator.sendTasks.length).toBe(before + 1);
      expect((services.aggregator.sendTasks[before] as unknown[]).slice(0, 4)).toEqual([
        proofOfTask,
        data,
        1,
        PERFORMER,
      ]);
      expect(await validate(proofOfTask, data)).toBe(true);
    }
  });

  it("a tampered proof, or the proof over other inputs, is rejected", async () => {
    const { body } = await postJson(`${execution}/task/execute`, {});
    const { proofOfTask, data } = body.data;
    const tampered = `${proofOfTask.slice(0, -1)}${proofOfTask.endsWith("0") ? "1" : "0"}`;
    expect(await validate(tampered, data)).toBe(false);
    const other = hexlify(
      toUtf8Bytes('{"inputVariables":{"symbol":"DOGEUSDT","threshold":2500},"round":1,"triggerData":{}}'),
    );
    expect(await validate(proofOfTask, other)).toBe(false);
  });

  it("each execution is its own task: same proof, another round in data", async () => {
    const first = (await postJson(`${execution}/task/execute`, {})).body.data;
    const second = (await postJson(`${execution}/task/execute`, {})).body.data;
    expect(second.proofOfTask).toBe(first.proofOfTask);
    expect(second.taskHash).not.toBe(first.taskHash);
    const round = (data: string) => JSON.parse(Buffer.from(data.slice(2), "hex").toString("utf8")).round;
    expect(round(second.data)).toBeGreaterThan(round(first.data));
    expect(await validate(second.proofOfTask, second.data)).toBe(true);
  });
});
