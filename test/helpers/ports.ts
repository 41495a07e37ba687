import { isPortFree } from "../../src/devnet/runtime/ports.js";

const taken = new Set<number>();

/**
 * A free 127.0.0.1 port below Linux's ephemeral range (32768-60999). A port the OS hands out
 * for port 0 lies inside that range, so between the check and the moment a server listens the
 * OS may give it to another test's outgoing connection; these ports it never hands out.
 */
export async function stablePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (taken.has(port) || !(await isPortFree(port))) continue;
    taken.add(port);
    return port;
  }
  throw new Error("no free port between 20000 and 32000");
}
