import { ephemeralPortRange, findFreePort } from "../../src/devnet/runtime/ports.js";

/**
 * A free 127.0.0.1 port for a server a test starts later. A port the OS hands out for port 0
 * lies inside the ephemeral range, so between the check and the moment the server listens the
 * OS may give it to another test's outgoing connection; devnets take theirs below that range, so
 * another test's devnet could take it. These come from above the range (61000-65535 with Linux's
 * default), where neither happens; below it where nothing lies above (macOS, Windows).
 */
export async function stablePort(): Promise<number> {
  const above = { low: ephemeralPortRange().high + 1, high: 65_535 };
  return above.high - above.low >= 500 ? findFreePort("127.0.0.1", above) : findFreePort();
}
