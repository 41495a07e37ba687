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
  if (flag) return { file: flag, source: "--ca-certs" };
  if (configured) return { file: path.resolve(projectDir, configured), source: "devnet.caCerts" };
  for (const name of ["NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE"]) {
    const value = env[name];
    if (value) return { file: path.resolve(projectDir, value), source: name };
  }
  return undefined;
}

/**
 * Reads the bundle before anything starts: a file that cannot be read, or holds no PEM
 * certificate, is the input's fault (exit 2), named by where it came from.
 */
export function readServiceCa(choice: { file: string; source: string }): ServiceCa {
  const fail = (problem: string) =>
    new AvsctlError(
      choice.source === "devnet.caCerts" ? "CONFIG_INVALID" : "INVALID_ARGUMENT",
      `${choice.source}: ${choice.file} ${problem}`,
      {
        hint: "name a readable PEM file of CA certificates (--ca-certs or devnet.caCerts)",
        details: { argument: choice.source, file: choice.file },
      },
    );
  let text: string;
  try {
    text = readFileSync(choice.file, "utf8");
  } catch (error) {
    throw fail(`cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  if (pemCertificates(text).length === 0) throw fail("holds no PEM certificate");
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
