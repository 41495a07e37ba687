import { execFile } from "node:child_process";
import { createWriteStream } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isIgnored, parseDockerignore, prepareContext } from "../../../src/devnet/runtime/context.js";
import {
  findFreePort,
  findFreePorts,
  isPortFree,
  releasePort,
  reservePort,
} from "../../../src/devnet/runtime/ports.js";
import { tarStream } from "../../../src/devnet/runtime/tar.js";
import { codeOf, errorOf } from "./fixtures.js";

const execFileAsync = promisify(execFile);

describe("build contexts, tar and ports", () => {
  let dir: string;
  const longPath = `deep/${"a".repeat(60)}/${"b".repeat(60)}/file-with-a-long-name.txt`;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "avsctl-ctx-"));
    const files: Record<string, string> = {
      Dockerfile: "FROM scratch\n",
      ".dockerignore": "node_modules\n.env\nlogs\n!logs/keep.log\n**/*.tmp\n# comment\n",
      "src/index.js": "console.log('hi')\n",
      "src/cache/x.tmp": "temp",
      "node_modules/dep/index.js": "module.exports = 1\n",
      ".env": "SECRET=1\n",
      "logs/keep.log": "keep\n",
      "logs/drop.log": "drop\n",
      [longPath]: "long\n",
    };
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), content);
    }
    await chmod(path.join(dir, "src/index.js"), 0o755);
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("applies .dockerignore like Docker (parents, negation, **)", () => {
    const rules = parseDockerignore("node_modules\n/build/\n*.log\n!important.log\n**/*.tmp\nsecret?.txt\n");
    expect(isIgnored("node_modules/a/b.js", rules)).toBe(true);
    expect(isIgnored("build/out.js", rules)).toBe(true);
    expect(isIgnored("app.log", rules)).toBe(true);
    expect(isIgnored("important.log", rules)).toBe(false);
    expect(isIgnored("a/b/c.tmp", rules)).toBe(true);
    expect(isIgnored("c.tmp", rules)).toBe(true);
    expect(isIgnored("secret1.txt", rules)).toBe(true);
    expect(isIgnored("src/app.log", rules)).toBe(false);
    expect(isIgnored("src/index.js", rules)).toBe(false);
  });

  it("collects a directory minus ignored files, hashes it, and writes a tar GNU tar reads back", async () => {
    const context = await prepareContext({ dir });
    const paths = context.entries.map((entry) => entry.path);
    expect(paths).toContain("Dockerfile");
    expect(paths).toContain("src/index.js");
    expect(paths).toContain("logs/keep.log");
    expect(paths).toContain(longPath);
    for (const gone of [
      "node_modules",
      "node_modules/dep/index.js",
      ".env",
      "logs/drop.log",
      "src/cache/x.tmp",
    ]) {
      expect(paths).not.toContain(gone);
    }
    expect(context.entries.find((entry) => entry.path === "src/index.js")?.mode).toBe(0o755);

    const archive = path.join(dir, "..", `${path.basename(dir)}.tar`);
    const out = path.join(dir, "..", `${path.basename(dir)}-out`);
    try {
      await pipeline(tarStream(context.entries), createWriteStream(archive));
      await mkdir(out);
      await execFileAsync("tar", ["-xf", archive, "-C", out]);
      expect(await readFile(path.join(out, longPath), "utf8")).toBe("long\n");
      expect(await readFile(path.join(out, "src/index.js"), "utf8")).toBe("console.log('hi')\n");
      const { stdout } = await execFileAsync("tar", ["-tvf", archive]);
      expect(stdout).toMatch(/-rwxr-xr-x .* src\/index\.js/);
    } finally {
      await rm(archive, { force: true });
      await rm(out, { recursive: true, force: true });
    }
  });

  it("keeps the hash stable for the same inputs and changes it for content, mode or extra inputs", async () => {
    const first = await prepareContext({ dir });
    expect((await prepareContext({ dir })).hash).toBe(first.hash);
    expect((await prepareContext({ dir }, "BASE_IMAGE=other")).hash).not.toBe(first.hash);
    await writeFile(path.join(dir, "src/index.js"), "console.log('changed')\n");
    const changed = await prepareContext({ dir });
    expect(changed.hash).not.toBe(first.hash);
    await chmod(path.join(dir, "src/index.js"), 0o644);
    expect((await prepareContext({ dir })).hash).not.toBe(changed.hash);
    // Ignored files do not matter.
    await writeFile(path.join(dir, "logs/drop.log"), "other\n");
    const again = await prepareContext({ dir });
    await writeFile(path.join(dir, "logs/drop.log"), "different again\n");
    expect((await prepareContext({ dir })).hash).toBe(again.hash);
  });

  it("builds contexts from individual files with their parents", async () => {
    const context = await prepareContext({
      files: [
        { path: "bin/tool", content: "#!/bin/sh\n", mode: 0o755 },
        { path: "tmp", dir: true, mode: 0o1777 },
      ],
    });
    expect(context.entries.map((entry) => [entry.path, entry.type, entry.mode])).toEqual([
      ["bin", "dir", 0o755],
      ["bin/tool", "file", 0o755],
      ["tmp", "dir", 0o1777],
    ]);
    expect(await codeOf(prepareContext({ files: [{ path: "../escape", content: "x" }] }))).toBe(
      "INVALID_ARGUMENT",
    );
  });

  it("hands out distinct free ports and refuses a busy one", async () => {
    const ports = await findFreePorts(20);
    expect(new Set(ports).size).toBe(20);
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    const port = (busy.address() as net.AddressInfo).port;
    try {
      expect(await isPortFree(port)).toBe(false);
      const error = await errorOf(reservePort(port));
      expect(error.code).toBe("PORT_IN_USE");
      expect(error.details.port).toBe(port);
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
    const free = await findFreePort();
    expect(await isPortFree(free)).toBe(false); // reserved for this run
    releasePort(free);
    for (const p of ports) releasePort(p);
  });
});
