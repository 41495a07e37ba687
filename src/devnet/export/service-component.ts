import { existsSync } from "node:fs";
import path from "node:path";
import { PORTS } from "../launcher.js";
import type { DevnetPlan, ServicePlan } from "../plan.js";
import { EXTRA_CA_CERTS, type Health, type TopologyComponent } from "./types.js";

/** `avsctl <args>` in the devnet image. */
export const avsctl = (...args: string[]) => ["node", "/app/bin/avsctl.js", ...args];

/** A probe run with the devnet image's `node`. */
export function devnetHealth(kind: Health["kind"], port: number, p?: string) {
  return { kind, port, path: p, nodeHealth: true };
}

/** Where a service component goes: the topology so far (a price feed is added once) and its host port. */
interface ServiceContext {
  plan: DevnetPlan;
  outputDir: string;
  image: string;
  components: TopologyComponent[];
  host: number;
}

/** The devnet's sample service, or the project's own built from its Dockerfile; none for the user's URL. */
export function serviceComponent(
  ctx: ServiceContext,
  kind: "validation" | "execution",
  s: ServicePlan,
  env: Record<string, string>,
  secretEnv: string[],
): TopologyComponent | undefined {
  if (s.kind === "external") return undefined;
  const { plan, outputDir, image, components, host } = ctx;
  if (s.kind === "sample") {
    const port = kind === "validation" ? PORTS.validation : PORTS.execution;
    return {
      name: kind,
      role: kind,
      image,
      command: avsctl("devnet", "service", `sample-${kind}`, "--port", String(port), "--host", "0.0.0.0"),
      env,
      secretEnv,
      ports: [{ name: "http", container: port, host }],
      health: devnetHealth("http", port, "/health"),
      dependsOn: [{ name: "ipfs", condition: "healthy" }],
    };
  }
  // The project's own code, as `up` runs it in Docker: built from its Dockerfile, fed
  // prices by the devnet's deterministic feed.
  if (!components.some((c) => c.name === "price-feed")) {
    components.push({
      name: "price-feed",
      role: "service",
      image,
      command: avsctl("devnet", "service", "price-feed", "--port", String(PORTS.feed), "--host", "0.0.0.0"),
      env: {},
      secretEnv: [],
      ports: [{ name: "http", container: PORTS.feed, host: PORTS.feed }],
      health: devnetHealth("http", PORTS.feed, "/health"),
      dependsOn: [],
    });
  }
  const isNode = existsSync(path.join(s.dir, "package.json"));
  return {
    name: kind,
    role: kind,
    image: `avsctl/${plan.project}-${kind}:dev`,
    build: {
      context: path.relative(outputDir, s.dir) || ".",
      dockerfile: s.dockerfile,
      // The generated Dockerfiles name their base images themselves. Behind a TLS-intercepting
      // proxy the dependency install needs the proxy's CA: Compose fills this in from the
      // environment it runs in (unset: empty, the Dockerfile's default).
      args: { [EXTRA_CA_CERTS]: `\${${EXTRA_CA_CERTS}:-}` },
    },
    env: {
      HOST: "0.0.0.0",
      PRICE_SOURCE_URL: `http://price-feed:${PORTS.feed}/price`,
      ...env,
      PORT: String(s.port),
      [`${kind.toUpperCase()}_PORT`]: String(s.port),
    },
    secretEnv,
    ports: [{ name: "http", container: s.port, host }],
    // `up` waits on the same /health; a Node service's image has `node` to probe it with.
    health: { kind: "http", port: s.port, path: "/health", nodeHealth: isNode },
    dependsOn: [
      { name: "price-feed", condition: "healthy" },
      { name: "ipfs", condition: "healthy" },
    ],
  };
}
