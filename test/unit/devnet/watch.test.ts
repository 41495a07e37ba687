import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { renderWatchEvent } from "../../../src/cli/handlers/devnet-watch.js";
import { ignoredChange, outsideBuildContext } from "../../../src/devnet/watch.js";

describe("devnet watch", () => {
  it("ignores dependencies, caches, build outputs and editors' swap files", () => {
    for (const file of [
      "node_modules/x/index.js",
      ".venv/lib/site.py",
      "src/__pycache__/a.pyc",
      ".git/index",
      "dist/main.js",
      "target/debug/x",
      "src/.validate.ts.swp",
      "src/validate.ts~",
      "node_modules",
    ])
      expect(ignoredChange(file), file).toBe(true);
    for (const file of ["src/validate.ts", "main.go", "server.py", "Dockerfile", "package.json"])
      expect(ignoredChange(file), file).toBe(false);
  });

  it("in Docker, a file the service's .dockerignore leaves out of the image does not count", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "avsctl-watch-"));
    try {
      const service = { dir, dockerfile: "Dockerfile" };
      expect(outsideBuildContext(service, "validate.py")).toBe(false); // no .dockerignore: all counts
      // as the Python and Go templates write it
      writeFileSync(
        path.join(dir, ".dockerignore"),
        "*_test.go\n.env\ntests\nvalidation-service\nDockerfile\n",
      );
      for (const file of [
        "tests/test_validation.py",
        "tests",
        "validation_test.go",
        ".env",
        "validation-service",
      ])
        expect(outsideBuildContext(service, file), file).toBe(true);
      for (const file of [
        "validate.py",
        "validate.go",
        "go.mod",
        "requirements.txt",
        "Dockerfile",
        ".dockerignore",
      ])
        expect(outsideBuildContext(service, file), file).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("prints one JSON object per line under --json, a sentence otherwise", () => {
    const event = {
      action: "restarted",
      service: "validation",
      trigger: "validation-service/src/validate.ts",
      ms: 1200,
    } as const;
    expect(JSON.parse(renderWatchEvent(event, true))).toEqual(event);
    expect(renderWatchEvent(event, false)).toBe(
      "validation: restarted in 1.2 s (validation-service/src/validate.ts)\n",
    );
    const failed = renderWatchEvent(
      { action: "failed", service: "execution", trigger: "x", ms: 10, error: "boom", previousKept: true },
      false,
    );
    expect(failed).toContain("the previous version still runs; still watching");
  });
});
