import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { isAvsctlError } from "../../../src/errors.js";
import { applyInputAssignments, readInputsFile } from "../../../src/workflow/inputs.js";
import { code, doc, edges, run, stepsByName } from "./build.js";

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return isAvsctlError(error) ? error.code : "not an AvsctlError";
  }
  return "no error";
}

describe("--input and --inputs", () => {
  it("key=value sets JSON values or text, a.b=1 a nested key, leaving the rest", () => {
    const base = { settings: { threshold: 1, url: "http://x" }, list: [1] };
    const out = applyInputAssignments(base, [
      "settings.threshold=5000",
      "name=ETH",
      "list=[1,2]",
      "flag=true",
      "nested.new.key=x",
    ]);
    expect(out).toEqual({
      settings: { threshold: 5000, url: "http://x" },
      list: [1, 2],
      name: "ETH",
      flag: true,
      nested: { new: { key: "x" } },
    });
    expect(base.settings.threshold).toBe(1);
  });

  it("refuses what is not key=value or not a variable name (exit 2 codes)", () => {
    for (const bad of ["novalue", "=1", "bad-name=1", "a.__proto__.x=1", "class=1"]) {
      expect(
        codeOf(() => applyInputAssignments({}, [bad])),
        bad,
      ).toBe("INVALID_ARGUMENT");
    }
  });

  it("reads a JSON object of inputs from a file", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "avsctl-inputs-"));
    try {
      writeFileSync(path.join(dir, "ok.json"), JSON.stringify({ settings: { a: 1 } }));
      writeFileSync(path.join(dir, "array.json"), "[1]");
      writeFileSync(path.join(dir, "bad.json"), "{");
      expect(readInputsFile("ok.json", dir)).toEqual({ settings: { a: 1 } });
      expect(codeOf(() => readInputsFile("array.json", dir))).toBe("INVALID_ARGUMENT");
      expect(codeOf(() => readInputsFile("bad.json", dir))).toBe("INVALID_ARGUMENT");
      expect(codeOf(() => readInputsFile("missing.json", dir))).toBe("INVALID_ARGUMENT");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a filter may name its input node the old way (inputNodeName)", async () => {
    const record = await run(
      doc(
        [
          code("src", "return [1, 5, 9]"),
          { id: "f", name: "f", type: "filter", config: { inputNodeName: "src", expression: "value > 2" } },
        ],
        edges("trigger->src", "src->f"),
      ),
    );
    expect(stepsByName(record).f!.output).toEqual([5, 9]);
  });
});
