/**
 * `devnet down --all` stops every avsctl devnet on the machine, so it runs here in a PID namespace
 * of its own (`unshare`, as root: the CI runner) with no Docker engine: it can see, and stop, only
 * the processes the test started there. Another project's devnet is stood for by one labelled
 * process (the labels are what down --all finds) and that project's state and saved files.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../helpers/cli.js";

const root = mkdtempSync(path.join(tmpdir(), "avsctl-down-all-"));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const namespaces = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"]).status === 0;
// as root (the CI runner) there are PID namespaces; a developer's shell may not have them
const describeNamespaced = namespaces || process.env.CI === "true" ? describe : describe.skip;

describeNamespaced("devnet down --all, with another project's devnet running", () => {
  it("leaves the other project as its own down would: no state file, its saved files kept and listed", () => {
    const here = path.join(root, "here");
    const other = path.join(root, "other");
    for (const dir of [here, other]) mkdirSync(path.join(dir, ".avsctl", "chains"), { recursive: true });
    writeFileSync(
      path.join(other, ".avsctl", "devnet.json"),
      JSON.stringify({ name: "other", runtime: "process" }),
    );
    writeFileSync(path.join(other, ".avsctl", "chains", "l1.json"), "{}");
    writeFileSync(path.join(other, ".avsctl", "aggregator.db"), "");

    const manage = pathToFileURL(path.join(repoRoot, "dist", "devnet", "manage.js")).href;
    const script = `
      import { spawn } from "node:child_process";
      import { devnetDown } from ${JSON.stringify(manage)};
      const node = spawn("sleep", ["60"], {
        detached: true,
        stdio: "ignore",
        env: { ...process.env, AVSCTL_DEVNET_PROJECT: "other", AVSCTL_DEVNET_PROJECT_DIR: ${JSON.stringify(other)}, AVSCTL_DEVNET_COMPONENT: "aggregator" },
      });
      await new Promise((r) => setTimeout(r, 200));
      const removed = await devnetDown(${JSON.stringify(here)}, undefined, { all: true });
      // killed, it stays a zombie until this process reaps it: its exit event, not kill(pid, 0)
      const exited = node.exitCode !== null || node.signalCode !== null || await new Promise((r) => {
        node.once("exit", () => r(true));
        setTimeout(() => r(false), 5000).unref();
      });
      const alive = !exited;
      console.log(JSON.stringify({ removed, pid: node.pid, alive }));
    `;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      DOCKER_HOST: `unix://${path.join(root, "no-docker.sock")}`,
    };
    for (const name of Object.keys(env)) if (name.startsWith("AVSCTL_DEVNET_")) delete env[name];
    const r = spawnSync(
      "unshare",
      ["--pid", "--fork", "--mount-proc", process.execPath, "--input-type=module", "-e", script],
      { env, encoding: "utf8", timeout: 60_000 },
    );
    expect(r.status, r.stderr).toBe(0);
    const { removed, pid, alive } = JSON.parse(r.stdout.trim().split("\n").at(-1)!);
    expect(alive).toBe(false);
    expect(removed.processes).toContain(pid);
    expect(removed.kept).toEqual(
      expect.arrayContaining([
        path.join(other, ".avsctl", "chains"),
        path.join(other, ".avsctl", "aggregator.db"),
      ]),
    );
    // `status` there now says no devnet, as after a plain `down`, instead of an unhealthy one
    expect(existsSync(path.join(other, ".avsctl", "devnet.json"))).toBe(false);
    expect(existsSync(path.join(other, ".avsctl", "chains", "l1.json"))).toBe(true);
  });
});
