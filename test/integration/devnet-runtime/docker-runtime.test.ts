import http from "node:http";
import type { AddressInfo } from "node:net";
import type Docker from "dockerode";
import { afterAll, beforeAll, expect, it } from "vitest";
import { dockerClient } from "../../../src/devnet/docker-engine.js";
import { DockerRuntime, listProjectResources, removeProject } from "../../../src/devnet/runtime/docker.js";
import { type BuiltImage, buildImage, resolveBaseImage } from "../../../src/devnet/runtime/images.js";
import { LABEL_COMPONENT, LABEL_MANAGED, LABEL_PROJECT } from "../../../src/devnet/runtime/labels.js";
import type { DockerComponentSpec } from "../../../src/devnet/runtime/types.js";
import { describeDocker } from "../../helpers/docker.js";
import { codeOf, DOCKERFILE, errorOf, httpGet, SERVER_JS, uniqueSuffix } from "./fixtures.js";

describeDocker("Docker runtime (real engine)", () => {
  const suffix = uniqueSuffix();
  const projectA = `rt-a-${suffix}`;
  const projectB = `rt-b-${suffix}`;
  const testImage = `avsctl-test/echo-server:${suffix}`;
  let docker: Docker;
  let a: DockerRuntime;
  let b: DockerRuntime;
  let built: BuiltImage;
  let baseImage: string;
  let hostServer: http.Server | undefined;

  const server = (name: string, extra: Partial<DockerComponentSpec> = {}): DockerComponentSpec => ({
    name,
    image: testImage,
    env: { NAME: `${extra.env?.NAME ?? name}` },
    ports: [8080],
    wait: [
      { kind: "log", pattern: "^listening on 8080", timeoutMs: 30_000 },
      { kind: "http", port: 8080, path: "/health", timeoutMs: 30_000 },
    ],
    ...extra,
  });

  beforeAll(async () => {
    docker = dockerClient();
    const base = await resolveBaseImage(docker);
    baseImage = base.image;
    built = await buildImage(docker, {
      tag: testImage,
      kind: "test",
      files: [
        { path: "Dockerfile", content: DOCKERFILE },
        { path: "server.js", content: SERVER_JS },
      ],
      buildArgs: { BASE_IMAGE: base.image },
    });
    a = new DockerRuntime({ project: projectA, helperImage: base.image });
    b = new DockerRuntime({ project: projectB, helperImage: base.image });
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => (hostServer ? hostServer.close(() => resolve()) : resolve()));
    if (!docker) return;
    await removeProject(docker, projectA);
    await removeProject(docker, projectB);
    for (const tag of [testImage, `${testImage}-changed`]) {
      await docker
        .getImage(tag)
        .remove({ force: true })
        .catch(() => undefined);
    }
  });

  it("builds the base image and the test image, and skips an unchanged rebuild", async () => {
    expect(baseImage).toMatch(/node/);
    const base = await docker.getImage(baseImage).inspect();
    expect(base.Id).toMatch(/^sha256:/);
    expect(built.cached).toBe(false);
    const again = await buildImage(docker, {
      tag: testImage,
      kind: "test",
      files: [
        { path: "Dockerfile", content: DOCKERFILE },
        { path: "server.js", content: SERVER_JS },
      ],
      buildArgs: { BASE_IMAGE: baseImage },
    });
    expect(again.cached).toBe(true);
    expect(again.id).toBe(built.id);
    const changed = await buildImage(docker, {
      tag: `${testImage}-changed`,
      files: [
        { path: "Dockerfile", content: DOCKERFILE },
        { path: "server.js", content: `${SERVER_JS}\n// changed\n` },
      ],
      buildArgs: { BASE_IMAGE: baseImage },
    });
    expect(changed.cached).toBe(false);
    expect(changed.contentHash).not.toBe(again.contentHash);
  });

  it("reports a failing build with its log tail", async () => {
    const error = await errorOf(
      buildImage(docker, {
        tag: `avsctl-test/broken:${suffix}`,
        files: [{ path: "Dockerfile", content: `FROM ${baseImage}\nRUN echo about-to-fail && exit 7\n` }],
      }),
    );
    expect(error.code).toBe("DEVNET_START_FAILED");
    expect(error.details.buildLog.join("\n")).toMatch(/about-to-fail/);
  });

  it("runs two projects side by side, each on its own network with its own aliases", async () => {
    const [apiA, clientA, apiB, clientB] = await Promise.all([
      a.start(server("api", { env: { NAME: "a-api" } })),
      a.start(server("client", { aliases: ["peer"] })),
      b.start(server("api", { env: { NAME: "b-api" } })),
      b.start(server("client")),
    ]);
    const ports = [apiA, clientA, apiB, clientB].map((c) => c.hostPort(8080));
    expect(new Set(ports).size).toBe(4);
    expect(apiA.url(8080)).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);

    expect((await httpGet(apiA.url(8080, "/whoami"))).body).toBe("a-api");
    expect((await httpGet(apiB.url(8080, "/whoami"))).body).toBe("b-api");
    // Container to container by component name: each project sees only its own `api`.
    const fromA = await httpGet(
      clientA.url(8080, `/fetch?url=${encodeURIComponent("http://api:8080/whoami")}`),
    );
    expect(fromA.body).toBe("a-api");
    const fromB = await httpGet(
      clientB.url(8080, `/fetch?url=${encodeURIComponent("http://api:8080/whoami")}`),
    );
    expect(fromB.body).toBe("b-api");
    // Extra alias.
    const viaAlias = await httpGet(
      apiA.url(8080, `/fetch?url=${encodeURIComponent("http://peer:8080/whoami")}`),
    );
    expect(viaAlias.body).toBe("client");

    const container = await docker.getContainer(apiA.id).inspect();
    expect(container.Name).toBe(`/avsctl-${projectA}-api`);
    expect(container.Config.Labels[LABEL_PROJECT]).toBe(projectA);
    expect(container.Config.Labels[LABEL_COMPONENT]).toBe("api");
    expect(container.Config.Labels[LABEL_MANAGED]).toBe("true");
    const binding = container.HostConfig.PortBindings?.["8080/tcp"]?.[0];
    expect(binding?.HostIp).toBe("127.0.0.1");
    // its output is held to two files of the process runtime's cap, whatever the daemon's default
    expect(container.HostConfig.LogConfig).toEqual({
      Type: "json-file",
      Config: { "max-size": "32m", "max-file": "2" },
    });
  });

  it("waits on JSON-RPC and TCP too", async () => {
    const rpc = await a.start(
      server("rpc", {
        wait: [
          { kind: "tcp", port: 8080, timeoutMs: 30_000 },
          { kind: "json-rpc", port: 8080, method: "eth_chainId", requireResult: true, timeoutMs: 30_000 },
        ],
      }),
    );
    const health = await a.health("rpc");
    expect(health.healthy).toBe(true);
    await rpc.remove();
    expect((await a.inspect("rpc")).state).toBe("missing");
  });

  it("shows logs, follows them, and restarts in place on the same port", async () => {
    const before = await a.inspect("api");
    await httpGet(`http://127.0.0.1:${before.ports["8080"]}/whoami`);
    const lines: string[] = [];
    for await (const line of a.logs("api", { tail: 50 })) lines.push(line);
    expect(lines).toContain("GET /whoami");
    expect(lines.some((line) => line.startsWith("listening on 8080"))).toBe(true);

    const controller = new AbortController();
    const seen: string[] = [];
    const follower = (async () => {
      for await (const line of a.logs("api", { follow: true, tail: 0, signal: controller.signal })) {
        seen.push(line);
        if (line === "GET /followed") controller.abort();
      }
    })();
    // Bounded: at most 50 requests until the follower sees one.
    for (let i = 0; i < 50 && !controller.signal.aborted; i++) {
      await httpGet(`http://127.0.0.1:${before.ports["8080"]}/followed`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    controller.abort();
    await follower;
    expect(seen).toContain("GET /followed");

    const restarted = await a.restart("api");
    expect(restarted.ports).toEqual(before.ports);
    expect(restarted.startedAt).not.toBe(before.startedAt);
    expect((await httpGet(restarted.url(8080, "/whoami"))).body).toBe("a-api");
    expect((await a.health("api")).healthy).toBe(true);
  });

  it("treats stopping or removing twice as success, and reports a stopped component as unhealthy", async () => {
    await a.start(server("victim"));
    await a.stop("victim");
    await a.stop("victim");
    const health = await a.health("victim");
    expect(health.running).toBe(false);
    expect(health.healthy).toBe(false);
    expect(health.problems.join()).toMatch(/exited/);
    await a.remove("victim");
    await a.remove("victim");
    expect((await a.inspect("victim")).state).toBe("missing");
    expect(await codeOf(a.restart("victim"))).toBe("NOT_FOUND");
  });

  it("removes what it created when a start fails", async () => {
    const crash = await errorOf(
      a.start(
        server("crash", { command: ["node", "-e", "console.log('boom before ready'); process.exit(3)"] }),
      ),
    );
    expect(crash.code).toBe("DEVNET_START_FAILED");
    expect(crash.details.logTail).toContain("boom before ready");
    expect((await a.inspect("crash")).state).toBe("missing");

    const silent = await errorOf(
      a.start(server("silent", { wait: [{ kind: "log", pattern: "never printed", timeoutMs: 1_500 }] })),
    );
    expect(silent.code).toBe("TIMEOUT");
    expect((await a.inspect("silent")).state).toBe("missing");

    expect(await codeOf(a.start({ name: "noimage", image: `avsctl-test/does-not-exist:${suffix}` }))).toBe(
      "DEVNET_START_FAILED",
    );
    expect((await a.inspect("noimage")).state).toBe("missing");
  });

  it("never touches a container that only looks like one of ours", async () => {
    const foreign = await docker.createContainer({ name: `avsctl-${projectA}-foreign`, Image: testImage });
    try {
      expect(await codeOf(a.start(server("foreign")))).toBe("DEVNET_START_FAILED");
      expect(await codeOf(a.remove("foreign"))).toBe("DEVNET_START_FAILED");
      expect((await foreign.inspect()).Id).toBe(foreign.id);
      expect((await listProjectResources(docker, projectA)).containers.map((c) => c.component)).not.toContain(
        "foreign",
      );
    } finally {
      await foreign.remove({ force: true });
    }
  });

  it("lets containers reach a host service that listens on 127.0.0.1 only", async () => {
    hostServer = http.createServer((_req, res) => res.end("from-the-host"));
    await new Promise<void>((resolve) => hostServer!.listen(0, "127.0.0.1", resolve));
    const hostPort = (hostServer.address() as AddressInfo).port;
    const url = await a.containerUrl(`http://127.0.0.1:${hostPort}/anything`);
    expect(url).toMatch(/^http:\/\/host\.docker\.internal:\d+\/anything$/);
    // Idempotent: the same forwarder is reused.
    expect(await a.containerUrl(`http://localhost:${hostPort}/anything`)).toBe(url);
    const client = await a.inspect("client");
    const answer = await httpGet(
      `http://127.0.0.1:${client.ports["8080"]}/fetch?url=${encodeURIComponent(url)}`,
    );
    expect(answer.body).toBe("from-the-host");
  });

  it("removeProject keeping the volumes stops each container first: what it saves on SIGTERM is kept", async () => {
    // As a plain `devnet down` does: anvil writes its chain state on SIGTERM, which a forced
    // removal (SIGKILL) would not let it do.
    const project = `rt-keep-${suffix}`;
    const c = new DockerRuntime({ project, helperImage: baseImage });
    const data = [{ name: "data", target: "/data" }];
    try {
      await c.start(server("keeper", { env: { NAME: "keeper", BYE_FILE: "/data/bye" }, volumes: data }));
      const removed = await c.removeProject({ keepVolumes: true });
      expect(removed.containers).toEqual([`avsctl-${project}-keeper`]);
      expect(removed.volumes).toEqual([]);
      const reader = await c.start(server("reader", { volumes: data }));
      expect(await httpGet(reader.url(8080, "/file?path=/data/bye"))).toEqual({ status: 200, body: "bye" });
    } finally {
      await c.removeProject();
    }
    expect(await listProjectResources(docker, project)).toEqual({
      containers: [],
      networks: [],
      volumes: [],
    });
  });

  it("removeProject removes one project completely and leaves the other alone", async () => {
    const beforeA = await listProjectResources(docker, projectA);
    expect(beforeA.containers.length).toBeGreaterThanOrEqual(3);
    expect(beforeA.networks.map((n) => n.name)).toEqual([`avsctl-${projectA}`]);

    const removed = await a.removeProject();
    expect(removed.containers).toContain(`avsctl-${projectA}-api`);
    expect(removed.networks).toEqual([`avsctl-${projectA}`]);

    const afterA = await listProjectResources(docker, projectA);
    expect(afterA).toEqual({ containers: [], networks: [], volumes: [] });
    const byName = await docker.listContainers({ all: true, filters: { name: [`avsctl-${projectA}-`] } });
    expect(byName).toEqual([]);
    // Removing again is a no-op success.
    expect((await a.removeProject()).containers).toEqual([]);

    const stillB = await listProjectResources(docker, projectB);
    expect(stillB.containers.map((c) => c.component).sort()).toEqual(["api", "client"]);
    expect((await b.health("api")).healthy).toBe(true);
  });
});
