import { writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { tempProject } from "./support.js";

describe("devnet up refuses a bad CA bundle at once, exit 2, nothing started", () => {
  const p = tempProject("e2e-ca-input");
  afterAll(() => p.remove());

  it("--ca-certs '' says the value is empty (not that the project directory cannot be read)", async () => {
    const r = await p.cli(["devnet", "up", "--runtime", "process", "--ca-certs", "", "--json"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json().error).toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "--ca-certs: the value is empty; name a PEM file of CA certificates",
      details: { argument: "--ca-certs" },
    });
  });

  it("devnet.caCerts naming PEM markers around no certificate names the key and the certificate", async () => {
    const fake = path.join(p.dir, "fakepem.pem");
    writeFileSync(fake, `-----BEGIN CERTIFICATE-----\n${"QUJD".repeat(16)}\n-----END CERTIFICATE-----\n`);
    writeFileSync(
      path.join(p.dir, "avsctl.config.json"),
      JSON.stringify({ name: p.name, devnet: { caCerts: "fakepem.pem" } }),
    );
    const r = await p.cli(["devnet", "up", "--runtime", "process", "--json"]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.json().error).toMatchObject({
      code: "CONFIG_INVALID",
      details: { argument: "devnet.caCerts", file: fake, certificate: 1 },
    });
    expect(r.json().error.message).toMatch(
      /^devnet\.caCerts: .*fakepem\.pem: certificate 1 of 1 \(line 1\) is not a valid certificate/,
    );
  });
});
