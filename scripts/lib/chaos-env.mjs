// What the chaos suite reads its facts from: the process table (/proc and the process runtime's
// run records), the aggregator's JSON-RPC, and the AttestationCenter's events. Nothing here
// reads a log: a row's verdict rests on these alone.
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AbiCoder, hexlify, Interface, JsonRpcProvider, keccak256, toUtf8Bytes, Wallet } from "ethers";
import { root } from "./avsctl.mjs";

const bin = path.join(root, "bin", "avsctl.js");

/** Every child the suite started and has not seen exit, so an interrupt can stop them all. */
export const liveChildren = new Set();

/**
 * `avsctl <args>` in `dir`, bounded by `timeoutMs` (then SIGKILLed). Never rejects. `onSpawn`
 * gets the child (the SIGINT row signals it).
 */
export function avsctl(dir, args, { timeoutMs = 180_000, env = {}, onSpawn } = {}) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, [bin, ...args], {
      cwd: dir,
      env: { ...cleanEnv(), NO_COLOR: "1", CI: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    liveChildren.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    onSpawn?.(child);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      liveChildren.delete(child);
      let json;
      try {
        json = JSON.parse(stdout);
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? -1, signal, stdout, stderr, json, ms: Date.now() - started });
    });
  });
}

// A developer's shell settings would point the CLI elsewhere than the suite's own devnet.
function cleanEnv() {
  const env = { ...process.env };
  for (const k of [
    "AVSCTL_RPC_URL",
    "AVSCTL_PRIVATE_KEY",
    "AVSCTL_ATTESTATION_CENTER",
    "L2_RPC",
    "PRIVATE_KEY",
    "PRIVATE_KEY_PERFORMER",
    "ATTESTATION_CENTER_ADDRESS",
    "DEBUG",
  ])
    delete env[k];
  return env;
}

/** Every temporary project not removed yet, so an interrupt can take their devnets down. */
export const liveProjects = new Set();

/** A temporary project directory with its own avsctl.config.json. */
export function tempProject(prefix) {
  const dir = mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  writeFileSync(path.join(dir, "avsctl.config.json"), `${JSON.stringify({ name })}\n`);
  const project = {
    dir,
    name,
    remove: () => {
      liveProjects.delete(project);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  liveProjects.add(project);
  return project;
}

function procState(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
  } catch {
    return undefined;
  }
}

/** True when the process exists and is not a zombie. */
export function isAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  const state = procState(pid);
  return state !== undefined && state !== "Z" && state !== "X";
}

/**
 * Live processes that belong to the project in `dir`: labelled with it (the process runtime
 * puts AVSCTL_DEVNET_PROJECT_DIR in every component's environment, children inherit it) or
 * naming the directory on their command line (anything else `up` may start). Never this process.
 */
export function projectProcesses(dir) {
  const found = [];
  const label = `AVSCTL_DEVNET_PROJECT_DIR=${dir}`;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid || !isAlive(pid)) continue;
    try {
      const environ = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
      const component = environ.find((e) => e.startsWith("AVSCTL_DEVNET_COMPONENT="))?.split("=")[1];
      if (environ.includes(label) || cmdline.some((a) => a.includes(dir)))
        found.push({ pid, component: component || null, command: cmdline.slice(0, 4).join(" ") });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

/** SIGKILLs every process of the project still alive; returns what it killed. */
export function killProjectProcesses(dir) {
  const left = projectProcesses(dir);
  for (const p of left) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {}
  }
  return left;
}

/** The process runtime's record of one component (pid, startedAt, ...), or null. */
export function runRecord(dir, component) {
  try {
    return JSON.parse(readFileSync(path.join(dir, ".avsctl", "run", `${component}.json`), "utf8"));
  } catch {
    return null;
  }
}

/** SIGKILLs a component by the pid its run record names; returns that pid (null when none runs). */
export function killComponent(dir, component) {
  const pid = runRecord(dir, component)?.pid;
  if (!isAlive(pid)) return null;
  process.kill(pid, "SIGKILL");
  return pid;
}

/** Polls `probe` every `stepMs` until it gives a truthy value or `ms` pass; returns the value or undefined. */
export async function waitFor(probe, ms, stepMs = 100) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) return undefined;
    await sleep(stepMs);
  }
}

/** One JSON-RPC call; resolves with the parsed answer or `{transportError}`. Never rejects. */
export async function rpc(url, method, params = [], timeoutMs = 5_000) {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return await res.json();
  } catch (error) {
    return { transportError: String(error?.cause?.code ?? error?.message ?? error) };
  }
}

/** A raw POST: the HTTP status and the body as text and, when it parses, as JSON. */
export async function postRaw(url, body, timeoutMs = 10_000) {
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, text, json };
  } catch (error) {
    return { status: 0, text: "", json: undefined, transportError: String(error?.cause?.code ?? error) };
  }
}

/** Connected attesters as the aggregator's healthcheck counts them (null when it does not answer). */
export async function connectedAttesters(state) {
  const r = await rpc(state.aggregator.rpcUrl, "healthcheck", [], 2_000);
  return typeof r.result?.attesters === "number" ? r.result.attesters : null;
}

export function sampleProof(dataHex) {
  return `0x${createHash("sha256")
    .update(Buffer.from(dataHex.slice(2), "hex"))
    .digest("hex")}`;
}

const coder = AbiCoder.defaultAbiCoder();

export function taskHashOf(proofOfTask, data, performer, taskDefinitionId) {
  return keccak256(
    coder.encode(["string", "bytes", "address", "uint16"], [proofOfTask, data, performer, taskDefinitionId]),
  ).toLowerCase();
}

/**
 * A task signed as `signerKey` (default: the performer) naming `performer` (default: the
 * signer's address), proof by the sample rule unless given: sendTask's five parameters and its hash.
 */
export function signedTask({ payload, signerKey, performer, proof, taskDefinitionId = 1 }) {
  const wallet = new Wallet(signerKey);
  const data = hexlify(toUtf8Bytes(typeof payload === "string" ? payload : JSON.stringify(payload)));
  const proofOfTask = proof ?? sampleProof(data);
  const named = performer ?? wallet.address;
  const hash = taskHashOf(proofOfTask, data, named, taskDefinitionId);
  const signature = wallet.signingKey.sign(hash).serialized;
  return { hash, params: [proofOfTask, data, taskDefinitionId, named, signature] };
}

/** sendTask of prepared params: `{hash}` when accepted, else `{error}` (the JSON-RPC error or transport). */
export async function sendTask(state, params) {
  const started = Date.now();
  const r = await rpc(state.aggregator.rpcUrl, "sendTask", params, 15_000);
  const ms = Date.now() - started;
  if (typeof r.result === "string") return { hash: r.result.toLowerCase(), ms };
  return { error: r.error ?? { transport: r.transportError }, ms };
}

const EVENTS = new Interface([
  "event TaskSubmitted(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
  "event TaskRejected(address indexed operator, uint32 taskNumber, string proofOfTask, bytes data, uint16 indexed taskDefinitionId, uint256[] attestersIds)",
]);
const TOPICS = [[EVENTS.getEvent("TaskSubmitted").topicHash, EVENTS.getEvent("TaskRejected").topicHash]];

export function l2Provider(state) {
  return new JsonRpcProvider(state.l2[0].rpcUrl, undefined, {
    batchMaxCount: 1,
    staticNetwork: true,
    cacheTimeout: -1,
  });
}

/** The L2's block number, or null when the chain does not answer. */
export async function blockNumber(state) {
  const r = await rpc(state.l2[0].rpcUrl, "eth_blockNumber", [], 2_000);
  return typeof r.result === "string" ? Number(r.result) : null;
}

/**
 * Every verdict event of the devnet's AttestationCenter from `fromBlock` on, user tasks only
 * (internal tasks have definitions from 10001): `{taskHash, status, taskNumber, blockNumber, txHash}`.
 * The task hash is recomputed from the event, as docs/protocol.md defines it.
 */
export async function verdictEvents(state, fromBlock = 0) {
  // a chain that was just restarted (or is loaded) may refuse a read for a moment
  let lastError;
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(250)) {
    try {
      return await readVerdictEvents(state, fromBlock);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function readVerdictEvents(state, fromBlock) {
  const provider = l2Provider(state);
  try {
    const logs = await provider.getLogs({
      address: state.l2[0].attestationCenter,
      topics: TOPICS,
      fromBlock,
    });
    const out = [];
    for (const log of logs) {
      const ev = EVENTS.parseLog(log);
      const def = Number(ev.args.taskDefinitionId);
      if (def >= 10_001) continue;
      out.push({
        // the event's operator is the task's performer (AttestationCenter.sol)
        taskHash: taskHashOf(ev.args.proofOfTask, ev.args.data, ev.args.operator, def),
        performer: ev.args.operator,
        status: ev.name === "TaskSubmitted" ? "approved" : "rejected",
        taskNumber: Number(ev.args.taskNumber),
        blockNumber: log.blockNumber,
        txHash: log.transactionHash.toLowerCase(),
      });
    }
    return out;
  } finally {
    provider.destroy();
  }
}

/** Occurrences per task hash among `events`. */
export function countByHash(events) {
  const m = new Map();
  for (const e of events) m.set(e.taskHash, (m.get(e.taskHash) ?? 0) + 1);
  return m;
}

/** Waits (bounded) until every hash in `hashes` has a verdict event from `fromBlock`; returns the events. */
export async function waitForVerdicts(state, hashes, fromBlock, ms) {
  const want = new Set([...hashes].map((h) => h.toLowerCase()));
  let events = [];
  await waitFor(
    async () => {
      try {
        events = await verdictEvents(state, fromBlock);
      } catch {
        return false;
      }
      const seen = new Set(events.map((e) => e.taskHash));
      return [...want].every((h) => seen.has(h));
    },
    ms,
    250,
  );
  return events;
}

/** The journal's status of one task (avsctl_taskStatus), or `{error}`. */
export async function journalStatus(state, hash) {
  const r = await rpc(state.aggregator.rpcUrl, "avsctl_taskStatus", [hash], 3_000);
  return r.result ?? { error: r.error ?? r.transportError };
}
