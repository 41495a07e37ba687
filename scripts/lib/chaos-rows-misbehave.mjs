// The rows where something around the devnet misbehaves: the validation service every attester
// calls, and the network between a client and the aggregator.
import { chainFacts, rowStartBlock } from "./chaos-devnet.mjs";
import { journalStatus, sendTask, waitFor, waitForVerdicts } from "./chaos-env.mjs";
import { applyChain, burst, describeRefusals, newRow, OPEN, tasksFor } from "./chaos-rows.mjs";
import { startFaultProxy } from "./chaos-servers.mjs";

const FAULT_LABEL = { garbage: "answers garbage", slow: "answers slowly (11 s)", 500: "answers HTTP 500" };

async function validationRow(ctx, mode, from) {
  const row = newRow(`validation-${mode}`, `validation service ${FAULT_LABEL[mode]}`);
  const tasks = tasksFor(ctx, row, 5, { chaos: mode });
  const sentAt = Date.now();
  const sends = await Promise.all(tasks.map((t) => sendTask(ctx.state, t.params)));
  const refused = sends.filter((s) => s.error);
  if (refused.length > 0) row.notes.push(`sendTask refused ${describeRefusals(sends)}`);
  const ends = await Promise.all(
    tasks.map(async (t, i) => {
      if (sends[i].error) return { status: "refused" };
      let last;
      const ended = await waitFor(
        async () => {
          last = await journalStatus(ctx.state, t.hash);
          return last.status && !OPEN.has(last.status) ? last : false;
        },
        45_000,
        200,
      );
      return { ...(ended || { status: `still ${last?.status ?? "unknown"}` }), ms: Date.now() - sentAt };
    }),
  );
  const statuses = new Map();
  for (const e of ends) statuses.set(e.status, (statuses.get(e.status) ?? 0) + 1);
  const abstained = ends.map((e) => e.reason?.abstained?.length).filter((n) => typeof n === "number");
  const asked = tasks.filter((t) => (ctx.validation.calls.get(t.params[0]) ?? 0) > 0).length;
  row.notes.push(
    `journal: ${[...statuses].map(([s, n]) => `${n}x ${s}`).join(", ")} after at most ` +
      `${Math.max(...ends.map((e) => e.ms ?? 0))} ms; service asked for ${asked} of 5` +
      (abstained.length > 0 ? `; abstentions in the reason: ${abstained.join(",")}` : ""),
  );
  // the attesters still approve good tasks afterwards
  const good = tasksFor(ctx, row, 2);
  const goodSends = await Promise.all(good.map((t) => sendTask(ctx.state, t.params)));
  await waitForVerdicts(
    ctx.state,
    good.filter((_, i) => !goodSends[i].error).map((t) => t.hash),
    from,
    30_000,
  );
  const facts = await chainFacts(ctx, from, {
    expected: good.map((t) => t.hash),
    forbidden: tasks.map((t) => t.hash),
  });
  row.sent = tasks.length + good.length;
  applyChain(row, facts);
  if (facts.landedForbidden.length > 0)
    row.notes.push(`${facts.landedForbidden.length} faulty-validation task(s) reached the chain`);
  if (facts.approved < good.length) row.notes.push(`${facts.approved} of 2 good tasks approved afterwards`);
  row.pass =
    refused.length === 0 &&
    ends.every((e) => e.status === "unreachable" || e.status === "timeout") &&
    asked === tasks.length &&
    facts.landedForbidden.length === 0 &&
    facts.approved === good.length &&
    facts.lost === 0 &&
    facts.duplicated === 0;
  return row;
}

/** The three validation faults run side by side: each task names its fault in its data. */
export async function rowsValidation(ctx) {
  const from = await rowStartBlock(ctx);
  return Promise.all(["garbage", "slow", "500"].map((m) => validationRow(ctx, m, from)));
}

export async function rowClientTimeouts(ctx) {
  const row = newRow("client-timeouts", "sendTask timeouts forced on the client");
  const from = await rowStartBlock(ctx);
  const proxy = await startFaultProxy(ctx.state.aggregator.rpcUrl);
  const total = 30;
  let b;
  try {
    b = await burst(ctx, total, { concurrency: 10, timeoutS: 60, aggregator: proxy.url });
  } finally {
    await proxy.stop();
  }
  if (b.problem) row.notes.push(`task send: ${b.problem}`);
  await waitForVerdicts(ctx.state, b.accepted, from, 30_000);
  const facts = await chainFacts(ctx, from, { expected: b.accepted });
  applyChain(row, facts);
  row.sent = total;
  const s = proxy.stats;
  row.notes.push(
    `proxy: ${s.dropped} connections cut after the aggregator took the task, ${s.held} answers withheld ` +
      `(${s.gaveUp} until the client timed out), ${s.retries} re-sends of a task already sent, ` +
      `${proxy.distinct()} distinct tasks`,
  );
  if (proxy.distinct() > total) row.notes.push(`the client built ${proxy.distinct() - total} extra task(s)`);
  row.pass =
    s.dropped > 0 &&
    s.gaveUp > 0 &&
    s.retries >= s.dropped + s.gaveUp &&
    proxy.distinct() === total &&
    b.accepted.length === total &&
    facts.approved === total &&
    facts.lost === 0 &&
    facts.duplicated === 0;
  return row;
}
