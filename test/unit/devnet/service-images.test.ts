import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { defaultConfig } from "../../../src/config/schema.js";
import { planDevnet, planDifferences } from "../../../src/devnet/plan.js";
import { dockerfileBaseImages } from "../../../src/devnet/project-services.js";
import { BuildProgress } from "../../../src/devnet/runtime/images.js";
import type { DevnetState } from "../../../src/devnet/state.js";

describe("dockerfileBaseImages", () => {
  it("lists the images a Dockerfile builds on, not its own stages nor ARG-named ones", () => {
    const dockerfile = [
      "ARG TOOLCHAIN=golang:1.26-bookworm",
      "FROM golang:1.26-bookworm AS build",
      "FROM --platform=$BUILDPLATFORM $TOOLCHAIN as tools",
      "from build AS test",
      "FROM debian:bookworm-slim",
    ].join("\n");
    expect(dockerfileBaseImages(dockerfile)).toEqual(["golang:1.26-bookworm", "debian:bookworm-slim"]);
  });
});

describe("BuildProgress", () => {
  it("follows the classic builder's output: the current step, and the images its own steps committed", () => {
    const progress = new BuildProgress();
    const output = [
      "Step 1/5 : FROM node:24-slim",
      " ---> bac885c24b22",
      "Step 2/5 : WORKDIR /app",
      " ---> Using cache",
      " ---> 8d68e830f8ca",
      "Step 3/5 : RUN echo one   &&    echo two",
      " ---> Running in 330c057dde20",
      "Removing intermediate container 330c057dde20",
      " ---> fb94d8f0fb33",
      "Step 4/5 : RUN npm ci",
      " ---> Running in e67b586a13de",
      "npm ERR! network",
      "The command '/bin/sh -c npm ci' returned a non-zero code: 1",
    ];
    for (const line of output) progress.see(line);
    expect(progress.step).toBe("RUN npm ci");
    // not the base image (FROM), nor a cached one: only what this build made
    expect(progress.created).toEqual(["fb94d8f0fb33"]);
    expect(progress.stageEnds).toEqual([]);
  });

  it("knows the image each earlier stage of a multi-stage build ended with", () => {
    const progress = new BuildProgress();
    const output = [
      "Step 1/6 : FROM golang:1.26-bookworm AS build",
      " ---> 848ce99aefaf",
      "Step 2/6 : RUN go mod download",
      " ---> Using cache",
      " ---> 1111aaaa2222",
      "Step 3/6 : RUN go build -o /out/service .",
      " ---> Running in 0123456789ab",
      " ---> 3333bbbb4444",
      "Step 4/6 : FROM debian:bookworm-slim",
      " ---> 71386f8ab4cf",
      "Step 5/6 : COPY --from=build /out/service /usr/local/bin/service",
      " ---> 5555cccc6666",
      "Successfully built 5555cccc6666",
    ];
    for (const line of output) progress.see(line);
    expect(progress.stageEnds).toEqual(["3333bbbb4444"]);
    expect(progress.created).toEqual(["3333bbbb4444", "5555cccc6666"]);
  });
});

describe("--services-runtime", () => {
  it("docker is refused for a devnet of processes, naming the flag or the config key", () => {
    expect(() =>
      planDevnet(defaultConfig(), "/tmp/p", { runtime: "process", servicesRuntime: "docker" }),
    ).toThrow(/^--services-runtime: /);
    const config = defaultConfig();
    config.devnet.runtime = "process";
    config.devnet.servicesRuntime = "docker";
    expect(() => planDevnet(config, "/tmp/p", {})).toThrow(/^devnet\.servicesRuntime: /);
    expect(planDevnet(config, "/tmp/p", { runtime: "docker" }).servicesRuntime).toBe("docker");
  });
});

describe("planDifferences", () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "avsctl-unit-services-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("names --services-runtime when the project's services run elsewhere than asked", () => {
    for (const kind of ["execution", "validation"]) mkdirSync(path.join(dir, `${kind}-service`));
    const config = defaultConfig();
    config.services = { execution: { dir: "execution-service" }, validation: { dir: "validation-service" } };
    const running = {
      runtime: "docker",
      l1: { chainId: 31337 },
      l2: [{ chainId: 31338 }],
      attesters: [{}, {}, {}],
      services: { execution: "http://127.0.0.1:4003", validation: "http://127.0.0.1:4002" },
      serviceRuntimes: { execution: "docker", validation: "docker" },
      internal: { plan: { services: { execution: "project", validation: "project" } } },
    } as unknown as DevnetState;
    const diff = (flags: { servicesRuntime?: "docker" | "process" }) =>
      planDifferences(planDevnet(config, dir, flags), running, flags);
    expect(diff({})).toEqual([]);
    expect(diff({ servicesRuntime: "docker" })).toEqual([]);
    expect(diff({ servicesRuntime: "process" })).toEqual([
      {
        flag: "--services-runtime",
        running: "execution docker, validation docker",
        asked: "execution process, validation process",
      },
    ]);
  });
});
