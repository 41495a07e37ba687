/**
 * The devnet's IPFS node through the built CLI (process runtime): `devnet up` records it in the
 * state, a Pinata-style pin reads back through its gateway, and the content is still there after
 * `devnet restart ipfs` (same data directory, new process).
 */

import { appendFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  downWithOwnValidation,
  type State,
  tempProject,
  upWithOwnValidation,
  type ValidationServer,
} from "./support.js";

describe("devnet IPFS node, process runtime (built CLI)", () => {
  const p = tempProject("e2e-ipfs");
  let validation: ValidationServer;
  let state: State;

  beforeAll(async () => {
    ({ validation, state } = await upWithOwnValidation(p, "process"));
  });

  afterAll(() => downWithOwnValidation(p, validation));

  it("keeps pinned content across `devnet restart ipfs`", async () => {
    const ipfs = state.ipfs!;
    expect(ipfs.gatewayUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/ipfs\/$/);
    expect(ipfs.apiUrl).toBe(`${ipfs.pinataUrl}/api/v0`);

    const document = { proof: "e2e-ipfs", price: "1.5" };
    const pin = await fetch(`${ipfs.pinataUrl}/pinning/pinJSONToIPFS`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Bearer devnet" },
      body: JSON.stringify({ pinataContent: document }),
    });
    expect(pin.status).toBe(200);
    const { IpfsHash } = (await pin.json()) as { IpfsHash: string };

    const restart = await p.cli(["devnet", "restart", "ipfs", "--json"]);
    expect(restart.code).toBe(0);
    expect(JSON.parse(restart.stdout)).toMatchObject({ name: "ipfs", healthy: true });

    const status = await p.cli(["devnet", "status", "--json"]);
    const after = JSON.parse(status.stdout) as State;
    const back = await fetch(`${after.ipfs!.gatewayUrl}${IpfsHash}`);
    expect(back.status).toBe(200);
    expect(await back.json()).toEqual(document);
  });

  it("logs --tail: a last line without a time of its own takes the one of the line before it", async () => {
    const file = path.join(p.dir, ".avsctl", "logs", "ipfs.log");
    appendFileSync(file, "a line without a time\n");
    // every component's last line, merged in time order (one component alone is shown raw)
    const r = await p.cli(["devnet", "logs", "--tail", "1", "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const records = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const record = records.find((x: { component: string }) => x.component === "ipfs");
    expect(record).toMatchObject({ component: "ipfs", msg: "a line without a time" });
    expect(record.time).toMatch(/^\d{4}-\d\d-\d\dT/);
  });
});
