import type { AvsctlConfig } from "../../config/schema.js";

export type ExportFormat = "compose" | "k8s";

/** Host ports of a topology exported from the config (a running devnet keeps its own). */
export const EXPORT_HOST_PORTS = {
  l1: 8545,
  /** L2 number i (from 1) gets 8545 + i. */
  l2: 8545,
  aggregator: 8645,
  aggregatorMetrics: 6060,
  /** Attester i (from 1) gets 6060 + i. */
  attesterMetrics: 6060,
  validation: 4002,
  execution: 4003,
  ipfs: 5001,
  engine: 8092,
} as const;

export interface Health {
  kind: "json-rpc" | "http";
  port: number;
  path?: string;
}

/** One long-running component (or the one-shot bootstrap job) of the exported topology. */
export interface TopologyComponent {
  name: string;
  role: "chain" | "bootstrap" | "aggregator" | "attester" | "validation" | "execution" | "service";
  image: string;
  /** The project's own service: built from its Dockerfile. */
  build?: { context: string; dockerfile: string; args?: Record<string, string> };
  /** Full argv; undefined keeps the image's own entrypoint and command. */
  command?: string[];
  env: Record<string, string>;
  /** Environment names whose values are keys (a Kubernetes Secret holds them). */
  secretEnv: string[];
  ports: Array<{ name: string; container: number; host: number }>;
  /** `nodeHealth`: the probe runs `node` inside the image (true for the devnet image only). */
  health?: Health & { nodeHealth: boolean };
  dependsOn: Array<{ name: string; condition: "healthy" | "started" | "completed" }>;
  oneShot?: boolean;
  /** Reaches a service on the host (`host.docker.internal`). */
  usesHost?: boolean;
  /** Data kept across restarts of the component: a named volume (Compose), an emptyDir (Kubernetes). */
  volumes?: Array<{ name: string; target: string }>;
}

export interface Topology {
  project: string;
  image: string;
  /** Whether this machine's engine has the image (set by the export, shown in the header). */
  imageStatus?: ExportImage;
  source: "state" | "plan";
  /** The first L2's AttestationCenter: present once the bootstrap job has run. */
  readyCheck: { rpcUrl: string; address: string };
  components: TopologyComponent[];
  notes: string[];
  /** Where the project's CA bundle comes from: the running devnet's, else devnet.caCerts. */
  caCerts?: { file: string; source: string };
}

export interface ExportOptions {
  config: AvsctlConfig;
  projectDir: string;
  format: string;
  /** Output file (relative to the current directory); undefined: only returned. */
  output?: string;
  cwd?: string;
  progress?: (step: string) => void;
  signal?: AbortSignal;
}

/**
 * The devnet image a Compose file runs, on this machine's engine: `built` or `cached` by the
 * export, `missing` when no engine answered (`reason` says why), `not-built` for Kubernetes,
 * whose cluster pulls it from a registry.
 */
export interface ExportImage {
  tag: string;
  status: "built" | "cached" | "missing" | "not-built";
  reason?: string;
}

export interface ExportResult {
  format: ExportFormat;
  path: string | null;
  content: string;
  image: ExportImage;
}

/** How containers reach the host (a service the user runs on this machine). */
export const HOST_ALIAS = "host.docker.internal";

/** The build argument (and the variable Compose reads it from) with extra CAs to trust while installing. */
export const EXTRA_CA_CERTS = "EXTRA_CA_CERTS";
