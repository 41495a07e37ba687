import { rootCertificates } from "node:tls";
import { describe, expect, it } from "vitest";
import { completeBundle, extraCertificates, pemCertificates } from "../../../src/devnet/ca-certs.js";

/** A PEM block around `body`, wrapped at `width` columns. */
function pem(body: string, width = 64): string {
  const lines = body.match(new RegExp(`.{1,${width}}`, "g")) ?? [];
  return ["-----BEGIN CERTIFICATE-----", ...lines, "-----END CERTIFICATE-----"].join("\n");
}

const bodyOf = (certificate: string) =>
  certificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");

// Opaque to the functions under test: they compare bodies, they do not parse DER.
const PROXY_CA = pem(`MIIBproxy${"A".repeat(120)}`);
const CORPORATE_CA = pem(`MIIBcorporate${"B".repeat(90)}`);

describe("extraCertificates", () => {
  it("keeps only the certificates Node does not ship, however the known ones are wrapped", () => {
    const known = rootCertificates.slice(0, 3);
    const bundle = [
      "# a comment line of a system bundle",
      known[0]!,
      PROXY_CA,
      pem(bodyOf(known[1]!), 76), // the same certificate, wrapped differently
      CORPORATE_CA,
      `${known[2]!.replace(/\n/g, "\r\n")}\r\n`,
    ].join("\n");
    expect(extraCertificates(bundle, rootCertificates)).toEqual([PROXY_CA, CORPORATE_CA]);
  });

  it("lists a certificate once when the bundle repeats it", () => {
    expect(extraCertificates([PROXY_CA, PROXY_CA, CORPORATE_CA].join("\n"), [])).toEqual([
      PROXY_CA,
      CORPORATE_CA,
    ]);
  });

  it("finds nothing extra in a bundle of Node's own roots, or in a text without certificates", () => {
    expect(extraCertificates(rootCertificates.join("\n"), rootCertificates)).toEqual([]);
    expect(extraCertificates("not a bundle", rootCertificates)).toEqual([]);
    expect(pemCertificates("not a bundle")).toEqual([]);
  });
});

describe("completeBundle", () => {
  it("holds every root and then the extra certificates, each whole", () => {
    const bundle = completeBundle(rootCertificates, [PROXY_CA]);
    const certificates = pemCertificates(bundle);
    expect(certificates).toHaveLength(rootCertificates.length + 1);
    expect(certificates.at(-1)).toBe(PROXY_CA);
    expect(extraCertificates(bundle, rootCertificates)).toEqual([PROXY_CA]);
    expect(bundle.endsWith("-----END CERTIFICATE-----\n")).toBe(true);
  });
});
