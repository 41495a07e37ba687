/**
 * The workflow commands on a process devnet, as `avsctl init --template workflow` users meet
 * them: on a devnet started without its engine, the NO_DEVNET hint is the `up --fresh` that
 * keeps the running devnet's settings (runtime, attesters, no services) and adds the engine,
 * which works when pasted; on that engine a workflow naming an L2 it does not attest on is
 * refused with a hint that names the fix, not `workflow validate` (which passes the file); the
 * engine's store and its -wal and -shm, which hold secret values, are the owner's alone.
 */

import { statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runPasted } from "../../helpers/cli.js";
import { type TempProject, tempProject } from "../devnet/support.js";

describe("workflow commands on a process devnet", () => {
  let p: TempProject;

  beforeAll(async () => {
    p = tempProject("e2e-wf-hints");
    const up = await p.cli([
      "devnet",
      "up",
      "--runtime",
      "process",
      "--no-engine",
      "--no-services",
      "--attesters",
      "2",
      "--json",
    ]);
    if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
  }, 240_000);

  afterAll(async () => {
    const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
    if (r.code !== 0) console.error(`devnet down failed:\n${r.stdout}\n${r.stderr}`);
    p.remove();
  }, 120_000);

  it("without an engine, exit 4 and a hint that keeps the devnet's settings and adds the engine", async () => {
    const r = await p.cli(["workflow", "list", "--json"]);
    expect(r.code).toBe(4);
    const error = r.json().error;
    expect(error.code).toBe("NO_DEVNET");
    const fresh = /`(avsctl devnet up --fresh[^`]*)`/.exec(error.hint)?.[1];
    expect(fresh).toBe("avsctl devnet up --fresh --runtime process --attesters 2 --no-services --engine");
    const pasted = await runPasted(`${fresh} --json`, { cwd: p.dir, timeoutMs: 240_000 });
    expect(pasted.code, pasted.stdout + pasted.stderr).toBe(0);
    const state = pasted.json();
    expect(state.runtime).toBe("process");
    expect(state.attesters).toHaveLength(2);
    expect(state.engine.url).toMatch(/^http:/);
    expect((await p.cli(["workflow", "list", "--json"])).code).toBe(0);
  }, 300_000);

  it("a trigger.config.chainId of no L2 of the engine is refused with the fix, not workflow validate", async () => {
    const file = path.join(p.dir, "chain999.json");
    const flow = {
      name: "chain999",
      trigger: { id: "t", name: "trig", type: "manual", config: { chainId: 999 } },
      nodes: [{ id: "c", name: "c", type: "customCode", config: { lang: "javascript", source: "return 1" } }],
      edges: [{ id: "e1", source: "t", target: "c" }],
    };
    writeFileSync(file, JSON.stringify(flow));
    expect((await p.cli(["workflow", "validate", file, "--json"])).code).toBe(0);
    const r = await p.cli(["workflow", "create", file, "--json"]);
    expect(r.code).toBe(2);
    const error = r.json().error;
    expect(error.code).toBe("WORKFLOW_INVALID");
    expect(error.details.errors[0].path).toBe("trigger.config.chainId");
    expect(error.hint).toBe(
      "set trigger.config.chainId to one of this engine's L2s (named above), or leave it out for its first",
    );
    expect(error.message).toMatch(/chain 999 is none of this engine's L2s \(\d+/);
  });

  it("the engine's store and its -wal and -shm are mode 0600 once a secret is set", async () => {
    expect((await p.cli(["secret", "set", "apiKey", "--value", "v-3f9a", "--json"])).code).toBe(0);
    const store = path.join(p.dir, ".avsctl", "engine.sqlite");
    for (const f of [store, `${store}-wal`, `${store}-shm`]) {
      expect((statSync(f).mode & 0o777).toString(8), f).toBe("600");
    }
  });
});
