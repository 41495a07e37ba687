import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateConfig } from "../../../src/config/schema.js";
import { startPriceFeed } from "../../../src/devnet/samples/sample-services.js";
import {
  LANGUAGES,
  type Language,
  listTemplates,
  normalizeLanguage,
  projectNameProblem,
  scaffoldProject,
  suggestProjectName,
  templatesRoot,
  validateProjectName,
} from "../../../src/init/scaffold.js";

const tmp = mkdtempSync(path.join(tmpdir(), "avsctl-init-unit-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let counter = 0;
const freshDir = () => path.join(tmp, `p${++counter}`);

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return (error as { code?: string }).code;
  }
  return undefined;
}

function treeOf(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string, prefix: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const rel = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(path.join(d, entry.name), rel);
      else out.push(rel);
    }
  };
  walk(dir, "");
  return out.sort();
}

const SERVICE_FILES: Record<Language, string[]> = {
  typescript: [
    "execution-service/package.json",
    "execution-service/tsconfig.json",
    "execution-service/src/main.ts",
    "execution-service/src/server.ts",
    "execution-service/src/task.ts",
    "execution-service/src/bls.ts",
    "execution-service/test/fixtures/bls-othentic.json",
    "validation-service/package.json",
    "validation-service/src/validate.ts",
  ],
  python: [
    "requirements-dev.txt",
    "execution-service/requirements.txt",
    "execution-service/server.py",
    "execution-service/task.py",
    "execution-service/tests/test_signing.py",
    "validation-service/requirements.txt",
    "validation-service/validate.py",
  ],
  go: [
    "execution-service/go.mod",
    "execution-service/go.sum",
    "execution-service/main.go",
    "execution-service/task.go",
    "execution-service/signing_test.go",
    "validation-service/go.mod",
    "validation-service/go.sum",
    "validation-service/validate.go",
  ],
};

const COMMON_FILES = [
  ".env.example",
  ".github/workflows/avs.yml",
  ".gitignore",
  "README.md",
  "avsctl.config.json",
  "execution-service/Dockerfile",
  "execution-service/.dockerignore",
  "validation-service/Dockerfile",
  "validation-service/.dockerignore",
];

describe("templates", () => {
  it("lists price-oracle first (the default) and blank, each in three languages", () => {
    const templates = listTemplates();
    expect(templates[0]).toMatchObject({ name: "price-oracle", default: true, languages: [...LANGUAGES] });
    const blank = templates.find((t) => t.name === "blank");
    expect(blank).toMatchObject({ default: false, languages: ["typescript", "python", "go"] });
    for (const t of templates) expect(t.description.length).toBeGreaterThan(10);
  });

  it("finds the templates folder at the package root", () => {
    expect(templatesRoot()).toBe(path.resolve(import.meta.dirname, "../../../templates"));
  });

  it("accepts the language aliases of docs/cli.md and refuses others", () => {
    expect(normalizeLanguage("ts")).toBe("typescript");
    expect(normalizeLanguage("TypeScript")).toBe("typescript");
    expect(normalizeLanguage("py")).toBe("python");
    expect(normalizeLanguage("python")).toBe("python");
    expect(normalizeLanguage("golang")).toBe("go");
    expect(normalizeLanguage("go")).toBe("go");
    expect(() => normalizeLanguage("rust")).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
  });

  it("validates project names npm-style and derives one from a directory name", () => {
    for (const good of ["my-avs", "a", "avs2", "0x-oracle", "a".repeat(63)]) {
      expect(projectNameProblem(good), good).toBeUndefined();
      expect(validateProjectName(good)).toBe(good);
    }
    for (const bad of ["", "My-AVS", "-avs", "avs-", "my_avs", "my avs", "@scope/x", "a".repeat(64), "été"]) {
      expect(projectNameProblem(bad), bad).toBeTypeOf("string");
      expect(() => validateProjectName(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
    expect(suggestProjectName("My AVS_2")).toBe("my-avs-2");
    expect(suggestProjectName("___")).toBeUndefined();
  });

  it("stores no file twice: what both services carry identically lives in a _services/ folder", () => {
    const root = templatesRoot();
    const layers = readdirSync(root, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .flatMap((entry) => ["common", ...LANGUAGES].map((sub) => path.join(root, entry.name, sub)))
      .filter((layer) => existsSync(path.join(layer, "execution-service")));
    expect(layers.length).toBeGreaterThan(0);
    for (const layer of layers) {
      for (const file of treeOf(path.join(layer, "execution-service"))) {
        const twin = path.join(layer, "validation-service", file);
        if (!existsSync(twin)) continue;
        const a = readFileSync(path.join(layer, "execution-service", file));
        expect(a.equals(readFileSync(twin)), `${path.relative(root, layer)}/*-service/${file}`).toBe(false);
      }
    }
  });

  it("ships avsctl's BLS known-answer vector (test/fixtures) in the TypeScript template", () => {
    const copy = path.join(
      templatesRoot(),
      "_shared/typescript/execution-service/test/fixtures/bls-othentic.json",
    );
    const original = path.resolve(import.meta.dirname, "../../fixtures/bls-othentic.json");
    const data = JSON.parse(readFileSync(copy, "utf8"));
    expect(data.task.taskHash).toBe("0xe46401d3d7e425f047ffafb58d428790de8ca50c6dd9527ef7b080882fc4fe6e");
    expect(data).toEqual(JSON.parse(readFileSync(original, "utf8")));
  });
});

describe("scaffoldProject", () => {
  for (const template of ["price-oracle", "blank"]) {
    for (const language of LANGUAGES) {
      it(`writes the ${template} project in ${language} with placeholders replaced`, async () => {
        const dir = freshDir();
        const result = await scaffoldProject({ dir, name: "demo-avs", template, language, install: false });
        expect(result).toMatchObject({ path: dir, name: "demo-avs", template, language, installed: false });
        expect(result.files).toEqual(treeOf(dir));
        for (const file of [...COMMON_FILES, ...SERVICE_FILES[language]])
          expect(result.files).toContain(file);
        for (const file of result.files) {
          expect(file).not.toMatch(/(^|\/)_gitignore$|(^|\/)_dockerignore$|(^|\/)_github\/|\.tmpl$/);
          const text = readFileSync(path.join(dir, file), "utf8");
          expect(text, file).not.toMatch(/__PROJECT_NAME__|__TEMPLATE__|__AVSCTL_VERSION__/);
        }
        expect(readFileSync(path.join(dir, "README.md"), "utf8")).toMatch(/^# demo-avs\n/);

        const rawConfig = JSON.parse(readFileSync(path.join(dir, "avsctl.config.json"), "utf8"));
        const { config, errors, warnings } = validateConfig(rawConfig);
        expect(errors).toEqual([]);
        expect(warnings).toEqual([]);
        expect(config.name).toBe("demo-avs");
        expect(config.services.execution).toMatchObject({ dir: "execution-service", port: 4003 });
        expect(config.services.validation).toMatchObject({ dir: "validation-service", port: 4002 });
        expect(config.taskDefinitions).toHaveLength(1);

        const env = readFileSync(path.join(dir, ".env.example"), "utf8");
        for (const name of [
          "OTHENTIC_CLIENT_RPC_ADDRESS",
          "PRIVATE_KEY_PERFORMER",
          "PERFORMER_ADDRESS",
          "L2_RPC",
        ]) {
          expect(env).toContain(name);
        }
        if (template === "price-oracle") expect(env).toMatch(/PRICE_SOURCE_URL=.*\nPRICE_SYMBOL=ETHUSDT/);
      });
    }
  }

  it("tells in each price-oracle README what the devnet's price feed really answers", async () => {
    const feed = await startPriceFeed();
    try {
      for (const language of LANGUAGES) {
        const dir = freshDir();
        await scaffoldProject({ dir, name: "demo-avs", template: "price-oracle", language, install: false });
        const readme = readFileSync(path.join(dir, "README.md"), "utf8").replace(/\s+/g, " ");
        const said = /the feed `avsctl devnet up` starts answers `([^`]+)`/.exec(readme)?.[1];
        expect(said, language).toBeDefined();
        const before = Math.floor(Date.now() / 1000);
        const answer = (await (await fetch(`${feed.url}/price?symbol=ETHUSDT`)).json()) as {
          timestamp: number;
        };
        expect(answer.timestamp).toBeGreaterThanOrEqual(before);
        expect(answer.timestamp).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
        expect(said, language).toContain('"timestamp":<now>');
        expect(JSON.parse(said!.replace("<now>", String(answer.timestamp))), language).toEqual(answer);
      }
    } finally {
      await feed.stop();
    }
  });

  it("names package manifests and modules after the project", async () => {
    const ts = await scaffoldProject({ dir: freshDir(), name: "oracle-x", language: "ts" });
    const pkg = JSON.parse(readFileSync(path.join(ts.path, "execution-service/package.json"), "utf8"));
    expect(pkg.name).toBe("oracle-x-execution-service");
    for (const version of Object.values({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect(version).toMatch(/^\d+\.\d+\.\d+$/);
    }
    const go = await scaffoldProject({ dir: freshDir(), name: "oracle-x", language: "golang" });
    expect(readFileSync(path.join(go.path, "validation-service/go.mod"), "utf8")).toMatch(
      /^module oracle-x\/validation-service\n/,
    );
    const py = await scaffoldProject({ dir: freshDir(), name: "oracle-x", language: "py" });
    for (const line of readFileSync(path.join(py.path, "execution-service/requirements.txt"), "utf8")
      .trim()
      .split("\n")) {
      expect(line).toMatch(/^[a-z0-9-]+==\d+(\.\d+)*$/);
    }
  });

  it("defaults to price-oracle in TypeScript and to a name derived from the directory", async () => {
    const dir = path.join(tmp, "My Oracle");
    const result = await scaffoldProject({ dir });
    expect(result).toMatchObject({ name: "my-oracle", template: "price-oracle", language: "typescript" });
  });

  it("refuses a non-empty directory without force and writes nothing", async () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(path.join(dir, "notes.txt"), "mine");
    expect(await codeOf(scaffoldProject({ dir, name: "x" }))).toBe("DIRECTORY_NOT_EMPTY");
    expect(readdirSync(dir)).toEqual(["notes.txt"]);
    expect(readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("mine");
  });

  it("writes into a non-empty directory with force, keeping other files", async () => {
    const dir = freshDir();
    mkdirSync(dir);
    writeFileSync(path.join(dir, "notes.txt"), "mine");
    writeFileSync(path.join(dir, "README.md"), "old");
    const result = await scaffoldProject({ dir, name: "x", force: true, template: "blank", language: "go" });
    expect(readFileSync(path.join(dir, "notes.txt"), "utf8")).toBe("mine");
    expect(readFileSync(path.join(dir, "README.md"), "utf8")).toMatch(/^# x\n/);
    expect(result.files).not.toContain("notes.txt");
  });

  it("accepts a directory holding only .git", async () => {
    const dir = freshDir();
    mkdirSync(path.join(dir, ".git"), { recursive: true });
    const result = await scaffoldProject({ dir, name: "x", template: "blank" });
    expect(result.files).toContain("README.md");
  });

  it("refuses bad names, templates and languages before writing anything", async () => {
    const dir = freshDir();
    expect(await codeOf(scaffoldProject({ dir, name: "Bad Name" }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(scaffoldProject({ dir, name: "x", template: "nope" }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(scaffoldProject({ dir, name: "x", language: "rust" }))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(scaffoldProject({ dir: path.join(tmp, "___") }))).toBe("INVALID_ARGUMENT");
    expect(existsSync(dir)).toBe(false);
  });

  it("refuses a path that is a file", async () => {
    const file = path.join(tmp, "a-file");
    writeFileSync(file, "x");
    expect(await codeOf(scaffoldProject({ dir: file, name: "x" }))).toBe("INVALID_ARGUMENT");
  });
  it("leaves out the bytecode Python caches beside a template's sources", async () => {
    const root = path.join(tmp, "cached-templates");
    cpSync(templatesRoot(), root, { recursive: true });
    const cache = path.join(root, "_shared", "python", "execution-service", "__pycache__");
    mkdirSync(cache, { recursive: true });
    writeFileSync(path.join(cache, "server.cpython-311.pyc"), "bytecode");
    const dir = freshDir();
    const result = await scaffoldProject({ dir, language: "python", templatesDir: root, install: false });
    expect(result.files.filter((f) => f.includes("__pycache__"))).toEqual([]);
    expect(existsSync(path.join(dir, "execution-service", "__pycache__"))).toBe(false);
  });
  it("writes each file of a _services/ folder into both services, per-service placeholders filled", async () => {
    const root = path.join(tmp, "rule-templates");
    const put = (rel: string, text: string) => {
      mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      writeFileSync(path.join(root, rel), text);
    };
    put("_shared/go/_services/Dockerfile", "FROM x\nEXPOSE __SERVICE_PORT__\n");
    put("_shared/go/_services/_dockerignore", "bin\n");
    put("_shared/go/_services/util.go", "shared util __PROJECT_NAME__\n");
    put("_shared/go/_services/pkg/deep.go", "deep\n");
    put("_shared/go/validation-service/util.go", "validation's own util\n");
    put("_shared/go/execution-service/only.go", "exec only __SERVICE_PORT__\n");
    put("_shared/go/top.txt", "top __SERVICE_PORT__\n");
    put("_shared/go/_github/workflows/ci.yml", "avsctl@__AVSCTL_VERSION__\n");
    put("demo/template.json", '{"description": "a template for the rule test"}');
    put("demo/go/_services/pkg/deep.go", "deep from the template\n");
    put("demo/go/execution-service/Dockerfile", "FROM own\n");

    const result = await scaffoldProject({
      dir: freshDir(),
      name: "rule",
      template: "demo",
      language: "go",
      templatesDir: root,
    });
    expect(result.files).toEqual(treeOf(result.path));
    const written = Object.fromEntries(
      result.files.map((rel) => [rel, readFileSync(path.join(result.path, rel), "utf8")]),
    );
    // Later layers win over _services/ copies of earlier ones, and a layer's own file over its
    // _services/ one; outside a service folder there is no service to take a port from.
    const { version } = JSON.parse(
      readFileSync(path.resolve(import.meta.dirname, "../../../package.json"), "utf8"),
    );
    expect(written).toEqual({
      ".github/workflows/ci.yml": `avsctl@${version}\n`,
      "execution-service/.dockerignore": "bin\n",
      "execution-service/Dockerfile": "FROM own\n",
      "execution-service/only.go": "exec only 4003\n",
      "execution-service/pkg/deep.go": "deep from the template\n",
      "execution-service/util.go": "shared util rule\n",
      "top.txt": "top __SERVICE_PORT__\n",
      "validation-service/.dockerignore": "bin\n",
      "validation-service/Dockerfile": "FROM x\nEXPOSE 4002\n",
      "validation-service/pkg/deep.go": "deep from the template\n",
      "validation-service/util.go": "validation's own util\n",
    });
  });

  it("gives each real service its own port in the shared Dockerfile and the same shared sources", async () => {
    for (const language of LANGUAGES) {
      const { path: dir } = await scaffoldProject({ dir: freshDir(), name: "x", language });
      const read = (rel: string) => readFileSync(path.join(dir, rel), "utf8");
      expect(read("execution-service/Dockerfile"), language).toMatch(/^EXPOSE 4003$/m);
      expect(read("validation-service/Dockerfile"), language).toMatch(/^EXPOSE 4002$/m);
      const shared = {
        typescript: ["src/http.ts", "src/price.ts", "test/price-feed.ts", "tsconfig.json"],
        python: ["httputil.py", "price.py", "tests/price_feed.py", "pytest.ini"],
        go: ["httputil.go", "price.go", "pricefeed_test.go"],
      }[language];
      for (const file of [...shared, ".dockerignore"]) {
        expect(read(`validation-service/${file}`), `${language} ${file}`).toBe(
          read(`execution-service/${file}`),
        );
      }
    }
  });
});
