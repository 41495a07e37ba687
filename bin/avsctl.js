#!/usr/bin/env node
// Thin launcher: check the runtime before importing anything, then hand over to dist/.
import module from "node:module";

const [major, minor] = process.versions.node.split(".").map(Number);
if (major < 22 || (major === 22 && minor < 13)) {
  const message = `avsctl needs Node.js >= 22.13 (found ${process.versions.node})`;
  const hint = "install Node.js 24 LTS, or put a newer node first on PATH";
  // the same shape as every other error (src/cli/render-error.ts), which cannot load on this Node
  if (process.argv.includes("--json")) {
    process.stdout.write(`${JSON.stringify({ error: { code: "NODE_VERSION", message, hint } })}\n`);
  } else {
    process.stderr.write(`Error [NODE_VERSION]: ${message}\n  ${hint}\n`);
  }
  process.exit(4);
}
// `avsctl ... | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw error;
});
// Reuse V8's compiled code across runs: most of a CLI's start-up is parsing its modules.
module.enableCompileCache?.();

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V")) {
  // The one call scripts make in a loop; answer it without loading the program.
  const { readFileSync } = await import("node:fs");
  const pkg = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
  process.stdout.write(`${pkg.version}\n`);
} else {
  const { main } = await import("../dist/cli/main.js");
  process.exitCode = await main(process.argv);
  // The answer is out: an abandoned request (a frozen aggregator, a keep-alive socket) must not
  // hold the process. Unref'd, this fires only if something else still keeps the loop alive.
  setTimeout(() => process.exit(), 100).unref();
}
