/**
 * Certificate bundles for the project's service images and containers. A machine behind a
 * TLS-intercepting proxy trusts the proxy's CA through a bundle (NODE_EXTRA_CA_CERTS,
 * SSL_CERT_FILE); passing the whole system bundle into every image build is wasteful, so only
 * the certificates Node does not already ship are passed on.
 */

import { createHash } from "node:crypto";

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The certificates of a PEM text, each from its BEGIN to its END line (anything else dropped). */
export function pemCertificates(pem: string): string[] {
  return pem.match(PEM_CERTIFICATE) ?? [];
}

/** A certificate's base64 body without line breaks: the same certificate however it is wrapped. */
function body(certificate: string): string {
  return certificate.replace(/-----(BEGIN|END) CERTIFICATE-----/g, "").replace(/\s+/g, "");
}

/**
 * The certificates of `bundle` that are not among `roots` (Node's `tls.rootCertificates`), each
 * once, in the bundle's order.
 */
export function extraCertificates(bundle: string, roots: readonly string[]): string[] {
  const known = new Set(roots.map(body));
  const extra: string[] = [];
  for (const certificate of pemCertificates(bundle)) {
    const key = body(certificate);
    if (known.has(key)) continue;
    known.add(key);
    extra.push(certificate);
  }
  return extra;
}

/** One PEM text of `roots` and then `extra`: a complete bundle for SSL_CERT_FILE and the like. */
export function completeBundle(roots: readonly string[], extra: readonly string[]): string {
  return `${[...roots, ...extra].join("\n")}\n`;
}

/**
 * What the tools a service image installs with print when a TLS-intercepting proxy shows them
 * a certificate they do not trust: pip and Python's ssl, Go, npm and Node, curl, OpenSSL.
 */
const UNTRUSTED_CERTIFICATE = [
  /CERTIFICATE_VERIFY_FAILED/,
  /certificate verify failed/i,
  /self[- ]signed certificate in certificate chain/i,
  /x509: certificate signed by unknown authority/,
  /x509: certificate is not trusted/,
  /SELF_SIGNED_CERT_IN_CHAIN/,
  /UNABLE_TO_GET_ISSUER_CERT_LOCALLY/,
  /UNABLE_TO_VERIFY_LEAF_SIGNATURE/,
  /DEPTH_ZERO_SELF_SIGNED_CERT/,
  /unable to get local issuer certificate/i,
  /SSL certificate problem/,
];

/** The first line of a build's output that says a TLS certificate was not trusted. */
export function untrustedCertificateLine(lines: readonly string[]): string | undefined {
  return lines.find((line) => UNTRUSTED_CERTIFICATE.some((pattern) => pattern.test(line)));
}

/**
 * The same extra certificates however they are wrapped or ordered the same: a short SHA-256 of
 * their bodies, for telling a running devnet's bundle from the one asked for.
 */
export function certificatesHash(certificates: readonly string[]): string {
  return createHash("sha256").update(certificates.map(body).join("\n")).digest("hex").slice(0, 12);
}
