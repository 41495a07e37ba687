import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { stripTypeScriptTypes } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { listTemplates, scaffoldProject, templatesRoot } from "../../../src/init/scaffold.js";
import { ENGINE_DIR, workflowEngineFiles } from "../../../src/init/workflow-engine.js";
import { loadWorkflow } from "../../../src/workflow/index.js";

const tmp = mkdtempSync(path.join(tmpdir(), "avsctl-init-wf-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;
const freshDir = () => path.join(tmp, `p${++counter}`);
const SRC = path.resolve(import.meta.dirname, "../../../src");

async function errorOf(promise: Promise<unknown>): Promise<{ code?: string; details?: any } | undefined> {
  try {
    await promise;
  } catch (error) {
    return error as { code?: string; details?: any };
  }
  return undefined;
}

function put(root: string, rel: string, text: string): void {
  mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  writeFileSync(path.join(root, rel), text);
}

describe("languages a template declares", () => {
  it("lists the workflow template in TypeScript only", () => {
    const workflow = listTemplates().find((t) => t.name === "workflow");
    expect(workflow).toMatchObject({ default: false, languages: ["typescript"] });
    expect(workflow?.description.length).toBeGreaterThan(10);
  });

  it("refuses the workflow template in another language, naming --language, before writing", async () => {
    for (const language of ["python", "py", "go"]) {
      const dir = freshDir();
      const error = await errorOf(scaffoldProject({ dir, name: "x", template: "workflow", language }));
      expect(error, language).toMatchObject({
        code: "INVALID_ARGUMENT",
        details: { argument: "--language" },
      });
      expect(existsSync(dir)).toBe(false);
    }
  });

  it("narrows a template's language folders to the ones template.json names", async () => {
    const root = path.join(tmp, "declared");
    put(root, "_shared/typescript/a.txt", "a\n");
    put(root, "_shared/python/a.txt", "a\n");
    put(root, "demo/template.json", '{"description": "python only", "languages": ["python"]}');
    put(root, "demo/typescript/b.txt", "b\n");
    put(root, "demo/python/b.txt", "b\n");
    put(root, "open/template.json", '{"description": "every folder it has"}');
    put(root, "open/typescript/b.txt", "b\n");
    put(root, "open/python/b.txt", "b\n");
    const listed = Object.fromEntries(listTemplates(root).map((t) => [t.name, t.languages]));
    expect(listed).toEqual({ demo: ["python"], open: ["typescript", "python"] });
    const error = await errorOf(
      scaffoldProject({ dir: freshDir(), name: "x", template: "demo", language: "ts", templatesDir: root }),
    );
    expect(error).toMatchObject({ code: "INVALID_ARGUMENT", details: { argument: "--language" } });
    const ok = await scaffoldProject({
      dir: freshDir(),
      name: "x",
      template: "demo",
      language: "py",
      templatesDir: root,
    });
    expect(ok.files).toEqual(["a.txt", "b.txt"]);
  });

  it("reports an unreadable manifest as INTERNAL", () => {
    const root = path.join(tmp, "broken");
    put(root, "_shared/typescript/a.txt", "a\n");
    put(root, "bad/template.json", "[1]");
    put(root, "bad/typescript/b.txt", "b\n");
    expect(() => listTemplates(root)).toThrow(expect.objectContaining({ code: "INTERNAL" }));
  });
});

describe("the workflow engine copy", () => {
  const engine = workflowEngineFiles(SRC);

  it("holds every file of src/workflow and what they import from outside it", () => {
    const own = readdirSync(path.join(SRC, "workflow"), { recursive: true, encoding: "utf8" })
      .filter((f) => f.endsWith(".ts"))
      .map((f) => `workflow/${f.split(path.sep).join("/")}`);
    for (const file of own) expect([...engine.keys()]).toContain(file);
    expect([...engine.keys()]).toContain("errors.ts");
    // Nothing beyond what the engine reaches: no CLI, devnet or init code.
    for (const file of engine.keys()) expect(file).not.toMatch(/^(cli|devnet|init|node)\//);
  });

  it("imports relative modules by their .ts names and runs under Node's type stripping", () => {
    for (const [file, text] of engine) {
      expect(text, file).not.toMatch(/from\s*["']\.{1,2}\/[^"']*\.js["']/);
      expect(() => stripTypeScriptTypes(text, { mode: "strip" }), file).not.toThrow();
    }
  });

  it("copies every file as it is, behind a header naming its origin", () => {
    for (const [file, copy] of engine) {
      const original = readFileSync(path.join(SRC, file), "utf8");
      expect(copy.split("\n").slice(0, 2).join("\n"), file).toMatch(/^\/\/ Copied from avsctl's src\//);
      expect(copy.split("\n").slice(2).join("\n"), file).toBe(original);
    }
    expect(engine.get("workflow/engine.ts")).toContain('from "./processors/index.ts"');
  });

  it("refuses an engine source that Node could not run as it is, naming the file", () => {
    const copyOf = (files: Record<string, string>) => {
      const root = path.join(tmp, `engine-${++counter}`);
      for (const [rel, text] of Object.entries(files)) put(root, rel, text);
      return () => workflowEngineFiles(root);
    };
    const refused = (file: string) =>
      expect.objectContaining({ code: "INTERNAL", details: expect.objectContaining({ file }) });
    expect(
      copyOf({ "workflow/a.ts": 'import { b } from "./b.js";\n', "workflow/b.ts": "export const b = 1;\n" }),
    ).toThrow(refused("workflow/a.ts"));
    expect(copyOf({ "workflow/a.ts": "export enum E { A }\n" })).toThrow(refused("workflow/a.ts"));
    expect(copyOf({ "workflow/a.ts": "export class A { constructor(readonly x: number) {} }\n" })).toThrow(
      refused("workflow/a.ts"),
    );
    expect(copyOf({ "workflow/a.ts": 'import { u } from "../util/u.ts";\n' })).toThrow(refused("util/u.ts"));
    const ok = copyOf({
      "workflow/a.ts": 'import { u } from "../util/u.ts";\nexport const a: number = u;\n',
      "util/u.ts": "export const u = 1;\n",
    })();
    expect([...ok.keys()]).toEqual(["util/u.ts", "workflow/a.ts"]);
  });

  it("reports missing engine sources as INTERNAL", () => {
    expect(() => workflowEngineFiles(path.join(tmp, "no-src"))).toThrow(
      expect.objectContaining({ code: "INTERNAL" }),
    );
  });
});

describe("scaffoldProject --template workflow", () => {
  it("writes the workflow, both services and the same engine copy in each", async () => {
    const result = await scaffoldProject({
      dir: freshDir(),
      name: "wf-avs",
      template: "workflow",
      install: false,
    });
    expect(result).toMatchObject({ template: "workflow", language: "typescript" });
    const read = (rel: string) => readFileSync(path.join(result.path, rel), "utf8");
    for (const file of [
      "workflow.json",
      "README.md",
      ".env.example",
      "avsctl.config.json",
      "execution-service/src/task.ts",
      "execution-service/src/workflow-task.ts",
      "validation-service/src/validate.ts",
      "validation-service/src/workflow-task.ts",
      "validation-service/test/price-feed.ts",
    ]) {
      expect(result.files).toContain(file);
    }
    for (const rel of engineFiles()) {
      const exec = `execution-service/${ENGINE_DIR}/${rel}`;
      expect(result.files).toContain(exec);
      expect(read(exec)).toBe(read(`validation-service/${ENGINE_DIR}/${rel}`));
    }
    expect(read("execution-service/src/workflow-task.ts")).toBe(
      read("validation-service/src/workflow-task.ts"),
    );
    expect(read("README.md")).toMatch(/^# wf-avs\n/);
    expect(JSON.parse(read("execution-service/package.json"))).toMatchObject({
      name: "wf-avs-execution-service",
      dependencies: { ethers: "6.17.0", croner: expect.any(String), yaml: expect.any(String) },
    });
    const checked = await loadWorkflow("workflow.json", result.path);
    expect(checked.errors).toEqual([]);
    const types = checked.workflow?.nodes.map((n) => n.type);
    for (const type of ["restApi", "customCode", "branch"]) expect(types).toContain(type);
  });

  it("stores no engine file in the template itself", () => {
    const dir = path.join(templatesRoot(), "workflow");
    const stored = readdirSync(dir, { recursive: true, encoding: "utf8" });
    expect(stored.filter((f) => f.split(path.sep).includes("engine"))).toEqual([]);
  });
});

function engineFiles(): string[] {
  return [...workflowEngineFiles(SRC).keys()];
}
