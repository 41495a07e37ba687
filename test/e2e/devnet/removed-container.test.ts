/**
 * A Docker devnet whose containers are removed outside avsctl (`docker rm -f`, a prune, a CI
 * runner's cleanup): `status` names them missing (exit 1), `logs <name>` says the container was
 * removed with its logs rather than that the devnet has no such component, and `restart <name>`
 * creates it again as `up` started it (same image, env, binds, host ports, labels, network), a
 * chain from its state volume. One devnet, brought up once.
 */
import { rmSync } from "node:fs";
import path from "node:path";
import type Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runPasted } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";
import {
  docker,
  downWithOwnValidation,
  type State,
  type TempProject,
  tempProject,
  upWithOwnValidation,
  type ValidationServer,
} from "./support.js";

describeDocker("devnet, Docker runtime: a container removed outside avsctl", () => {
  const p: TempProject = tempProject("e2e-gone");
  let state: State;
  /** A validation service of the user's on 127.0.0.1: the attesters reach it through a forwarder. */
  let validation: ValidationServer;
  let forwarder: string;
  const name = (component: string) => `avsctl-${p.devnet}-${component}`;
  const inspect = (component: string) => docker().getContainer(name(component)).inspect();
  const removeContainer = (component: string) =>
    docker().getContainer(name(component)).remove({ force: true });
  /** What `up` gave a container, beside what Docker assigns anew (id, creation time). */
  const shape = (i: Docker.ContainerInspectInfo) => ({
    image: i.Config.Image,
    cmd: i.Config.Cmd,
    env: [...(i.Config.Env ?? [])].sort(),
    labels: i.Config.Labels,
    binds: i.HostConfig.Binds,
    ports: i.HostConfig.PortBindings,
    networks: Object.keys(i.NetworkSettings.Networks),
    aliases: Object.values(i.NetworkSettings.Networks)
      .flatMap((n) => n.Aliases ?? [])
      // Docker adds the container's short id as an alias: a new container, a new id
      .filter((a) => !i.Id.startsWith(a)),
    restartPolicy: i.HostConfig.RestartPolicy?.Name,
  });

  beforeAll(async () => {
    ({ validation, state } = await upWithOwnValidation(p, "docker"));
    forwarder = `host-port-${validation.port}`;
  });

  afterAll(() => downWithOwnValidation(p, validation));

  let before: Record<string, ReturnType<typeof shape>>;

  it("status names a removed container missing (exit 1); logs says it was removed with its logs", async () => {
    before = {};
    for (const c of ["execution", "attester-1", "l2-1", forwarder]) before[c] = shape(await inspect(c));
    for (const c of ["execution", "attester-1", forwarder]) await removeContainer(c);

    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stderr).toBe(1);
    const body = status.json();
    expect(body.healthy).toBe(false);
    for (const c of ["execution", "attester-1", forwarder]) {
      expect(body.components).toContainEqual(
        expect.objectContaining({ name: c, state: "missing", healthy: false }),
      );
      expect(body.problems).toContain(`${c}: missing`);
    }

    for (const args of [["execution"], ["execution", "--since", "1h"]]) {
      const logs = await p.cli(["devnet", "logs", ...args]);
      expect(logs.code, logs.stderr).toBe(1);
      expect(logs.stderr).toContain("the execution container was removed: its logs went with it");
      expect(logs.stderr).not.toContain("not part of");
      expect(logs.stderr).toContain("`avsctl devnet restart execution` creates it again");
    }
  });

  it("restart, as the hint says, creates the container again as up started it, at the same URL", async () => {
    const r = await runPasted("avsctl devnet restart execution --json", { cwd: p.dir, timeoutMs: 120_000 });
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ name: "execution", state: "running", healthy: true });
    expect(shape(await inspect("execution"))).toEqual(before.execution);
    const health = await fetch(`${state.services.execution}/health`);
    expect(health.status).toBe(200);

    const attester = await p.cli(["devnet", "restart", "attester-1"]);
    expect(attester.code, attester.stderr).toBe(0);
    expect(attester.stderr).toContain("the attester-1 container was removed: creating it again");
    expect(shape(await inspect("attester-1"))).toEqual(before["attester-1"]);

    // the forwarder listens where the attesters were told the validation service is
    const forward = await p.cli(["devnet", "restart", forwarder, "--json"]);
    expect(forward.code, forward.stdout + forward.stderr).toBe(0);
    expect(shape(await inspect(forwarder))).toEqual(before[forwarder]);
  });

  it("a chain removed with its container comes back from its state volume: contracts there, same RPC URL", async () => {
    await removeContainer("l2-1");
    const r = await p.cli(["devnet", "restart", "l2-1", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.json()).toMatchObject({ name: "l2-1", healthy: true, problems: [] });
    expect(shape(await inspect("l2-1"))).toEqual(before["l2-1"]);
    const status = await p.cli(["devnet", "status", "--json"]);
    expect(status.code, status.stdout).toBe(0);
    expect(status.json().l2[0].rpcUrl).toBe(state.l2[0]!.rpcUrl);
    expect(status.json().taskDefinitions).toEqual(state.taskDefinitions);
  });

  it("without a record of how it was started, restart says so, and its hint (`devnet up`) brings it back", async () => {
    rmSync(path.join(p.dir, ".avsctl", "containers", "attester-2.json"));
    await removeContainer("attester-2");
    const r = await p.cli(["devnet", "restart", "attester-2", "--json"]);
    expect(r.code).toBe(1);
    const error = r.json().error;
    expect(error).toMatchObject({ code: "NOT_FOUND" });
    expect(error.message).toBe(
      "the attester-2 container was removed, and this devnet recorded nothing to create it again from",
    );
    expect(error.hint).toContain("starts the devnet again as it was started");
    const hinted = /`(avsctl [^`]+)`/.exec(error.hint)![1];
    // as it is: the devnet's own --validation-url comes from its state, not from the user
    const pasted = await runPasted(`${hinted} --json`, {
      cwd: p.dir,
      timeoutMs: 240_000,
    });
    expect(pasted.code, pasted.stdout + pasted.stderr).toBe(0);
    expect(pasted.json()).toMatchObject({ healthy: true });
    // the chains resumed from their saved state: the same deployment
    expect(pasted.json().l1.avsGovernance).toBe(state.l1.avsGovernance);
    expect(pasted.json().services.validation).toBe(validation.url);
    expect((await inspect("attester-2")).State.Running).toBe(true);
  });

  it("a chain removed with its state volume comes back empty, and restart says what it lost", async () => {
    await removeContainer("l1");
    await docker().getVolume(`avsctl-${p.devnet}-chain-l1`).remove();
    const r = await p.cli(["devnet", "restart", "l1", "--json"]);
    expect(r.code, r.stdout + r.stderr).toBe(1);
    expect(r.json()).toMatchObject({
      name: "l1",
      state: "running",
      healthy: false,
      problems: [`no AvsGovernance contract at ${state.l1.avsGovernance}`],
    });
    // as the docs say: `up` then deploys afresh
    const up = await p.cli(["devnet", "up", "--validation-url", validation.url, "--json"]);
    expect(up.code, up.stdout + up.stderr).toBe(0);
    expect(up.json().warnings).toContainEqual(
      expect.stringContaining("the saved chain state does not hold the recorded deployment"),
    );
  });
});
