import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import YAML from "yaml";
import { withAnvil } from "../../helpers/anvil.js";
import { repoRoot } from "../../helpers/cli.js";
import { provider, tempProject } from "./support.js";

const version = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")).version as string;

describe("devnet export without a running devnet (from the config)", () => {
  const p = tempProject("e2e-export");
  writeFileSync(
    path.join(p.dir, "avsctl.config.json"),
    JSON.stringify({ name: p.name, devnet: { attesters: 2, l2Chains: 2 } }),
  );
  afterAll(() => p.remove());

  it("compose: parses and lists every component with the Othentic environment names", async () => {
    const r = await p.cli(["devnet", "export", "--format", "compose", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(Object.keys(out).sort()).toEqual(["content", "format", "path"]);
    expect(out).toMatchObject({ format: "compose", path: null });
    const doc = YAML.parse(out.content);
    expect(Object.keys(doc.services).sort()).toEqual(
      [
        "aggregator",
        "attester-1",
        "attester-2",
        "bootstrap",
        "execution",
        "l1",
        "l2-1",
        "l2-2",
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
      "l1",
      "l2-1",
      "l2-2",
      "validation",
    ];
    expect(names("Deployment")).toEqual(components.sort());
    expect(names("Service")).toEqual(components.sort());
    expect(names("Job")).toEqual(["bootstrap"]);
    expect(names("Secret")).toHaveLength(1);
    // No private key in plain text outside the Secret.
    const outsideSecret = YAML.stringify(docs.filter((d) => d.kind !== "Secret"));
    expect(outsideSecret).not.toMatch(/0x[0-9a-f]{64}/);
  });

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
      expect(v.build).toMatchObject({ context: "validation-service", dockerfile: "Dockerfile" });
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
