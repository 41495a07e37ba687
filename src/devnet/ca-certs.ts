/**
 * Certificate bundles for the project's service images and containers. A machine behind a
 * TLS-intercepting proxy trusts the proxy's CA through a bundle (NODE_EXTRA_CA_CERTS,
 * SSL_CERT_FILE); passing the whole system bundle into every image build is wasteful, so only
 * the certificates Node does not already ship are passed on.
 */

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
