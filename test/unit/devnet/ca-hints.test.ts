import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import type { CommandContext } from "../../../src/cli/context.js";
import { withCaCertsRerun } from "../../../src/cli/handlers/devnet.js";
import { defaultConfig } from "../../../src/config/schema.js";
import { certificatesHash, completeBundle } from "../../../src/devnet/ca-certs.js";
import { renderCompose } from "../../../src/devnet/export/render.js";
import type { Topology } from "../../../src/devnet/export/types.js";
import { planDevnet, planDifferences } from "../../../src/devnet/plan.js";
import { readServiceCa } from "../../../src/devnet/service-ca.js";
import type { DevnetState } from "../../../src/devnet/state.js";
import { AvsctlError } from "../../../src/errors.js";
import { repoRoot } from "../../helpers/cli.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "avsctl-unit-ca-hints-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const PROXY_CA = readFileSync(path.join(repoRoot, "test/fixtures/tls/localhost.crt"), "utf8").trim();

describe("devnet up with another CA bundle than the running devnet's", () => {
  const dir = path.join(tmp, "project");
  mkdirSync(path.join(dir, "validation-service"), { recursive: true });
  const config = defaultConfig();
  config.services.validation = { dir: "validation-service" };
  const one = path.join(tmp, "one.pem");
  const other = path.join(tmp, "other.pem");
  writeFileSync(one, `${rootCertificates[0]}\n`);
  writeFileSync(other, `${rootCertificates[0]}\n${PROXY_CA}\n`);
  const running = (caCerts?: object) =>
    ({
      runtime: "docker",
      l1: { chainId: 31337 },
      l2: [{ chainId: 31338 }],
      attesters: [{}, {}, {}],
      services: { validation: "http://127.0.0.1:4002", execution: "http://127.0.0.1:4003" },
      serviceRuntimes: { validation: "docker", execution: "docker" },
      internal: { plan: { blockTime: 0, services: { validation: "project", execution: "sample" }, caCerts } },
    }) as unknown as DevnetState;
  const diff = (state: DevnetState, file: string) => {
    const flags = { caCerts: file };
    const plan = planDevnet(config, dir, flags);
    plan.ca = readServiceCa({ file, source: "--ca-certs" });
    return planDifferences(plan, state, flags);
  };

  it("is a difference when its certificates differ from those the state records, not when they match", () => {
    const recorded = { file: one, source: "--ca-certs", sha256: certificatesHash([]) };
    expect(diff(running(recorded), one)).toEqual([]);
    expect(diff(running(recorded), other)).toEqual([
      {
        flag: "--ca-certs",
        running: `${one} (certificates sha256 ${certificatesHash([])})`,
        asked: `${other} (certificates sha256 ${certificatesHash([PROXY_CA])})`,
      },
    ]);
  });

  it("compares with the bundle the containers mount when the state records none (an older avsctl)", () => {
    mkdirSync(path.join(dir, ".avsctl"), { recursive: true });
    writeFileSync(
      path.join(dir, ".avsctl", "ca-certificates.pem"),
      completeBundle(rootCertificates, [PROXY_CA]),
    );
    expect(diff(running(), other)).toEqual([]);
    expect(diff(running(), one)).toMatchObject([{ flag: "--ca-certs", asked: expect.stringContaining(one) }]);
  });
});

describe("a service build that did not trust a TLS certificate, with no CA bundle given", () => {
  const failure = () =>
    new AvsctlError("DEVNET_START_FAILED", "the validation service's image could not be built", {
      hint: "last lines of its build:\n  ...\nthe build did not trust a TLS certificate",
      details: { untrustedCertificate: "[SSL: CERTIFICATE_VERIFY_FAILED]", caCerts: null },
    });
  const ctx = (env: NodeJS.ProcessEnv) => ({ cwd: process.cwd(), env }) as unknown as CommandContext;

  it("ends its hint with the same up plus --ca-certs, naming the bundle pip is set to trust", () => {
    const pipCert = path.join(tmp, "pip bundle.pem");
    writeFileSync(pipCert, `${PROXY_CA}\n`);
    const error = withCaCertsRerun(
      ctx({ PIP_CERT: pipCert }),
      { runtime: "docker", attesters: 2, servicesRuntime: "docker", watch: true },
      failure(),
    ) as AvsctlError;
    expect(error.hint).toMatch(
      new RegExp(
        `\nwith the bundle PIP_CERT names \\(if it holds the proxy's CA\\): avsctl devnet up --runtime docker --attesters 2 --services-runtime docker --watch --ca-certs '${pipCert.replace(/[.]/g, "\\.")}'$`,
      ),
    );
    expect(error.details).toMatchObject({ caCerts: null });
  });

  it("else names a file to save the proxy's CA in; a bundle given already gets no such line", () => {
    const error = withCaCertsRerun(ctx({}), { runtime: "docker" }, failure()) as AvsctlError;
    expect(error.hint).toMatch(
      /\nwith the proxy's CA certificate saved as proxy-ca\.pem \(PEM\): avsctl devnet up --runtime docker --ca-certs proxy-ca\.pem$/,
    );
    const given = failure();
    (given.details as Record<string, unknown>).caCerts = "/etc/ca.pem";
    expect(withCaCertsRerun(ctx({}), {}, given)).toBe(given);
  });
});

describe("devnet export --format compose header", () => {
  const topology = (source: "state" | "plan", caCerts?: { file: string; source: string }): Topology => ({
    project: "my-avs",
    image: "avsctl/devnet:x",
    imageStatus: { tag: "avsctl/devnet:x", status: "cached" },
    source,
    readyCheck: { rpcUrl: "http://l2-1:8545", address: "0x" },
    components: [
      {
        name: "validation",
        role: "service",
        image: "avsctl/my-avs-validation:dev",
        build: { context: "./validation-service", dockerfile: "Dockerfile" },
        env: {},
        ports: [],
        dependsOn: [],
      } as unknown as Topology["components"][number],
    ],
    notes: [],
    ...(caCerts ? { caCerts } : {}),
  });
  const header = (t: Topology) =>
    renderCompose(t)
      .split("\n")
      .filter((l) => l.startsWith("#"))
      .join("\n");

  it("from a running devnet, says to stop it first: the file takes its host ports", () => {
    expect(header(topology("state"))).toMatch(
      /`avsctl devnet down` first, or the run fails with "port is already allocated"/,
    );
    expect(header(topology("plan"))).not.toMatch(/devnet down/);
  });

  it("says proxy-ca.pem stands for the proxy's CA, and names the bundle the project uses", () => {
    expect(header(topology("plan"))).toMatch(
      /proxy-ca\.pem standing for a PEM file of the proxy's CA certificate\(s\) alone\n/,
    );
    expect(header(topology("state", { file: "/home/me/pip.pem", source: "--ca-certs" }))).toMatch(
      /this project's come from \/home\/me\/pip\.pem, --ca-certs/,
    );
  });
});
