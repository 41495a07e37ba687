/**
 * A project service image whose build does not trust a TLS certificate (what a TLS-intercepting
 * proxy does to pip, go and npm): one real build, a pip install against an HTTPS index of
 * test/fixtures/tls inside the build, which pip refuses as a proxy's certificate is refused.
 */
import { copyFileSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, expect, it } from "vitest";
import { renderWatchEvent } from "../../../src/cli/handlers/devnet-watch.js";
import { dockerClient } from "../../../src/devnet/docker-engine.js";
import { DockerLauncher } from "../../../src/devnet/launcher.js";
import type { DevnetPlan } from "../../../src/devnet/plan.js";
import { buildServiceImage, ServiceBuildFailed } from "../../../src/devnet/project-services.js";
import { ReloadFailure } from "../../../src/devnet/reload.js";
import { DockerRuntime } from "../../../src/devnet/runtime/docker.js";
import { repoRoot } from "../../helpers/cli.js";
import { describeDocker } from "../../helpers/docker.js";

describeDocker("a service image build that does not trust a TLS certificate", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "avsctl-build-ca-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("up's error and watch's failure show the build's last lines and name --ca-certs", {
    timeout: 120_000,
  }, async () => {
    const fixtures = path.join(repoRoot, "test/fixtures");
    copyFileSync(path.join(fixtures, "build-logs/pip-untrusted.Dockerfile"), path.join(dir, "Dockerfile"));
    for (const f of ["localhost.crt", "localhost.key"])
      copyFileSync(path.join(fixtures, "tls", f), path.join(dir, f));
    const docker = dockerClient();
    const runtime = new DockerRuntime({ project: "avsctl-test-build-ca", projectDir: dir, docker });
    const service = { kind: "project" as const, dir, port: 4002, dockerfile: "Dockerfile" };
    const error = await buildServiceImage(
      new DockerLauncher(runtime, ""),
      "validation",
      service,
      { projectDir: dir, project: "avsctl-test-build-ca" } as DevnetPlan,
      `avsctl-test/build-ca-${process.pid}:dev`,
    ).then(
      () => {
        throw new Error("the build should have failed");
      },
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceBuildFailed);
    const failed = error as ServiceBuildFailed;
    expect(failed.code).toBe("DEVNET_START_FAILED");
    expect(failed.details?.untrustedCertificate).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    expect(failed.details?.caCerts).toBeNull();
    expect(failed.hint).toMatch(/last lines of its build:\n.*CERTIFICATE_VERIFY_FAILED/s);
    expect(failed.hint).toMatch(/did not trust a TLS certificate.*--ca-certs <file>/);
    expect(failed.hint).not.toMatch(/fix the Dockerfile/);

    // `devnet watch` wraps the same failure: the build's lines and the hint, human and --json
    const reload = new ReloadFailure(
      `${failed.message}; the previous validation container still runs`,
      true,
      {
        cause: failed,
      },
    );
    expect(reload.logTail.join("\n")).toMatch(/CERTIFICATE_VERIFY_FAILED/);
    expect(reload.hint).toMatch(/--ca-certs <file>/);
    const event = {
      action: "failed" as const,
      service: "validation" as const,
      trigger: "validation-service/requirements.txt",
      ms: 3000,
      error: reload.message,
      previousKept: true,
      logTail: reload.logTail,
      hint: reload.hint,
    };
    const human = renderWatchEvent(event, false);
    expect(human).toMatch(/\n {2}.*CERTIFICATE_VERIFY_FAILED/);
    expect(human).toMatch(/\nvalidation: the build did not trust a TLS certificate.*--ca-certs <file>/);
    expect(JSON.parse(renderWatchEvent(event, true))).toMatchObject({
      logTail: reload.logTail,
      hint: reload.hint,
    });
  });
});
