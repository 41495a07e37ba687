/**
 * `devnet up --operator-keys <dir>` (process runtime, built CLI): the attesters run with
 * operators' own keys as `keys import` stored them (one BLS key from devkit's published devnet
 * keystore, one given raw), are registered on L2 with those BLS public keys, and approve a task
 * whose aggregated signature the AttestationCenter verifies on-chain against them.
 * The devkit keystore fixture's origin is in test/integration/keys/import-export.test.ts.
 */

import { readFileSync } from "node:fs";
import path from "node:path";
import { Contract, Wallet } from "ethers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { repoRoot, runPasted } from "../../helpers/cli.js";
import type { LooseContract } from "../../helpers/contract.js";
import { until } from "../../helpers/until.js";
import {
  provider,
  type State,
  sendOthenticTask,
  startValidationServer,
  stopSupervision,
  type TempProject,
  tempProject,
  type ValidationServer,
  waitForVerdict,
} from "./support.js";

const DEVKIT_FIXTURE = path.join(repoRoot, "test/fixtures/devkit-operator1.keystore.json");
// devkit's devnet password; one password opens every keystore of the directory
const PASSWORD = "testpass";
const OBLS_ABI = ["function getOperatorBlsKey(uint256) view returns (uint256[4])"];

describe("devnet up --operator-keys (process runtime)", () => {
  let p: TempProject;
  let validation: ValidationServer;
  let state: State;
  const imported: Array<{ address: string; blsPublicKeyG2: string[] }> = [];
  const env = { AVSCTL_KEYSTORE_PASSWORD: PASSWORD };

  beforeAll(async () => {
    p = tempProject("e2e-opkeys");
    validation = await startValidationServer();
    const fromDevkit = await p.cli(
      [
        "keys",
        "import",
        "devkit-op",
        "--dir",
        "operators",
        "--bls-keystore",
        DEVKIT_FIXTURE,
        "--private-key",
        Wallet.createRandom().privateKey,
        "--insecure",
        "--json",
      ],
      env,
    );
    expect(fromDevkit.code, fromDevkit.stderr).toBe(0);
    imported.push(fromDevkit.json());
    const raw = await runWithInput(p, [
      "keys",
      "import",
      "raw-op",
      "--dir",
      "operators",
      "--key-stdin",
      "--insecure",
      "--json",
    ]);
    imported.push(raw);

    const up = await p.cli(
      [
        "devnet",
        "up",
        "--runtime",
        "process",
        "--operator-keys",
        "operators",
        "--validation-url",
        validation.url,
        "--json",
      ],
      env,
      300_000,
    );
    if (up.code !== 0) throw new Error(`devnet up failed (${up.code}):\n${up.stdout}\n${up.stderr}`);
    state = up.json();
  }, 400_000);

  afterAll(async () => {
    if (p) {
      const r = await p.cli(["devnet", "down", "--volumes", "--json"], undefined, 60_000);
      if (r.code !== 0) console.error(`devnet down of ${p.name} failed:\n${r.stdout}\n${r.stderr}`);
      p.remove();
    }
    await validation?.stop();
  });

  it("a missing or wrong password names AVSCTL_KEYSTORE_PASSWORD, the one way up takes it", async () => {
    const up = ["devnet", "up", "--runtime", "process", "--operator-keys", "operators", "--json"];
    const none = await p.cli(up, { AVSCTL_KEYSTORE_PASSWORD: undefined });
    expect(none.code).toBe(2);
    expect(none.json().error).toMatchObject({
      code: "MISSING_ARGUMENT",
      hint: "set AVSCTL_KEYSTORE_PASSWORD to the keystores' password",
      details: { argument: "AVSCTL_KEYSTORE_PASSWORD" },
    });
    const wrong = await p.cli(up, { AVSCTL_KEYSTORE_PASSWORD: `${PASSWORD}-not` });
    expect(wrong.code).toBe(2);
    expect(wrong.json().error).toMatchObject({
      code: "WRONG_PASSWORD",
      details: { argument: "AVSCTL_KEYSTORE_PASSWORD" },
    });
  });

  it("runs one attester per operator, registered with the operator's own BLS key", async () => {
    expect(state.attesters.map((a) => a.address).sort()).toEqual(imported.map((k) => k.address).sort());
    const l2 = provider(state.l2[0]!.rpcUrl);
    try {
      const obls = new Contract(state.l2[0]!.obls, OBLS_ABI, l2) as LooseContract;
      for (const a of state.attesters) {
        const key = imported.find((k) => k.address === a.address)!;
        const onChain = (await obls.getOperatorBlsKey(a.operatorId)) as bigint[];
        expect(onChain.map((w) => `0x${w.toString(16).padStart(64, "0")}`)).toEqual(key.blsPublicKeyG2);
      }
    } finally {
      l2.destroy();
    }
  });

  it("approves a task with the operators' signatures, verified on-chain", async () => {
    const proof = `opkeys-${Date.now()}`;
    const sent = await sendOthenticTask(state.aggregator.rpcUrl, state.performer.privateKey, proof);
    expect(sent.sendTask.error).toBeUndefined();
    const verdict = await waitForVerdict(state, proof, 90_000);
    expect(verdict.event).toBe("TaskSubmitted");
    // 2/3 of the voting power needs both attesters here
    expect(verdict.attestersIds.sort()).toEqual(state.attesters.map((a) => a.operatorId).sort());
  });

  it("`up` without the flag leaves the devnet as it is and says the keys differ", async () => {
    const again = await p.cli(["devnet", "up", "--json"], env);
    expect(again.code, again.stderr).toBe(0);
    const warnings = again.json().warnings as string[];
    expect(warnings.some((w) => w.startsWith("--operator-keys:"))).toBe(true);
  });

  it("stopped, `up` without the flag refuses to start over its chains; the flag it names resumes them", async () => {
    const down = await p.cli(["devnet", "down", "--json"], env, 60_000);
    expect(down.code, down.stderr).toBe(0);
    const flags = `--runtime process --validation-url ${validation.url}`;
    const plain = await runPasted(`avsctl devnet up ${flags} --json`, { cwd: p.dir, env });
    expect(plain.code, plain.stdout + plain.stderr).toBe(2);
    const error = plain.json().error;
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(
      /^--operator-keys: the saved devnet's attesters run with the operator keys of /,
    );
    const named = /`(--operator-keys [^`]+)`/.exec(error.hint)?.[1];
    expect(named, error.hint).toBeDefined();
    const resumed = await runPasted(`avsctl devnet up ${flags} ${named} --json`, {
      cwd: p.dir,
      env,
      timeoutMs: 300_000,
    });
    expect(resumed.code, resumed.stdout + resumed.stderr).toBe(0);
    const again: State = resumed.json();
    expect(again.l2[0]!.attestationCenter).toBe(state.l2[0]!.attestationCenter);
    expect(again.attesters.map((a) => a.address)).toEqual(state.attesters.map((a) => a.address));
    state = again;
  }, 400_000);

  it("unhealthy, a plain `up` starts it again with its operator keys and validation URL", async () => {
    const pid = (component: string): number =>
      JSON.parse(readFileSync(path.join(p.dir, ".avsctl", "run", `${component}.json`), "utf8")).pid;
    await stopSupervision(p);
    process.kill(pid("attester-1"), "SIGKILL");
    const aggregator = pid("aggregator");
    const unhealthy = async () => (await p.cli(["devnet", "status", "--json"])).code === 1;
    await until(unhealthy, "attester-1 down");

    // the keys need their password: without it nothing is touched, and the variable is named
    const none = await p.cli(["devnet", "up", "--json"], { AVSCTL_KEYSTORE_PASSWORD: undefined });
    expect(none.code, none.stdout + none.stderr).toBe(2);
    expect(none.json().error).toMatchObject({
      code: "MISSING_ARGUMENT",
      details: { argument: "AVSCTL_KEYSTORE_PASSWORD" },
    });
    expect(none.json().error.hint).toContain("set AVSCTL_KEYSTORE_PASSWORD");
    expect(pid("aggregator")).toBe(aggregator);
    expect(await unhealthy()).toBe(true);

    const up = await p.cli(["devnet", "up", "--json"], env, 300_000);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    const repaired = up.json();
    expect(repaired.repaired.problems.join("\n")).toContain("attester-1");
    expect(repaired.warnings.some((w: string) => w.includes("not applied"))).toBe(false);
    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stdout).toBe(0);
    const s: State = status.json();
    expect(s.attesters.map((a) => a.address)).toEqual(state.attesters.map((a) => a.address));
    expect(s.l2[0]!.attestationCenter).toBe(state.l2[0]!.attestationCenter);
    expect(s.services.validation).toBe(validation.url);
  }, 400_000);
});

/** `avsctl` in the project with stdin: a fresh ECDSA key, then a BLS secret in decimal. */
async function runWithInput(p: TempProject, args: string[]) {
  const { runCli } = await import("../../helpers/cli.js");
  const input = `${Wallet.createRandom().privateKey}\n987654321987654321987654321\n`;
  const r = await runCli(args, { cwd: p.dir, input, env: { AVSCTL_KEYSTORE_PASSWORD: PASSWORD } });
  expect(r.code, r.stderr).toBe(0);
  return r.json();
}
