/**
 * The web app `avsctl devnet ui` serves is built by `npm run build` (vite, ui/) into dist/ui:
 * an index.html whose every asset is relative (the CLI serves it from any path) and present, and
 * nothing loaded from another host (the page works with no network).
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../../helpers/cli.js";

const dist = path.join(repoRoot, "dist", "ui");
const index = path.join(dist, "index.html");

describe("the dashboard web app build (dist/ui)", () => {
  it("has an index.html (run `npm run build`)", () => {
    expect(existsSync(index), `${index} is missing: run npm run build`).toBe(true);
  });

  it("references only relative assets, each of them built", () => {
    const html = readFileSync(index, "utf8");
    const refs = [...html.matchAll(/\s(?:src|href)="([^"]*)"/g)].map((m) => m[1]!);
    expect(refs.filter((r) => r.endsWith(".js")).length).toBeGreaterThan(0);
    for (const ref of refs) {
      if (ref.startsWith("data:")) continue;
      expect(ref, ref).toMatch(/^\.\//);
      expect(existsSync(path.join(dist, ref)), ref).toBe(true);
    }
  });

  it("loads nothing from another host: no absolute URL in the page, its styles or its scripts", () => {
    expect(readFileSync(index, "utf8")).not.toMatch(/(?:https?:)?\/\/[a-z0-9.-]+\.[a-z]{2,}\//i);
    const assets = readdirSync(path.join(dist, "assets"));
    for (const file of assets.filter((f) => f.endsWith(".css"))) {
      const css = readFileSync(path.join(dist, "assets", file), "utf8");
      expect(css, file).not.toMatch(/@import|url\(\s*["']?(?:https?:)?\/\//i);
    }
    for (const file of assets.filter((f) => f.endsWith(".js"))) {
      const js = readFileSync(path.join(dist, "assets", file), "utf8");
      // the SVG namespace is a name, not a fetch; any other absolute URL would be
      const urls = [...js.matchAll(/https?:\/\/[^\s"'`)]+/g)].map((m) => m[0]);
      expect(
        urls.filter((u) => u !== "http://www.w3.org/2000/svg"),
        file,
      ).toEqual([]);
    }
  });
});
