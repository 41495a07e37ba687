import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../../src/config/schema.js";
import {
  devnetName,
  planDevnet,
  planDifferences,
  quickstartProject,
  type UpFlags,
} from "../../../src/devnet/plan.js";
import type { DevnetState } from "../../../src/devnet/state.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "avsctl-unit-plan-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const named = (name: string) => Object.assign(defaultConfig(), { name });

describe("devnet names", () => {
  it("keep the project's name and add a hash of its root, so two roots never share one", () => {
    const a = devnetName(named("My AVS"), path.join(tmp, "one", "my-avs"));
    const b = devnetName(named("My AVS"), path.join(tmp, "two", "my-avs"));
    expect(a).toMatch(/^my-avs-[0-9a-f]{6}$/);
    expect(b).toMatch(/^my-avs-[0-9a-f]{6}$/);
    expect(a).not.toBe(b);
  });

  it("do not change when the directory is created, nor through a symlink", () => {
    const dir = path.join(tmp, "later", "proj");
    const before = devnetName(named("proj"), dir);
    mkdirSync(dir, { recursive: true });
    expect(devnetName(named("proj"), dir)).toBe(before);
    symlinkSync(path.join(tmp, "later"), path.join(tmp, "link"));
    expect(devnetName(named("proj"), path.join(tmp, "link", "proj"))).toBe(before);
  });

  it("give each checkout's quickstart its own", () => {
    const one = quickstartProject(path.join(tmp, "checkout-1"));
    const two = quickstartProject(path.join(tmp, "checkout-2"));
    expect(one.projectDir).toBe(path.join(tmp, "checkout-1", ".avsctl", "quickstart"));
    const names = [one, two].map((q) => devnetName(q.config, q.projectDir));
    for (const n of names) expect(n).toMatch(/^quickstart-[0-9a-f]{6}$/);
    expect(names[0]).not.toBe(names[1]);
  });
});

describe("planDifferences", () => {
  const dir = path.join(tmp, "diff");
  /** The state a devnet started with `flags` records (only what the comparison reads). */
  const runningWith = (flags: UpFlags, runtime: "docker" | "process" = "process") => {
    const plan = planDevnet(defaultConfig(), dir, flags);
    const url = (s: { kind: string; url?: string } | null, port: number) =>
      s === null ? null : (s.url ?? `http://127.0.0.1:${port}`);
    return {
      runtime,
      l1: { chainId: plan.l1ChainId },
      l2: plan.l2ChainIds.map((chainId) => ({ chainId })),
      attesters: Array.from({ length: plan.attesters }, () => ({})),
      ...(plan.engine
        ? { engine: { url: "http://127.0.0.1:8092", chainId: 31338, taskDefinitionId: 2 } }
        : {}),
      services: {
        execution: url(plan.services.execution as never, 4003),
        validation: url(plan.services.validation as never, 4002),
      },
      internal: {
        plan: {
          blockTime: plan.blockTime,
          services: {
            execution: plan.services.execution ? plan.services.execution.kind : "none",
            validation: plan.services.validation
              ? plan.services.validation.kind === "external"
                ? plan.services.validation.url
                : plan.services.validation.kind
              : "none",
          },
        },
      },
    } as unknown as DevnetState;
  };
  const diff = (
    running: DevnetState,
    flags: UpFlags,
    config = defaultConfig(),
    configured: ReadonlySet<string> = new Set(),
  ) => planDifferences(planDevnet(config, dir, flags, configured), running, flags);

  it("finds nothing when the same is asked, or when the runtime is left to auto", () => {
    const running = runningWith({ attesters: 4, blockTime: 2 });
    expect(diff(running, { attesters: 4, blockTime: 2 })).toEqual([]);
    expect(diff(running, { attesters: 4, blockTime: 2, runtime: "auto" })).toEqual([]);
    expect(diff(running, { attesters: 4, blockTime: 2, runtime: "process" })).toEqual([]);
  });

  it("names each flag with the running and the asked value", () => {
    const running = runningWith({});
    expect(diff(running, { runtime: "docker", attesters: 5, l2Chains: 2, blockTime: 3 })).toEqual([
      { flag: "--runtime", running: "process", asked: "docker" },
      { flag: "--attesters", running: "3", asked: "5" },
      { flag: "--l2-chains", running: "1", asked: "2" },
      { flag: "--block-time", running: "0", asked: "3" },
    ]);
  });

  it("names the config key when the config asks, not a flag", () => {
    const config = defaultConfig();
    config.devnet.attesters = 2;
    config.devnet.l2ChainId = 40000;
    const configured = new Set(["devnet.attesters", "devnet.l2ChainId"]);
    expect(diff(runningWith({}), {}, config, configured)).toEqual([
      { flag: "devnet.attesters (config)", running: "3", asked: "2" },
      { flag: "devnet.l2ChainId (config)", running: "31338", asked: "40000" },
    ]);
  });

  it("lets the running devnet's attesters and L2s stand over defaults", () => {
    const running = runningWith({ attesters: 4, l2Chains: 2 });
    expect(diff(running, {})).toEqual([]);
    expect(diff(running, { attesters: 3 })).toEqual([{ flag: "--attesters", running: "4", asked: "3" }]);
    expect(diff(running, {}, defaultConfig(), new Set(["devnet.l2Chains"]))).toEqual([
      { flag: "devnet.l2Chains (config)", running: "2", asked: "1" },
    ]);
  });

  it("tells services on, off and the user's own apart", () => {
    const withServices = runningWith({});
    expect(diff(withServices, { services: false })).toEqual([
      {
        flag: "--no-services",
        running:
          "execution avsctl's sample at http://127.0.0.1:4003, validation avsctl's sample at http://127.0.0.1:4002",
        asked: "no execution or validation service",
      },
    ]);
    expect(diff(runningWith({ services: false }), {})).toEqual([
      {
        flag: "--no-services",
        running: "no execution or validation service",
        asked: "execution avsctl's sample, validation avsctl's sample",
      },
    ]);
    expect(diff(withServices, { validationUrl: "http://127.0.0.1:9000" })).toEqual([
      {
        flag: "--validation-url",
        running: "avsctl's sample at http://127.0.0.1:4002",
        asked: "yours at http://127.0.0.1:9000",
      },
    ]);
  });

  it("tells the task engine on and off apart, by flag or config key", () => {
    expect(diff(runningWith({}), { engine: false })).toEqual([]);
    expect(diff(runningWith({ engine: true }), { engine: true })).toEqual([]);
    expect(diff(runningWith({}), { engine: true })).toEqual([
      { flag: "--engine", running: "no task engine", asked: "task engine" },
    ]);
    expect(diff(runningWith({ engine: true }), { engine: false })).toEqual([
      { flag: "--no-engine", running: "task engine", asked: "no task engine" },
    ]);
    const config = defaultConfig();
    config.devnet.engine = true;
    expect(diff(runningWith({}), {}, config, new Set(["devnet.engine"]))).toEqual([
      { flag: "devnet.engine (config)", running: "no task engine", asked: "task engine" },
    ]);
  });

  it("compares a state of an older avsctl only on what it records", () => {
    const old = runningWith({});
    old.internal!.plan = { attesters: 3, l2Chains: 1 };
    expect(diff(old, { blockTime: 5 })).toEqual([]);
    expect(diff(old, { services: false })).toHaveLength(1);
  });
});

describe("the task engine", () => {
  it("runs in a workflow project (a workflow.json at the root), else only when asked", () => {
    const plain = path.join(tmp, "plain");
    const workflow = path.join(tmp, "workflow");
    mkdirSync(plain, { recursive: true });
    mkdirSync(workflow, { recursive: true });
    writeFileSync(path.join(workflow, "workflow.json"), "{}");
    const on = defaultConfig();
    on.devnet.engine = true;
    const off = defaultConfig();
    off.devnet.engine = false;
    expect(planDevnet(defaultConfig(), plain, {}).engine).toBe(false);
    expect(planDevnet(defaultConfig(), workflow, {}).engine).toBe(true);
    expect(planDevnet(on, plain, {}).engine).toBe(true);
    expect(planDevnet(off, workflow, {}).engine).toBe(false);
    expect(planDevnet(off, plain, { engine: true }).engine).toBe(true);
    expect(planDevnet(on, workflow, { engine: false }).engine).toBe(false);
  });
});

describe("the aggregator's bound on tasks in progress", () => {
  it("devnet.maxPendingTasks reaches the plan (and the aggregator's --max-pending-tasks); out of range is refused", async () => {
    const { validateConfig } = await import("../../../src/config/schema.js");
    const ok = validateConfig({ devnet: { maxPendingTasks: 2 } });
    expect(ok.errors).toEqual([]);
    expect(planDevnet(ok.config, path.join(tmp, "bound"), {}).maxPendingTasks).toBe(2);
    expect(planDevnet(defaultConfig(), path.join(tmp, "bound"), {}).maxPendingTasks).toBeUndefined();
    expect(validateConfig({ devnet: { maxPendingTasks: 0 } }).errors.map((e) => e.path)).toEqual([
      "devnet.maxPendingTasks",
    ]);
  });
});
