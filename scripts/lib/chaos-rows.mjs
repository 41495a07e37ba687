// The suite's fault rows that kill components of the running devnet, and what every row shares. Each row
// returns {id, fault, sent, onChain, lost, duplicated, recoverMs, pass, notes}; its verdict is
// judged from the chain's events, the aggregator's journal and the process table.
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import {
  chainFacts,
  heal,
  restartBaseline,
  rowStartBlock,
  settle,
  waitForAutoRestart,
} from "./chaos-devnet.mjs";
import {
  avsctl,
  connectedAttesters,
  journalStatus,
  killComponent,
  l2Provider,
  runRecord,
  sendTask,
  signedTask,
  verdictEvents,
  waitFor,
  waitForVerdicts,
} from "./chaos-env.mjs";

export function newRow(id, fault) {
  return { id, fault, sent: 0, onChain: 0, lost: 0, duplicated: 0, recoverMs: null, pass: false, notes: [] };
}

/** A journal status a task keeps once the aggregator has decided what became of it. */
export const OPEN = new Set(["pending", "submitting"]);

/** How quickly a doomed task must be reported to count as "at once": far below the 30 s task timeout. */
export const AT_ONCE_MS = 5_000;

export function applyChain(row, facts) {
  row.onChain = facts.onChain;
  row.lost = facts.lost;
  row.duplicated = facts.duplicated;
  if (facts.unknown.length > 0)
    row.notes.push(
      `${facts.unknown.length} task(s) on-chain that the suite never sent (task numbers ${facts.unknown
        .map((e) => e.taskNumber)
        .join(", ")})`,
    );
  if (facts.lost > 0) row.notes.push(`${facts.lost} accepted task(s) never reached the chain`);
}

/** Fresh tasks signed as the devnet's performer, valid by the sample rule unless `payload` says otherwise. */
export function tasksFor(ctx, row, n, extra = {}) {
  const tasks = Array.from({ length: n }, (_, i) =>
    signedTask({
      payload: { row: row.id, i, nonce: randomBytes(6).toString("hex"), ...extra },
      signerKey: ctx.state.performer.privateKey,
    }),
  );
  for (const t of tasks) ctx.known.add(t.hash);
  return tasks;
}

/** `task send --count` as a user runs it; its accepted hashes join the suite's known set. */
export async function burst(ctx, count, { concurrency = 5, timeoutS = 60, rate, aggregator, onSpawn } = {}) {
  const args = [
    "task",
    "send",
    "--via",
    "rpc",
    "--count",
    String(count),
    "--concurrency",
    String(concurrency),
  ];
  args.push("--wait", "--timeout", String(timeoutS), "--json");
  if (rate) args.push("--rate", String(rate));
  if (aggregator) args.push("--aggregator", aggregator);
  const r = await avsctl(ctx.project.dir, args, { timeoutMs: (timeoutS + 60) * 1000, onSpawn });
  const results = r.json?.results ?? [];
  const accepted = [...new Set(results.filter((x) => x.taskHash).map((x) => x.taskHash.toLowerCase()))];
  for (const h of accepted) ctx.known.add(h);
  const failed = results.filter((x) => !x.taskHash);
  const problem =
    r.json?.error?.message ??
    (results.length === 0 ? `no results (exit ${r.code}): ${r.stderr.slice(-300)}` : null);
  return { code: r.code, summary: r.json, accepted, failed, problem };
}

export function describeRefusals(sends) {
  const byReason = new Map();
  for (const s of sends.filter((x) => x.error)) {
    const key = s.error.data?.reason ?? s.error.code ?? s.error.transport ?? "?";
    byReason.set(key, (byReason.get(key) ?? 0) + 1);
  }
  return [...byReason].map(([k, n]) => `${n}x ${k}`).join(", ");
}

/** After a fault the devnet did not recover from by itself: the manual steps, so later rows run. */
async function healAfter(ctx, row) {
  const steps = await heal(ctx);
  if (steps.length > 0) row.notes.push(`manual recovery for the next rows: ${steps.join("; ")}`);
}

function noteRecovery(row, killedWhat, rec) {
  if (rec.ms !== null) {
    const r = Object.entries(rec.restarts ?? {});
    row.notes.push(
      `${killedWhat} back by itself after ${rec.ms} ms` +
        (r.length > 0 ? ` (status restarts: ${r.map(([n, c]) => `${n}=${c}`).join(", ")})` : ""),
    );
  } else {
    row.notes.push(
      `${killedWhat} not back by itself within the bound: ${Object.entries(rec.seen ?? {})
        .map(([n, s]) => `${n} ${s}`)
        .join("; ")}`,
    );
  }
}

export async function rowOneAttester(ctx) {
  const row = newRow("attester-1-of-3", "1 of 3 attesters killed");
  const from = await rowStartBlock(ctx);
  const tasks = tasksFor(ctx, row, 20);
  const baseline = await restartBaseline(ctx, ["attester-1"]);
  const since = Date.now();
  const pid = killComponent(ctx.project.dir, "attester-1");
  if (!pid) row.notes.push("attester-1 was not running before the fault");
  const connected = await waitFor(
    async () => {
      const n = await connectedAttesters(ctx.state);
      return n !== null && n <= 2 ? `${n}` : false;
    },
    5_000,
    20,
  );
  const sends = await Promise.all(tasks.map((t) => sendTask(ctx.state, t.params)));
  row.sent = tasks.length;
  row.notes.push(
    connected
      ? `20 tasks sent while the aggregator counted ${connected} attesters connected`
      : "the aggregator still counted 3 attesters 5 s after the kill",
  );
  const refused = sends.filter((s) => s.error);
  if (refused.length > 0) row.notes.push(`sendTask refused ${describeRefusals(sends)}`);
  const accepted = tasks.filter((_, i) => !sends[i].error).map((t) => t.hash);
  await waitForVerdicts(ctx.state, accepted, from, 60_000);
  const facts = await chainFacts(ctx, from, { expected: tasks.map((t) => t.hash) });
  applyChain(row, facts);
  if (facts.approved < tasks.length) row.notes.push(`${facts.approved} of ${tasks.length} approved on-chain`);
  const rec = await waitForAutoRestart(ctx, { "attester-1": pid }, since, baseline);
  row.recoverMs = rec.ms;
  noteRecovery(row, "attester-1", rec);
  row.pass =
    Boolean(pid && connected) &&
    refused.length === 0 &&
    facts.approved === tasks.length &&
    facts.lost === 0 &&
    facts.duplicated === 0 &&
    rec.ms !== null;
  if (rec.ms === null) await healAfter(ctx, row);
  return row;
}

/**
 * What became of a task that can no longer reach a threshold: refused at intake
 * (`INSUFFICIENT_CONNECTED_POWER`), or ended `unreachable` by the journal; "at once" when that
 * came within AT_ONCE_MS of `t0`.
 */
async function followDoomed(ctx, task, send, t0) {
  if (send.error) {
    const reason = send.error.data?.reason ?? String(send.error.code ?? send.error.transport);
    return { kind: `refused ${reason}`, ms: send.ms, atOnce: reason === "INSUFFICIENT_CONNECTED_POWER" };
  }
  let last;
  const ended = await waitFor(
    async () => {
      last = await journalStatus(ctx.state, task.hash);
      return last.status && !OPEN.has(last.status) ? last : false;
    },
    40_000,
    100,
  );
  const ms = Date.now() - t0;
  if (!ended) return { kind: `still ${last?.status ?? "unknown"} after 40 s`, ms, atOnce: false };
  const r = ended.reason;
  const why = r?.connectedPower ? ` (connected ${r.connectedPower} of required ${r.requiredPower})` : "";
  return { kind: `${ended.status}${why}`, ms, atOnce: ended.status === "unreachable" && ms <= AT_ONCE_MS };
}

function describeDoomed(what, outcomes) {
  const kinds = new Map();
  for (const o of outcomes) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
  const slowest = Math.max(...outcomes.map((o) => o.ms));
  return `${what}: ${[...kinds].map(([k, n]) => `${n}x ${k}`).join(", ")}; slowest after ${slowest} ms`;
}

/**
 * The aggregator does not hold missing attesters against tasks for its first seconds (they may
 * still be dialing in: JOIN_GRACE_MS of src/node/aggregator/reachability.ts); a row about missing
 * attesters starts after that.
 */
const JOIN_GRACE_MS = 5_000;

async function pastJoinGrace(ctx) {
  const startedAt = Date.parse(runRecord(ctx.project.dir, "aggregator")?.startedAt ?? "");
  // its start time is the process's; it listens a moment later
  const wait = startedAt + JOIN_GRACE_MS + 2_000 - Date.now();
  if (wait > 0) await sleep(Math.min(wait, JOIN_GRACE_MS + 2_000));
}

export async function rowTwoAttesters(ctx) {
  const row = newRow("attesters-2-of-3", "2 of 3 attesters killed");
  await pastJoinGrace(ctx);
  const from = await rowStartBlock(ctx);
  const baseline = await restartBaseline(ctx, ["attester-1", "attester-2"]);
  const doomed = tasksFor(ctx, row, 10);
  const since = Date.now();
  const pids = {
    "attester-1": killComponent(ctx.project.dir, "attester-1"),
    "attester-2": killComponent(ctx.project.dir, "attester-2"),
  };
  const connected = await waitFor(
    async () => {
      const n = await connectedAttesters(ctx.state);
      return n !== null && n <= 1 ? `${n}` : false;
    },
    5_000,
    20,
  );
  row.notes.push(
    connected
      ? `10 tasks sent while the aggregator counted ${connected} attester(s) connected`
      : "the aggregator still counted 2+ attesters 5 s after the kills",
  );
  const sentAt = Date.now();
  const sends = await Promise.all(doomed.map((t) => sendTask(ctx.state, t.params)));
  // Each must be reported at once: refused at intake, or ended unreachable. (A task already in
  // flight at the kill is not doomed: the one attester left may still reject it.)
  const outcomes = await Promise.all(doomed.map((t, i) => followDoomed(ctx, t, sends[i], sentAt)));
  row.notes.push(describeDoomed("doomed tasks", outcomes));
  const atOnce = outcomes.every((o) => o.atOnce);
  if (!atOnce)
    row.notes.push(`not all reported at once (each within ${AT_ONCE_MS} ms: refused, or unreachable)`);

  const rec = await waitForAutoRestart(ctx, pids, since, baseline);
  row.recoverMs = rec.ms;
  noteRecovery(row, "attester-1 and attester-2", rec);
  if (rec.ms === null) await healAfter(ctx, row);
  // After recovery the network approves again
  const b = await burst(ctx, 10, { concurrency: 5, timeoutS: 60 });
  if (b.problem) row.notes.push(`after recovery: ${b.problem}`);
  const facts = await chainFacts(ctx, from, {
    expected: b.accepted,
    forbidden: doomed.map((t) => t.hash),
  });
  applyChain(row, facts);
  row.sent = doomed.length + 10;
  if (facts.landedForbidden.length > 0)
    row.notes.push(`${facts.landedForbidden.length} doomed task(s) reached the chain anyway`);
  row.notes.push(`after recovery: ${facts.approved} of 10 tasks approved on-chain`);
  row.pass =
    Boolean(pids["attester-1"] && pids["attester-2"]) &&
    atOnce &&
    facts.landedForbidden.length === 0 &&
    rec.ms !== null &&
    b.accepted.length === 10 &&
    facts.approved === 10 &&
    facts.lost === 0 &&
    facts.duplicated === 0;
  return row;
}

export async function rowAggregatorKill(ctx) {
  const row = newRow("aggregator-kill", "aggregator SIGKILLed mid-burst");
  const from = await rowStartBlock(ctx);
  const total = 40;
  const baseline = await restartBaseline(ctx, ["aggregator"]);
  const run = burst(ctx, total, { concurrency: 4, rate: 15, timeoutS: 90 });
  const landed = await waitFor(
    async () => {
      const ev = await verdictEvents(ctx.state, from).catch(() => []);
      return ev.length >= 10 ? ev.length : false;
    },
    30_000,
    50,
  );
  const since = Date.now();
  const pid = killComponent(ctx.project.dir, "aggregator");
  row.notes.push(
    pid
      ? `aggregator SIGKILLed with ${landed ?? "fewer than 10"} of ${total} tasks on-chain`
      : "no aggregator to kill",
  );
  const rec = await waitForAutoRestart(ctx, { aggregator: pid }, since, baseline);
  row.recoverMs = rec.ms;
  noteRecovery(row, "the aggregator", rec);
  if (rec.ms === null) await healAfter(ctx, row);
  const b = await run;
  row.sent = total;
  if (b.problem) row.notes.push(`task send: ${b.problem}`);
  if (b.failed.length > 0) row.notes.push(`${b.failed.length} send(s) never accepted: ${b.failed[0].error}`);
  await waitForVerdicts(ctx.state, b.accepted, from, 30_000);
  const facts = await chainFacts(ctx, from, { expected: b.accepted });
  applyChain(row, facts);
  row.notes.push(`${b.accepted.length} accepted, ${facts.onChain} of them on-chain`);
  row.pass =
    Boolean(pid && landed) &&
    rec.ms !== null &&
    b.accepted.length === total &&
    facts.lost === 0 &&
    facts.duplicated === 0;
  return row;
}

async function codeAt(ctx) {
  const p = l2Provider(ctx.state);
  try {
    return await p.getCode(ctx.state.l2[0].attestationCenter);
  } catch {
    return null;
  } finally {
    p.destroy();
  }
}

/**
 * Verdicts a client was told of that the chain does not hold by the same transaction: each
 * `{taskHash, txHash, now}` where `now` is the chain's transaction for the task (null: none).
 */
function verdictsNotKept(told, events) {
  const onChain = new Map(events.map((e) => [e.taskHash, e.txHash]));
  return told
    .filter((t) => onChain.get(t.taskHash) !== t.txHash)
    .map((t) => ({ taskHash: t.taskHash, txHash: t.txHash, now: onChain.get(t.taskHash) ?? null }));
}

/**
 * Sends `tasks` one every `everyMs` as a client would, each until the aggregator has it: a send
 * it did not answer (restarting) or refused for a moment goes again, and `TASK_KNOWN` means it
 * was taken. Resolves with the hashes taken.
 */
async function paced(ctx, tasks, everyMs) {
  const one = async (task) => {
    for (let attempt = 0; attempt < 60; attempt++) {
      const r = await sendTask(ctx.state, task.params);
      if (r.hash || r.error?.data?.reason === "TASK_KNOWN") return task.hash;
      await sleep(500);
    }
    return null;
  };
  const sends = [];
  for (const task of tasks) {
    sends.push(one(task));
    await sleep(everyMs);
  }
  return (await Promise.all(sends)).filter(Boolean);
}

export async function rowL2Kill(ctx) {
  const row = newRow("l2-kill", "L2 anvil SIGKILLed mid-burst, right after verdicts were mined");
  await settle();
  const before = await verdictEvents(ctx.state, 0);
  const baseline = await restartBaseline(ctx, ["l2-1"]);
  const from = await rowStartBlock(ctx);
  // Verdicts mined less than a second before the kill are not in the chain's state file yet: the
  // chain comes back without them, while a client watching the chain has seen them.
  const total = 30;
  const tasks = tasksFor(ctx, row, total);
  const run = paced(ctx, tasks, 100);
  const seen = await waitFor(
    async () => {
      const ev = await verdictEvents(ctx.state, from).catch(() => []);
      return ev.length >= 8 ? ev : false;
    },
    30_000,
    50,
  );
  const since = Date.now();
  const pid = killComponent(ctx.project.dir, "l2-1");
  if (!pid) row.notes.push("l2-1 was not running before the fault");
  const told = (seen ?? []).map((e) => ({ taskHash: e.taskHash, txHash: e.txHash }));
  row.notes.push(`l2-1 SIGKILLed with ${told.length} of ${total} verdicts seen on-chain`);
  const rec = await waitForAutoRestart(ctx, { "l2-1": pid }, since, baseline);
  row.recoverMs = rec.ms;
  noteRecovery(row, "l2-1", rec);
  if (rec.ms === null) await healAfter(ctx, row);
  const code = await codeAt(ctx);
  const accepted = await run;
  if (accepted.length < total)
    row.notes.push(`${total - accepted.length} task(s) never taken by the aggregator`);
  await waitForVerdicts(ctx.state, accepted, from, 30_000);
  // Every verdict seen before the kill must be on the chain after the recovery, by the same transaction.
  let notKept = [];
  await waitFor(
    async () => {
      const ev = await verdictEvents(ctx.state, 0).catch(() => null);
      if (!ev) return false;
      notKept = verdictsNotKept(told, ev);
      return notKept.length === 0;
    },
    30_000,
    250,
  );
  const after = await verdictEvents(ctx.state, 0).catch(() => []);
  const kept = new Set(after.map((e) => e.taskHash));
  const keptCount = before.filter((e) => kept.has(e.taskHash)).length;
  const stateKept = typeof code === "string" && code.length > 2 && keptCount === before.length;
  row.notes.push(
    `after the restart: AttestationCenter code ${code && code.length > 2 ? "present" : "missing"}, ` +
      `${keptCount} of ${before.length} verdicts from before the row kept, ` +
      `${told.length - notKept.length} of ${told.length} seen before the kill kept by the same transaction`,
  );
  for (const t of notKept.slice(0, 5))
    row.notes.push(`seen ${t.taskHash} by ${t.txHash}; the chain now has ${t.now ?? "no verdict"}`);
  const during = await chainFacts(ctx, from, { expected: accepted });
  applyChain(row, during);
  const from2 = await rowStartBlock(ctx);
  const b = await burst(ctx, 20, { concurrency: 5, timeoutS: 60 });
  if (b.problem) row.notes.push(`nodes after the restart: ${b.problem}`);
  const facts = await chainFacts(ctx, from2, { expected: b.accepted });
  row.sent = total + 20;
  row.onChain += facts.onChain;
  row.lost += facts.lost;
  row.duplicated += facts.duplicated;
  row.notes.push(`after the restart: ${facts.approved} of 20 tasks approved on-chain`);
  row.pass =
    Boolean(pid && seen) &&
    rec.ms !== null &&
    stateKept &&
    notKept.length === 0 &&
    accepted.length === total &&
    during.lost === 0 &&
    during.duplicated === 0 &&
    b.accepted.length === 20 &&
    facts.approved === 20 &&
    facts.lost === 0 &&
    facts.duplicated === 0;
  return row;
}
