/**
 * maskRecord: the record `workflow simulate|run` print and the one the task engine keeps of the
 * same run are one record. A run masks its secrets in errors and logs as it goes; outputs and
 * the trigger's data are masked afterwards, by the rule the engine's sealRun applies.
 */

import { describe, expect, it } from "vitest";
import type { Execution } from "../../../src/task-engine/types.js";
import { sealRun } from "../../../src/task-engine/worker.js";
import { comparableRecord, InputTape, runWorkflow } from "../../../src/workflow/index.js";
import { maskRecord, recordSecrets } from "../../../src/workflow/mask.js";
import { code, doc, edges, valid } from "./build.js";

const SECRET = "k3y-Zq81-secret";

const execution = {
  id: "01JEXEC0000000000000000000",
  taskId: "01JTASK0000000000000000000",
  index: 0,
  triggerReason: { type: "manual" },
  triggerData: null,
} as unknown as Execution;

describe("maskRecord", () => {
  it("masks a secret in every output, the trigger's data included, as the engine's record does", async () => {
    const workflow = await valid(
      doc(
        [
          code("a", "return { said: 'key=' + apContext.configVars.k, [apContext.configVars.k]: 1 }"),
          code("b", "console.log(a.data.said); return [trig.data.echo, a.data.said.length]"),
        ],
        edges("trigger->a", "a->b"),
      ),
    );
    const configVars = { k: SECRET };
    const tape = InputTape.recording();
    const ran = await runWorkflow(workflow, {
      mode: "simulate",
      configVars,
      triggerData: { echo: `got ${SECRET}` },
      tape,
      id: execution.id,
    });
    // what the run itself gives: the log masked, the outputs not
    expect(ran.steps[2]!.log).toBe("key=***");
    expect(JSON.stringify(ran.steps.map((s) => s.output))).toContain(SECRET);

    const masked = maskRecord(ran, workflow, configVars);
    expect(JSON.stringify(masked)).not.toContain(SECRET);
    expect(masked.steps.map((s) => s.output)).toEqual([
      { echo: "got ***" },
      { said: "key=***", "***": 1 },
      ["got ***", 4 + SECRET.length],
    ]);
    expect(masked.steps[2]!.log).toBe("key=***");

    const { result } = sealRun(execution, workflow, ran, {
      configVars,
      inputs: tape.inputs(),
      attest: false,
    });
    expect(comparableRecord(masked)).toEqual(comparableRecord({ ...ran, ...result }));
    expect(masked.steps).toEqual(result.steps);
  });

  it("leaves a value the workflow spells out itself, as the engine does (it is in the workflow)", async () => {
    const workflow = await valid(
      doc([code("a", "return 'plain-literal ' + apContext.configVars.k")], edges("trigger->a")),
    );
    const configVars = { spelled: "plain-literal", k: SECRET };
    expect(recordSecrets(workflow, configVars)).toEqual([SECRET]);
    const ran = await runWorkflow(workflow, { mode: "simulate", configVars });
    expect(maskRecord(ran, workflow, configVars).steps[1]!.output).toBe("plain-literal ***");
    expect(maskRecord(ran, workflow, {})).toEqual(ran);
  });
});
