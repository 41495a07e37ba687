import { X509Certificate } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { AvsctlError } from "../errors.js";
import { completeBundle, extraCertificates, pemCertificates } from "./ca-certs.js";
import { stateDir } from "./state.js";

/** The certificates the project's service images and containers trust besides Node's own. */
export interface ServiceCa {
  file: string;
  /** Where the file was named: `--ca-certs`, `devnet.caCerts`, or the environment variable. */
  source: string;
  /** PEM certificates of the file that Node's `tls.rootCertificates` lacks. */
  extra: string[];
}

/** The path given to the container for the bundle; NODE_EXTRA_CA_CERTS & co. point at it. */
export const CONTAINER_CA_BUNDLE = "/etc/avsctl/ca-certificates.pem";

/**
 * Which bundle the services get: `--ca-certs` (already absolute), else `devnet.caCerts`
 * (relative to the project root), else NODE_EXTRA_CA_CERTS, else SSL_CERT_FILE.
 */
export function caCertsChoice(
  flag: string | undefined,
  configured: string | undefined,
  projectDir: string,
  env: NodeJS.ProcessEnv,
): { file: string; source: string } | undefined {
  if (flag !== undefined) return { file: flag, source: "--ca-certs" };
  // an empty value is refused by readServiceCa, not resolved to the project directory
  if (configured !== undefined)
    return { file: configured && path.resolve(projectDir, configured), source: "devnet.caCerts" };
  for (const name of ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"]) {
    const value = env[name];
    if (value) return { file: path.resolve(projectDir, value), source: name };
  }
  return undefined;
}

/**
 * Reads the bundle before anything starts: a file that cannot be read, holds no PEM
 * certificate, or one that does not parse, is the input's fault (exit 2), named by where it came
 * from; found only by the image build it would fail half a minute later.
 */
export function readServiceCa(choice: { file: string; source: string }): ServiceCa {
  const fail = (problem: string, extra: Record<string, unknown> = {}) =>
    new AvsctlError(
      choice.source === "devnet.caCerts" ? "CONFIG_INVALID" : "INVALID_ARGUMENT",
      `${choice.source}: ${problem}`,
      {
        hint: "name a readable PEM file of CA certificates (--ca-certs or devnet.caCerts)",
        details: { argument: choice.source, file: choice.file, ...extra },
      },
    );
  if (choice.file === "") throw fail("the value is empty; name a PEM file of CA certificates");
  let text: string;
  try {
    text = readFileSync(choice.file, "utf8");
  } catch (error) {
    throw fail(
      `${choice.file} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const certificates = pemCertificates(text);
  if (certificates.length === 0) throw fail(`${choice.file} holds no PEM certificate`);
  for (const [i, certificate] of certificates.entries()) {
    try {
      new X509Certificate(certificate);
    } catch (error) {
      const line = text.slice(0, text.indexOf(certificate)).split("\n").length;
      throw fail(
        `${choice.file}: certificate ${i + 1} of ${certificates.length} (line ${line}) is not a valid certificate (${(error as Error).message})`,
        { certificate: i + 1 },
      );
    }
  }
  return { ...choice, extra: extraCertificates(text, rootCertificates) };
}

/**
 * Writes Node's root certificates plus the extra ones into the devnet's state directory, for
 * the service containers to mount read-only; returns the file.
 */
export function writeServiceBundle(projectDir: string, ca: ServiceCa): string {
  const dir = stateDir(projectDir);
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, "ca-certificates.pem");
  // Readable by the containers' unprivileged users; certificates are public.
  writeFileSync(file, completeBundle(rootCertificates, ca.extra), { mode: 0o644 });
  return file;
}
