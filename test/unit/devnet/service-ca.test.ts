import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { afterAll, describe, expect, it } from "vitest";
import { certificatesHash, untrustedCertificateLine } from "../../../src/devnet/ca-certs.js";
import { caCertsChoice, readServiceCa } from "../../../src/devnet/service-ca.js";
import { isAvsctlError } from "../../../src/errors.js";
import { repoRoot } from "../../helpers/cli.js";

const tmp = mkdtempSync(path.join(os.tmpdir(), "avsctl-unit-service-ca-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// a real certificate Node does not ship (made for the tests), and PEM markers around no certificate
const REAL = readFileSync(path.join(repoRoot, "test/fixtures/tls/localhost.crt"), "utf8").trim();
const FAKE = `-----BEGIN CERTIFICATE-----\n${"QUJD".repeat(30)}\n-----END CERTIFICATE-----`;

function errorOf(fn: () => unknown) {
  try {
    fn();
  } catch (error) {
    if (isAvsctlError(error)) return error;
    throw error;
  }
  throw new Error("expected an error");
}

describe("readServiceCa", () => {
  const file = (name: string, text: string) => {
    const f = path.join(tmp, name);
    writeFileSync(f, text);
    return f;
  };

  it("takes a bundle of real certificates", () => {
    const f = file("good.pem", `${rootCertificates[0]}\n${REAL}\n`);
    expect(readServiceCa({ file: f, source: "--ca-certs" }).extra).toEqual([REAL]);
  });

  it("refuses PEM markers around something that is no certificate, naming the source and which one", () => {
    const f = file("fake.pem", `${REAL}\n${FAKE}\n`);
    for (const [source, code] of [
      ["--ca-certs", "INVALID_ARGUMENT"],
      ["NODE_EXTRA_CA_CERTS", "INVALID_ARGUMENT"],
      ["SSL_CERT_FILE", "INVALID_ARGUMENT"],
      ["devnet.caCerts", "CONFIG_INVALID"],
    ] as const) {
      const error = errorOf(() => readServiceCa({ file: f, source }));
      expect(error.code).toBe(code);
      expect(error.exitCode).toBe(2);
      expect(error.message).toMatch(
        new RegExp(
          `^${source}: ${f.replace(/[.]/g, "\\.")}: certificate 2 of 2 \\(line \\d+\\) is not a valid certificate`,
        ),
      );
      expect(error.details).toMatchObject({ argument: source, file: f, certificate: 2 });
    }
  });

  it("says an empty --ca-certs or devnet.caCerts is empty, not that the project directory cannot be read", () => {
    const flag = errorOf(() => readServiceCa(caCertsChoice("", undefined, tmp, {})!));
    expect(flag.message).toBe("--ca-certs: the value is empty; name a PEM file of CA certificates");
    expect(flag.exitCode).toBe(2);
    const config = errorOf(() => readServiceCa(caCertsChoice(undefined, "", tmp, {})!));
    expect(config.message).toBe("devnet.caCerts: the value is empty; name a PEM file of CA certificates");
    expect(config.code).toBe("CONFIG_INVALID");
    // an empty environment variable is an unset one, as elsewhere
    expect(caCertsChoice(undefined, undefined, tmp, { NODE_EXTRA_CA_CERTS: "" })).toBeUndefined();
  });
});

describe("untrustedCertificateLine", () => {
  it("recognises pip's, Go's and npm's words for a certificate they do not trust", () => {
    for (const line of [
      "WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) after connection broken by 'SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: self-signed certificate in certificate chain (_ssl.c:1006)'))': /simple/fastapi/",
      'go: github.com/ethereum/go-ethereum@v1.15.0: Get "https://proxy.golang.org/github.com/ethereum/go-ethereum/@v/v1.15.0.mod": tls: failed to verify certificate: x509: certificate signed by unknown authority',
      "npm error code SELF_SIGNED_CERT_IN_CHAIN",
      "npm error code UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
      "curl: (60) SSL certificate problem: self-signed certificate in certificate chain",
    ])
      expect(untrustedCertificateLine(["Step 4/9 : RUN install", line, "exit code: 1"])).toBe(line);
    expect(
      untrustedCertificateLine(["ERROR: No matching distribution found for fastapi==99"]),
    ).toBeUndefined();
  });
});

describe("certificatesHash", () => {
  it("is the same however the certificates are wrapped, and differs for other certificates", () => {
    const rewrapped = REAL.replace(/\n/g, "\r\n");
    expect(certificatesHash([rewrapped])).toBe(certificatesHash([REAL]));
    expect(certificatesHash([REAL, rootCertificates[0]!])).not.toBe(certificatesHash([REAL]));
  });
});
