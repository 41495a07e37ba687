/**
 * The hidden `avsctl devnet service <name>` a devnet's containers and processes run: its
 * "listening on" line names the address it listens on (all interfaces when started with
 * `--host 0.0.0.0`, as in a container behind a published port), not the loopback address a
 * client on the same host would use.
 */
import { spawn } from "node:child_process";
import { expect, it } from "vitest";
import { binPath } from "../../helpers/cli.js";

it("a price feed started with --host 0.0.0.0 says it listens on 0.0.0.0, on the port it answers", async () => {
  const child = spawn(
    process.execPath,
    [binPath, "devnet", "service", "price-feed", "--host", "0.0.0.0", "--port", "0"],
    { env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  const exited = new Promise<number | null>((r) => child.once("exit", r));
  try {
    let err = "";
    const line = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no listening line within 30 s:\n${err}`)), 30_000);
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        err += d;
        const found = /^price-feed listening on .*$/m.exec(err);
        if (found) {
          clearTimeout(timer);
          resolve(found[0]);
        }
      });
      child.once("exit", (code) => reject(new Error(`exited with ${code}:\n${err}`)));
    });
    const port = /^price-feed listening on http:\/\/0\.0\.0\.0:(\d+)$/.exec(line)?.[1];
    expect(port, line).toBeDefined();
    const res = await fetch(`http://127.0.0.1:${port}/price?symbol=ETHUSDT`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ symbol: "ETHUSDT" });
  } finally {
    child.kill("SIGTERM");
    await exited;
  }
}, 60_000);
