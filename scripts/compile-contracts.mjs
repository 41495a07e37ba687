#!/usr/bin/env node
// Compiles contracts/**/*.sol with the pinned solc npm package into artifacts/<Name>.json
// ({contractName, abi, bytecode}). Skips the work when neither the sources nor the settings
// changed since the last run (solc-js with viaIR takes a while), unless --force is given.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const contractsDir = join(root, "contracts");
const artifactsDir = join(root, "artifacts");
const stampFile = join(artifactsDir, ".build-stamp.json");
const force = process.argv.includes("--force");

// EIP-170: larger runtime code cannot be deployed on a chain that enforces it.
const MAX_RUNTIME_SIZE = 24_576;

const settings = {
  // cancun: mcopy; every chain we target (anvil, current L2s) has it.
  evmVersion: "cancun",
  viaIR: true,
  // runs 200, not 1000: OBLS must stay under EIP-170's limit (below)
  optimizer: { enabled: true, runs: 200 },
  outputSelection: {
    "*": { "": ["ast"], "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object"] },
  },
};

function listSources(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (entry.name.endsWith(".sol")) out.push(full);
  }
  return out.sort();
}

function main() {
  const solc = require("solc");
  const version = solc.version();
  const files = listSources(contractsDir);
  if (files.length === 0) throw new Error(`no .sol files under ${contractsDir}`);
  const sources = {};
  for (const file of files) {
    const key = relative(contractsDir, file).split(sep).join("/");
    sources[key] = { content: readFileSync(file, "utf8") };
  }
  const stamp = createHash("sha256").update(JSON.stringify({ version, settings, sources })).digest("hex");
  if (!force) {
    try {
      const previous = JSON.parse(readFileSync(stampFile, "utf8"));
      const complete = (previous.artifacts ?? []).every((name) =>
        existsSync(join(artifactsDir, `${name}.json`)),
      );
      if (previous.stamp === stamp && complete && previous.artifacts?.length > 0) {
        console.log(`contracts unchanged (solc ${version}), artifacts are up to date`);
        return;
      }
    } catch {
      // no stamp yet: compile
    }
  }

  const started = Date.now();
  const output = JSON.parse(solc.compile(JSON.stringify({ language: "Solidity", sources, settings })));
  const problems = output.errors ?? [];
  for (const p of problems) {
    if (p.severity !== "error") console.warn(p.formattedMessage);
  }
  const errors = problems.filter((p) => p.severity === "error");
  if (errors.length > 0) {
    for (const e of errors) console.error(e.formattedMessage);
    throw new Error(`solc ${version}: ${errors.length} error(s)`);
  }

  // only deployable contracts get an artifact (no interfaces, abstract contracts or libraries)
  const deployable = new Set();
  for (const source of Object.values(output.sources ?? {})) {
    for (const node of source.ast?.nodes ?? []) {
      if (node.nodeType === "ContractDefinition" && node.contractKind === "contract" && !node.abstract) {
        deployable.add(node.name);
      }
    }
  }

  rmSync(artifactsDir, { recursive: true, force: true });
  mkdirSync(artifactsDir, { recursive: true });
  const written = [];
  const seen = new Map();
  for (const [source, contracts] of Object.entries(output.contracts ?? {})) {
    for (const [name, contract] of Object.entries(contracts)) {
      const bytecode = contract.evm?.bytecode?.object ?? "";
      if (!deployable.has(name) || bytecode.length === 0) continue;
      if (seen.has(name)) throw new Error(`two contracts named ${name}: ${seen.get(name)} and ${source}`);
      seen.set(name, source);
      const runtimeSize = (contract.evm?.deployedBytecode?.object ?? "").length / 2;
      if (runtimeSize > MAX_RUNTIME_SIZE) {
        throw new Error(
          `${name} runtime code is ${runtimeSize} bytes, above the ${MAX_RUNTIME_SIZE}-byte limit`,
        );
      }
      writeFileSync(
        join(artifactsDir, `${name}.json`),
        `${JSON.stringify({ contractName: name, abi: contract.abi, bytecode: `0x${bytecode}` }, null, 2)}\n`,
      );
      written.push(`${name} (${runtimeSize} bytes)`);
    }
  }
  writeFileSync(
    stampFile,
    `${JSON.stringify({ stamp, solc: version, artifacts: [...seen.keys()] }, null, 2)}\n`,
  );
  console.log(
    `compiled ${files.length} files with solc ${version} in ${((Date.now() - started) / 1000).toFixed(1)}s: ${written.join(", ")}`,
  );
}

try {
  main();
} catch (error) {
  console.error(`compile-contracts: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
