#!/usr/bin/env node
// Adds lockfile entries for platform-specific optional packages that the registry this lock was
// made against did not serve (it serves only this machine's platform). Without them `npm ci`
// refuses the lock as out of sync; with them npm skips each entry on a platform it does not fit,
// exactly as with a lock made against the full registry. Run after `npm install`.
import { readFileSync, writeFileSync } from "node:fs";

const file = new URL("../package-lock.json", import.meta.url);
const lock = JSON.parse(readFileSync(file, "utf8"));
const packages = lock.packages;

function platformOf(name) {
  const tail = name.split("/").pop();
  const os = ["android", "darwin", "linux", "win32", "freebsd", "openbsd", "netbsd", "sunos", "aix"].find(
    (o) => tail.includes(`-${o}-`),
  );
  const cpuMatch = /-(arm64|x64|amd64|arm|ia32|loong64|mips64el|ppc64|riscv64|s390x)(?:-|$)/.exec(tail);
  if (!os || !cpuMatch) return undefined;
  const entry = { os: [os], cpu: [cpuMatch[1] === "amd64" ? "x64" : cpuMatch[1]] };
  if (tail.endsWith("-musl")) entry.libc = ["musl"];
  else if (os === "linux" && tail.endsWith("-gnu")) entry.libc = ["glibc"];
  return entry;
}

let added = 0;
for (const [key, pkg] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const at = `node_modules/${dep}`;
    if (packages[at]) continue;
    const platform = platformOf(dep);
    if (!platform || !/^\d+\.\d+\.\d+/.test(version)) continue;
    packages[at] = { version, ...platform, ...(pkg.dev ? { dev: true } : {}), optional: true };
    added++;
    void key;
  }
}
const sorted = Object.fromEntries(
  Object.entries(packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : 1)),
);
lock.packages = sorted;
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`complete-lockfile: added ${added} platform package entr${added === 1 ? "y" : "ies"}`);
