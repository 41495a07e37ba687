/**
 * customCode that reads a secret: what it derives from the value (here, another case) is kept
 * in the record in clear, and the attesters' replay, which sees "***", gives another digest, so
 * an honest run is rejected. `workflow validate` and `workflow create` used to say nothing; they
 * now warn, naming the node and the secret. A real engine over HTTP and the built CLI.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { replayExecution } from "../../../src/task-engine/record.js";
import { sealRun } from "../../../src/task-engine/worker.js";
import { InputTape, runWorkflow, validateWorkflow } from "../../../src/workflow/index.js";
import { runCli } from "../../helpers/cli.js";
import { code, type Harness, sampleExecution, startHarness } from "./helpers.js";

const derived = {
  name: "derives",
  trigger: { id: "trigger", name: "trig", type: "manual", config: {} },
  nodes: [
    code("shout", "return { up: apContext.configVars.KEY.toUpperCase() }"),
    {
      id: "each",
      name: "each",
      type: "loop",
      config: {
        inputVariable: "[1, 2]",
        iterVar: "n",
        executionMode: "sequential",
        runner: {
          type: "customCode",
          config: { lang: "javascript", source: "return apContext['configVars'].KEY.length + n" },
        },
      },
    },
  ],
  edges: [
    { id: "e1", source: "trigger", target: "shout" },
    { id: "e2", source: "shout", target: "each" },
  ],
};

describe("what the warning says", () => {
  it("is so: the record keeps the derived value, and the replay rejects the honest run", async () => {
    const workflow = (await validateWorkflow(derived)).workflow!;
    const execution = sampleExecution();
    const configVars = { KEY: "s3cr3t-key" };
    const tape = InputTape.recording();
    const record = await runWorkflow(workflow, {
      mode: "simulate",
      tape,
      configVars,
      id: execution.id,
      index: 0,
    });
    expect(record.status).toBe("success");
    const { result, doc } = sealRun(execution, workflow, record, {
      configVars,
      inputs: tape.inputs(),
      attest: true,
    });
    expect(JSON.stringify(doc)).toContain("S3CR3T-KEY");
    const replayed = await replayExecution(JSON.parse(JSON.stringify(doc)), result.digest);
    expect(replayed.valid).toBe(false);
  });
});

describe("workflow validate and create", () => {
  let dir: string;
  let h: Harness;
  const owner = Wallet.createRandom();
  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), "avsctl-code-secrets-"));
    writeFileSync(path.join(dir, "derives.json"), JSON.stringify(derived));
    writeFileSync(
      path.join(dir, "plain.json"),
      JSON.stringify({ ...derived, nodes: [code("shout", "return 1")], edges: [derived.edges[0]] }),
    );
    h = await startHarness();
  });
  afterAll(async () => {
    await h?.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const env = { AVSCTL_PRIVATE_KEY: owner.privateKey, AVSCTL_KEYSTORE_PASSWORD: undefined };

  it("warn about each customCode that reads a secret, and only then", async () => {
    const json = await runCli(["workflow", "validate", "derives.json", "--json"], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    const warnings: string[] = json.json().warnings;
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /^nodes\[0\]\.config\.source \(customCode "shout"\) reads apContext\.configVars\.KEY: /,
    );
    expect(warnings[0]).toContain('replay it with "***"');
    expect(warnings[0]).toContain("is rejected");
    expect(warnings[0]).toContain("keeps what the code derived in clear");
    expect(warnings[1]).toMatch(
      /^nodes\[1\]\.config\.runner\.config\.source \(customCode "each"\) reads apContext\.configVars\.KEY: /,
    );
    const human = await runCli(["workflow", "validate", "derives.json"], { cwd: dir });
    expect(human.stdout).toContain(`warning: ${warnings[0]}\n`);
    const plain = await runCli(["workflow", "validate", "plain.json", "--json"], { cwd: dir });
    expect(plain.json()).not.toHaveProperty("warnings");

    const created = await runCli(["workflow", "create", "derives.json", "--engine", h.engine.url, "--json"], {
      cwd: dir,
      env,
    });
    expect(created.code, created.stderr).toBe(0);
    expect(created.json().warnings.slice(-2)).toEqual(warnings);
  });
});
