import YAML from "yaml";
import {
  EXTRA_CA_CERTS,
  type ExportFormat,
  type Health,
  HOST_ALIAS,
  type Topology,
  type TopologyComponent,
} from "./types.js";

const SECRET_NAMES = ["PRIVATE_KEY", "PRIVATE_KEY_PERFORMER", "AVSCTL_RELAYER_KEY", "AVSCTL_DEVNET_MNEMONIC"];

const RPC_PROBE = (port: number) =>
  `fetch("http://127.0.0.1:${port}",{method:"POST",headers:{"content-type":"application/json"},` +
  `body:'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}'}).then((r)=>r.json())` +
  `.then((j)=>process.exit(j.result?0:1),()=>process.exit(1))`;
const HTTP_PROBE = (port: number, p = "/") =>
  `fetch("http://127.0.0.1:${port}${p}").then((r)=>process.exit(r.ok?0:1),()=>process.exit(1))`;

function probeScript(h: Health): string {
  return h.kind === "json-rpc" ? RPC_PROBE(h.port) : HTTP_PROBE(h.port, h.path);
}

/** Polls eth_getCode until the bootstrap job's AttestationCenter exists (bounded: 10 minutes). */
function waitForContractsScript(rpcUrl: string, address: string): string {
  return (
    `const body=JSON.stringify({jsonrpc:"2.0",id:1,method:"eth_getCode",params:["${address}","latest"]});` +
    `(async()=>{for(let i=0;i<300;i++){try{const r=await fetch("${rpcUrl}",{method:"POST",` +
    `headers:{"content-type":"application/json"},body});const j=await r.json();` +
    `if(j.result&&j.result!=="0x")process.exit(0)}catch{}await new Promise((s)=>setTimeout(s,2000))}` +
    `console.error("contracts not deployed after 10 minutes");process.exit(1)})()`
  );
}

function header(t: Topology, format: ExportFormat): string[] {
  const lines = [
    `avsctl devnet "${t.project}" exported for ${format === "compose" ? "Docker Compose" : "Kubernetes"} (from the ${t.source === "state" ? "running devnet" : "config"})`,
    format === "k8s"
      ? `image ${t.image}: built by \`avsctl devnet up --runtime docker\`; push it (and any service image) where the cluster can pull it`
      : t.imageStatus?.status === "missing"
        ? `image ${t.image}: NOT on this machine (${t.imageStatus.reason}); rerun this export (or \`avsctl devnet up --runtime docker\`) where Docker runs, it builds the image`
        : t.imageStatus?.status === "cached"
          ? `image ${t.image}: on this machine already (built by \`avsctl devnet up --runtime docker\` or an earlier export)`
          : `image ${t.image}: built on this machine by this export (and by \`avsctl devnet up --runtime docker\`)`,
    "bootstrap deploys the contracts, registers the operators and creates the task definitions, once",
    ...t.notes,
  ];
  if (format === "compose") {
    if (t.components.some((c) => c.build))
      lines.push(
        `behind a TLS-intercepting proxy, give the service builds its CA: ${EXTRA_CA_CERTS}="$(cat proxy-ca.pem)" before the run line,`,
        // a whole system bundle is too long for one variable: only the proxy's own certificates
        `  proxy-ca.pem standing for a PEM file of the proxy's CA certificate(s) alone${
          t.caCerts ? ` (this project's come from ${t.caCerts.file}, ${t.caCerts.source})` : ""
        }`,
      );
    if (t.source === "state")
      lines.push(
        'the host ports are the running devnet\'s: `avsctl devnet down` first, or the run fails with "port is already allocated"',
      );
    lines.push(`run: docker compose -p avsctl-${t.project} -f <this file> up -d (or docker-compose, v1.29+)`);
  } else
    lines.push("run: kubectl apply -f <this file>; reach a port with kubectl port-forward svc/<name> <port>");
  return lines.map((l) => `# ${l}`);
}

/** Docker Compose YAML of a topology. */
export function renderCompose(t: Topology): string {
  const services: Record<string, unknown> = {};
  for (const c of t.components) {
    const s: Record<string, unknown> = { image: c.image };
    if (c.build) {
      s.build = {
        context: c.build.context,
        dockerfile: c.build.dockerfile,
        ...(c.build.args ? { args: c.build.args } : {}),
      };
    }
    if (c.command) {
      s.entrypoint = [];
      s.command = c.command;
    }
    if (Object.keys(c.env).length > 0) s.environment = c.env;
    if (c.ports.length > 0) s.ports = c.ports.map((p) => `127.0.0.1:${p.host}:${p.container}`);
    if (c.health?.nodeHealth) {
      s.healthcheck = {
        test: ["CMD", "node", "-e", probeScript(c.health)],
        interval: "2s",
        timeout: "3s",
        retries: 60,
      };
    }
    if (c.dependsOn.length > 0) {
      s.depends_on = Object.fromEntries(
        c.dependsOn.map((d) => [
          d.name,
          {
            condition:
              d.condition === "healthy"
                ? "service_healthy"
                : d.condition === "completed"
                  ? "service_completed_successfully"
                  : "service_started",
          },
        ]),
      );
    }
    if (c.volumes?.length) s.volumes = c.volumes.map((v) => `${v.name}:${v.target}`);
    if (c.usesHost) s.extra_hosts = [`${HOST_ALIAS}:host-gateway`];
    // A restarted chain would come back empty, so only nodes and services restart on a crash
    // (the default, "no", is left out: YAML 1.1 parsers read a bare no as false).
    if (!c.oneShot && c.role !== "chain") s.restart = "unless-stopped";
    services[c.name] = s;
  }
  // No top-level `name` (Compose v1 rejects it): the run line passes the project name instead.
  const volumes = [...new Set(t.components.flatMap((c) => (c.volumes ?? []).map((v) => v.name)))];
  const doc =
    volumes.length > 0
      ? { services, volumes: Object.fromEntries(volumes.map((v) => [v, {}])) }
      : { services };
  return `${header(t, "compose").join("\n")}\n${YAML.stringify(doc, { lineWidth: 0 })}`;
}

/** Kubernetes manifests of a topology: a Secret, a Job, Deployments and Services, one multi-doc YAML. */
export function renderKubernetes(t: Topology): string {
  const partOf = `avsctl-${t.project}`;
  const labels = (name: string) => ({
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/part-of": partOf,
    "app.kubernetes.io/managed-by": "avsctl",
  });
  const secretName = `${partOf}-keys`;
  const secretData: Record<string, string> = {};
  const secretKey = (component: string, env: string) =>
    `${component}-${env}`.toLowerCase().replace(/[^a-z0-9.-]+/g, "-");
  const docs: unknown[] = [];

  const container = (c: TopologyComponent) => {
    const env = Object.entries(c.env).map(([name, value]) => {
      if (!c.secretEnv.includes(name) && !SECRET_NAMES.includes(name)) return { name, value };
      const key = secretKey(c.name, name);
      secretData[key] = value;
      return { name, valueFrom: { secretKeyRef: { name: secretName, key } } };
    });
    const spec: Record<string, unknown> = {
      name: c.name,
      image: c.image,
      imagePullPolicy: "IfNotPresent",
    };
    if (c.command) {
      spec.command = [c.command[0]];
      spec.args = c.command.slice(1);
    }
    if (env.length > 0) spec.env = env;
    if (c.ports.length > 0) spec.ports = c.ports.map((p) => ({ name: p.name, containerPort: p.container }));
    if (c.volumes?.length) spec.volumeMounts = c.volumes.map((v) => ({ name: v.name, mountPath: v.target }));
    if (c.health) {
      spec.readinessProbe =
        c.health.kind === "http"
          ? { httpGet: { path: c.health.path ?? "/", port: c.health.port }, periodSeconds: 2 }
          : { exec: { command: ["node", "-e", probeScript(c.health)] }, periodSeconds: 2 };
    }
    return spec;
  };

  const waitForContracts = {
    name: "wait-for-contracts",
    image: t.image,
    imagePullPolicy: "IfNotPresent",
    command: ["node", "-e", waitForContractsScript(t.readyCheck.rpcUrl, t.readyCheck.address)],
  };

  for (const c of t.components) {
    const podSpec: Record<string, unknown> = { containers: [container(c)] };
    // The pod's own scratch space: a devnet is disposable, so no PersistentVolumeClaim to clean up.
    if (c.volumes?.length) podSpec.volumes = c.volumes.map((v) => ({ name: v.name, emptyDir: {} }));
    if (c.oneShot) {
      docs.push({
        apiVersion: "batch/v1",
        kind: "Job",
        metadata: { name: c.name, labels: labels(c.name) },
        spec: {
          backoffLimit: 10,
          template: {
            metadata: { labels: labels(c.name) },
            spec: { ...podSpec, restartPolicy: "OnFailure" },
          },
        },
      });
      continue;
    }
    // Nodes and the execution service need the bootstrap job's contracts (Compose orders this with depends_on).
    if (c.role !== "chain" && c.role !== "validation" && c.role !== "service")
      podSpec.initContainers = [waitForContracts];
    docs.push({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: c.name, labels: labels(c.name) },
      spec: {
        replicas: 1,
        selector: { matchLabels: { "app.kubernetes.io/name": c.name, "app.kubernetes.io/part-of": partOf } },
        template: { metadata: { labels: labels(c.name) }, spec: podSpec },
      },
    });
    if (c.ports.length > 0) {
      docs.push({
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: c.name, labels: labels(c.name) },
        spec: {
          selector: { "app.kubernetes.io/name": c.name, "app.kubernetes.io/part-of": partOf },
          ports: c.ports.map((p) => ({ name: p.name, port: p.container, targetPort: p.container })),
        },
      });
    }
  }
  if (Object.keys(secretData).length > 0) {
    docs.unshift({
      apiVersion: "v1",
      kind: "Secret",
      metadata: { name: secretName, labels: labels("keys") },
      type: "Opaque",
      stringData: secretData,
    });
  }
  const body = docs.map((d) => YAML.stringify(d, { lineWidth: 0 })).join("---\n");
  return `${header(t, "k8s").join("\n")}\n${body}`;
}
