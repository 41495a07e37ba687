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
import vm from "node:vm";
import { afterAll, describe, expect, it } from "vitest";
import { listTemplates, scaffoldProject, templatesRoot } from "../../../src/init/scaffold.js";
import {
  ENGINE_DIR,
  expandParameterProperties,
  rewriteImportSuffixes,
  workflowEngineFiles,
} from "../../../src/init/workflow-engine.js";
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

  it("keeps the engine's code as it is, apart from those two adaptations", () => {
    const original = readFileSync(path.join(SRC, "workflow/engine.ts"), "utf8");
    const copy = engine.get("workflow/engine.ts") as string;
    expect(copy.split("\n").slice(2).join("\n")).toBe(rewriteImportSuffixes(original));
    expect(copy).toContain('from "./processors/index.ts"');
  });

  it("rewrites relative .js specifiers only", () => {
    const text = [
      'import { a } from "./a.js";',
      "import type { B } from '../b/c.js';",
      'export { d } from "./d.js";',
      'import "./side.js";',
      'const e = await import("./e.js");',
      'import { f } from "ethers";',
      'import g from "@noble/hashes/sha3.js";',
    ].join("\n");
    expect(rewriteImportSuffixes(text)).toBe(
      [
        'import { a } from "./a.ts";',
        "import type { B } from '../b/c.ts';",
        'export { d } from "./d.ts";',
        'import "./side.ts";',
        'const e = await import("./e.ts");',
        'import { f } from "ethers";',
        'import g from "@noble/hashes/sha3.js";',
      ].join("\n"),
    );
  });

  it("turns parameter properties into fields that behave the same", () => {
    const source = [
      "class Base { constructor(readonly tag: string) {} }",
      "export class Thing extends Base {",
      "  private readonly list: string[] = [];",
      "  constructor(",
      "    message: string,",
      "    private readonly map: Record<string, (x: number) => boolean>,",
      "    readonly flag = false,",
      "    public count?: number,",
      "  ) {",
      "    super(message);",
      "    this.list.push(message);",
      "  }",
      "  get all() { return [this.tag, this.map.k?.(1), this.flag, this.count, this.list]; }",
      "}",
      "globalThis.result = new Thing('m', { k: (x: number) => x > 0 }).all;",
    ].join("\n");
    expect(() => stripTypeScriptTypes(source, { mode: "strip" })).toThrow();
    const expanded = expandParameterProperties(source);
    const js = stripTypeScriptTypes(expanded.replace("export class", "class"), { mode: "strip" });
    const context = vm.createContext({});
    vm.runInContext(js, context);
    expect(JSON.parse(JSON.stringify(context.result))).toEqual(["m", true, false, null, ["m"]]);
    expect(expanded).toMatch(/private readonly map: Record<string, \(x: number\) => boolean>;/);
    expect(expanded).toMatch(/readonly flag: boolean;/);
    expect(expanded).toMatch(/super\(message\);\n\s+this\.map = map;/);
  });

  it("refuses a parameter property whose type it cannot tell", () => {
    expect(() => expandParameterProperties("class A { constructor(readonly x = f()) {} }")).toThrow(
      expect.objectContaining({ code: "INTERNAL" }),
    );
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
