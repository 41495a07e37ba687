import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { withAnvil } from "../../helpers/anvil.js";
import { repoRoot } from "../../helpers/cli.js";
import { provider, tempProject } from "./support.js";

const version = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;

// The Kubernetes schemas come with PyPI's kubernetes-validate; .ci/run installs it and exports
// KUBERNETES_VALIDATE, a developer may have it on PATH or in the venv .ci/run uses.
const kubernetesValidate = [
  process.env.KUBERNETES_VALIDATE,
  path.join(os.homedir(), ".cache", "avsctl-kv", "bin", "kubernetes-validate"),
  "kubernetes-validate",
].find((c) => c && spawnSync(c, ["--version"], { encoding: "utf8" }).status === 0);
if (!kubernetesValidate && process.env.CI) {
  throw new Error("devnet export: kubernetes-validate is missing, and CI must not skip the schema check");
}
if (!kubernetesValidate)
  console.warn("SKIPPING the Kubernetes schema check of devnet export: no kubernetes-validate (CI runs it)");

describe("devnet export without a running devnet (from the config)", () => {
  const p = tempProject("e2e-export");
  writeFileSync(
    path.join(p.dir, "avsctl.config.json"),
    JSON.stringify({ name: p.name, devnet: { attesters: 2, l2Chains: 2, engine: true } }),
  );
  afterAll(() => p.remove());

  it("compose: parses and lists every component with the Othentic environment names", async () => {
    const r = await p.cli(["devnet", "export", "--format", "compose", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(["content", "format", "image", "path"]);
    expect(out).toMatchObject({ format: "compose", path: null });
    // Built (or found) on this machine's engine; without one the file says the image is missing.
    expect(["built", "cached", "missing"]).toContain(out.image.status);
    // and the file's header says which
    const imageLine = out.content.split("\n").find((l: string) => l.startsWith(`# image ${out.image.tag}:`));
    expect(imageLine).toMatch(
      {
        built: /built on this machine by this export/,
        cached: /on this machine already/,
        missing: /NOT on this machine/,
      }[out.image.status as "built" | "cached" | "missing"],
    );
    const doc = YAML.parse(out.content);
    expect(Object.keys(doc.services).sort()).toEqual(
      [
        "aggregator",
        "attester-1",
        "attester-2",
        "bootstrap",
        "execution",
        "ipfs",
        "l1",
        "l2-1",
        "l2-2",
        "task-engine",
        "validation",
      ].sort(),
    );
    for (const s of Object.values<any>(doc.services)) {
      expect(s.image).toMatch(new RegExp(`^avsctl/devnet:${version.replaceAll(".", "\\.")}-[0-9a-f]{6}$`));
      for (const port of s.ports ?? []) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
    const hostPorts = Object.values<any>(doc.services).flatMap((s) =>
      (s.ports ?? []).map((x: string) => x.split(":")[1]),
    );
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    const agg = doc.services.aggregator.environment;
    for (const name of [
      "L1_RPC",
      "L2_RPC",
      "L1_CHAIN",
      "L2_CHAIN",
      "AVS_GOVERNANCE_ADDRESS",
      "ATTESTATION_CENTER_ADDRESS",
      "PRIVATE_KEY",
    ])
      expect(agg[name], name).toEqual(expect.any(String));
    expect(agg.L2_RPC).toBe("31338@http://l2-1:8545,31339@http://l2-2:8545");
    expect(agg.ATTESTATION_CENTER_ADDRESS).toMatch(/^31338@0x[0-9a-fA-F]{40},31339@0x[0-9a-fA-F]{40}$/);
    const att = doc.services["attester-1"];
    expect(att.environment.OTHENTIC_CLIENT_RPC_ADDRESS).toBe("http://aggregator:8545");
    expect(att.command).toEqual(
      expect.arrayContaining(["attester", "--avs-webapi", "http://validation:4002"]),
    );
    expect(att.depends_on.aggregator.condition).toBe("service_healthy");
    expect(doc.services.aggregator.depends_on.bootstrap.condition).toBe("service_completed_successfully");
    const exec = doc.services.execution.environment;
    for (const name of ["PRIVATE_KEY_PERFORMER", "PERFORMER_ADDRESS", "OTHENTIC_CLIENT_RPC_ADDRESS"])
      expect(exec[name], name).toEqual(expect.any(String));
    expect(doc.services["l2-2"].command).toEqual(expect.arrayContaining(["--chain-id", "31339"]));
    // The devnet's IPFS node, its blocks in a named volume, and the services pointed at it.
    const ipfs = doc.services.ipfs;
    expect(ipfs.command).toEqual(expect.arrayContaining(["devnet", "service", "ipfs", "--port", "5001"]));
    expect(ipfs.volumes).toEqual([`ipfs:${ipfs.environment.AVSCTL_IPFS_DIR}`]);
    expect(doc.volumes).toEqual({ ipfs: {}, engine: {} });
    expect(ipfs.healthcheck).toBeDefined();
    for (const name of ["validation", "execution"]) {
      expect(doc.services[name].environment, name).toMatchObject({
        IPFS_API_URL: "http://ipfs:5001/api/v0",
        PINATA_API_URL: "http://ipfs:5001",
        PINATA_GATEWAY: "http://ipfs:5001/ipfs/",
      });
      expect(doc.services[name].depends_on.ipfs.condition).toBe("service_healthy");
    }
    // The task engine: the performer of workflow executions, which attesters ask to validate them.
    const engine = doc.services["task-engine"];
    expect(engine.command).toEqual(
      expect.arrayContaining(["devnet", "service", "task-engine", "--port", "8092"]),
    );
    expect(engine.environment).toMatchObject({
      OTHENTIC_CLIENT_RPC_ADDRESS: "http://aggregator:8545",
      PRIVATE_KEY_PERFORMER: expect.any(String),
      TASK_DEFINITION_ID: "2",
      AVSCTL_ENGINE_CHAIN_ID: "31338",
      PINATA_GATEWAY: "http://ipfs:5001/ipfs/",
      L2_RPC: agg.L2_RPC,
    });
    expect(engine.volumes).toEqual([
      `engine:${engine.environment.AVSCTL_ENGINE_STORE.replace(/\/[^/]+$/, "")}`,
    ]);
    expect(att.command).toEqual(expect.arrayContaining(["--avs-webapi-for", "2=http://task-engine:8092"]));
    expect(att.depends_on["task-engine"].condition).toBe("service_healthy");
    // the bootstrap job creates the engine's definition after the config's
    expect(doc.services.bootstrap.environment.AVSCTL_ENGINE).toBe("1");
  });

  it("compose: no task engine unless asked for or a workflow project (a workflow.json at the root)", async () => {
    const plain = tempProject("e2e-export-noengine");
    try {
      const r = await plain.cli(["devnet", "export", "--format", "compose", "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const doc = YAML.parse(JSON.parse(r.stdout).content);
      expect(doc.services["task-engine"]).toBeUndefined();
      expect(doc.volumes).toEqual({ ipfs: {} });
      expect(doc.services.bootstrap.environment.AVSCTL_ENGINE).toBeUndefined();
      const att = doc.services["attester-1"];
      expect(att.command).not.toContain("--avs-webapi-for");
      expect(att.depends_on["task-engine"]).toBeUndefined();

      writeFileSync(path.join(plain.dir, "workflow.json"), "{}");
      const wf = await plain.cli(["devnet", "export", "--format", "compose", "--json"]);
      expect(wf.code, wf.stderr).toBe(0);
      const wfDoc = YAML.parse(JSON.parse(wf.stdout).content);
      expect(wfDoc.services["task-engine"]).toBeDefined();
      expect(wfDoc.services["attester-1"].command).toEqual(
        expect.arrayContaining(["--avs-webapi-for", "2=http://task-engine:8092"]),
      );
    } finally {
      plain.remove();
    }
  });

  it("k8s: one multi-document YAML with a Deployment and a Service per component, the keys in a Secret", async () => {
    // A relative -o is relative to the current directory.
    const r = await p.cli(["devnet", "export", "--format", "k8s", "-o", "devnet.k8s.yaml", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(p.dir, "devnet.k8s.yaml");
    expect(JSON.parse(r.stdout)).toMatchObject({ format: "k8s", path: file });
    expect(JSON.parse(r.stdout).content).toBe(readFileSync(file, "utf8"));
    const docs = YAML.parseAllDocuments(readFileSync(file, "utf8")).map((d) => d.toJS());
    const names = (kind: string) =>
      docs
        .filter((d) => d.kind === kind)
        .map((d) => d.metadata.name)
        .sort();
    const components = [
      "aggregator",
      "attester-1",
      "attester-2",
      "execution",
      "ipfs",
      "l1",
      "l2-1",
      "l2-2",
      "task-engine",
      "validation",
    ];
    expect(names("Deployment")).toEqual(components.sort());
    expect(names("Service")).toEqual(components.sort());
    expect(names("Job")).toEqual(["bootstrap"]);
    expect(names("Secret")).toHaveLength(1);
    // No private key in plain text outside the Secret.
    const outsideSecret = YAML.stringify(docs.filter((d) => d.kind !== "Secret"));
    expect(outsideSecret).not.toMatch(/0x[0-9a-f]{64}/);
    const ipfs = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "ipfs").spec.template.spec;
    expect(ipfs.volumes).toEqual([{ name: "ipfs", emptyDir: {} }]);
    expect(ipfs.containers[0].volumeMounts).toEqual([{ name: "ipfs", mountPath: "/data/ipfs" }]);
    const execution = docs.find((d) => d.kind === "Deployment" && d.metadata.name === "execution");
    expect(execution.spec.template.spec.containers[0].env).toEqual(
      expect.arrayContaining([{ name: "IPFS_API_URL", value: "http://ipfs:5001/api/v0" }]),
    );
  });

  it.skipIf(!kubernetesValidate)(
    "k8s: every manifest validates against the Kubernetes schemas, strictly",
    async () => {
      const r = await p.cli(["devnet", "export", "--format", "k8s", "-o", "strict.k8s.yaml", "--json"]);
      expect(r.code, r.stderr).toBe(0);
      // --strict rejects fields the schemas do not know (a typo Kubernetes would drop silently).
      const v = spawnSync(kubernetesValidate!, ["--strict", "--quiet", path.join(p.dir, "strict.k8s.yaml")], {
        encoding: "utf8",
        timeout: 120_000,
      });
      expect(v.status, v.stdout + v.stderr).toBe(0);
    },
  );

  it("compose: the project's own service is built from its Dockerfile and fed by the devnet's price feed", async () => {
    const q = tempProject("e2e-export-svc");
    try {
      mkdirSync(path.join(q.dir, "validation-service"));
      writeFileSync(path.join(q.dir, "validation-service", "Dockerfile"), "FROM scratch\n");
      writeFileSync(path.join(q.dir, "validation-service", "package.json"), "{}\n");
      writeFileSync(
        path.join(q.dir, "avsctl.config.json"),
        JSON.stringify({ name: q.name, services: { validation: { dir: "validation-service", port: 4100 } } }),
      );
      const r = await q.cli(["devnet", "export", "-o", "compose.yaml", "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const doc = YAML.parse(readFileSync(path.join(q.dir, "compose.yaml"), "utf8"));
      const v = doc.services.validation;
      // The Dockerfile names its base image; only the proxy CA is passed through, from Compose's environment.
      expect(v.build).toEqual({
        context: "validation-service",
        dockerfile: "Dockerfile",
        args: { EXTRA_CA_CERTS: `\${EXTRA_CA_CERTS:-}` },
      });
      expect(v.healthcheck.test.slice(0, 3)).toEqual(["CMD", "node", "-e"]);
      expect(doc.services["attester-1"].depends_on.validation.condition).toBe("service_healthy");
      expect(v.image).toBe(`avsctl/${q.name}-validation:dev`);
      expect(v.ports).toEqual(["127.0.0.1:4002:4100"]);
      expect(v.environment).toMatchObject({ PORT: "4100", PRICE_SOURCE_URL: "http://price-feed:4010/price" });
      expect(doc.services["price-feed"]).toBeDefined();
      expect(doc.services["attester-1"].command).toContain("http://validation:4100");
    } finally {
      q.remove();
    }
  });

  it("an unknown format exits 2", async () => {
    const r = await p.cli(["devnet", "export", "--format", "helm", "--json"]);
    expect(r.code).toBe(2);
    expect(JSON.parse(r.stdout).error.code).toBe("INVALID_ARGUMENT");
  });

  it("the bootstrap job turns fresh chains into the addresses the exported nodes expect, once", async () => {
    const single = tempProject("e2e-export-boot");
    try {
      const r = await single.cli(["devnet", "export", "--json"]);
      expect(r.code, r.stderr).toBe(0);
      const env = YAML.parse(JSON.parse(r.stdout).content).services.bootstrap.environment;
      await withAnvil({ chainId: 31337 }, (l1) =>
        withAnvil({ chainId: 31338 }, async (l2) => {
          const jobEnv = { ...env, L1_RPC: l1.rpcUrl, L2_RPC: `31338@${l2.rpcUrl}` };
          const first = await single.cli(["devnet", "bootstrap", "--attesters", "3", "--json"], jobEnv);
          expect(first.code, first.stdout + first.stderr).toBe(0);
          const done = JSON.parse(first.stdout);
          expect(done.alreadyDone).toBe(false);
          expect(done.avsGovernance).toBe(env.AVS_GOVERNANCE_ADDRESS);
          expect(`31338@${done.attestationCenters[0]}`).toBe(env.ATTESTATION_CENTER_ADDRESS);
          expect(done.taskDefinitions).toEqual([{ taskDefinitionId: 1, name: "default" }]);
          const ac = env.ATTESTATION_CENTER_ADDRESS.split("@")[1];
          const l2p = provider(l2.rpcUrl);
          try {
            expect((await l2p.getCode(ac)).length).toBeGreaterThan(2);
          } finally {
            l2p.destroy();
          }
          const again = await single.cli(["devnet", "bootstrap", "--attesters", "3", "--json"], jobEnv);
          expect(again.code).toBe(0);
          expect(JSON.parse(again.stdout).alreadyDone).toBe(true);
        }),
      );
    } finally {
      single.remove();
    }
  });
});
