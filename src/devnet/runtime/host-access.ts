/**
 * How containers reach a service on the host's 127.0.0.1 (`--validation-url
 * http://127.0.0.1:4002` while the user debugs the service in the IDE).
 *
 * What we found on a native Linux engine: `host.docker.internal:host-gateway` resolves to the
 * docker0 address (172.17.0.1), and a connection there to a host service bound to 0.0.0.0
 * works, but a service bound only to 127.0.0.1 refuses it (ECONNREFUSED): loopback is not
 * routed from a bridge (`route_localnet=0`). So, per exposed host port, we run a tiny TCP
 * forwarder container in the host's network namespace that listens on the project network's
 * gateway address, on a free port of its own (never 0.0.0.0, so nothing is exposed to the LAN;
 * never the service's own port, so it cannot collide with it) and forwards to
 * 127.0.0.1:<port>; containers get `host.docker.internal` mapped to that gateway. The forwarder
 * is an ordinary labelled container of the project, so it outlives the CLI and `down` removes it.
 *
 * Docker Desktop already forwards `host.docker.internal` to the host's loopback, and a remote
 * engine (tcp://, ssh://) cannot see this machine's loopback at all; both use plain
 * `host-gateway` without forwarders.
 */

/** Node script of the forwarder: `node -e <script> <listenHost> <listenPort> <targetHost> <targetPort>`. */
export const FORWARDER_SCRIPT = [
  'const net = require("node:net");',
  "const [, listenHost, listenPort, targetHost, targetPort] = process.argv;",
  "const server = net.createServer((client) => {",
  "  const upstream = net.connect(Number(targetPort), targetHost);",
  "  const close = () => { client.destroy(); upstream.destroy(); };",
  "  client.on('error', close); upstream.on('error', close);",
  "  client.on('close', close); upstream.on('close', close);",
  "  client.pipe(upstream); upstream.pipe(client);",
  "});",
  "server.on('error', (error) => { console.error('forwarder: ' + error.message); process.exit(1); });",
  "server.listen(Number(listenPort), listenHost, () =>",
  "  console.log('forwarding ' + listenHost + ':' + listenPort + ' -> ' + targetHost + ':' + targetPort));",
  "process.on('SIGTERM', () => process.exit(0));",
].join("\n");

export const HOST_ALIAS = "host.docker.internal";

export type HostAccessMode = "forwarder" | "direct";

/** Hostnames that mean "this machine's loopback" in a URL a user passes. */
export function isLoopbackHost(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/** The component name of the forwarder for a host port. */
export function forwarderComponent(port: number): string {
  return `host-port-${port}`;
}
