// The hostile-input row: malformed and oversized JSON-RPC requests and forged, replayed and
// wrong-performer tasks, generated with fast-check. Every one must be refused with a code of
// docs/protocol.md's table (its data.reason naming it), and nothing forged may reach the chain.
import { randomBytes } from "node:crypto";
import { Wallet } from "ethers";
import fc from "fast-check";
import { chainFacts, rowStartBlock } from "./chaos-devnet.mjs";
import { isAlive, postRaw, rpc, runRecord, signedTask, waitForVerdicts } from "./chaos-env.mjs";
import { newRow } from "./chaos-rows.mjs";

/** docs/protocol.md, JSON-RPC errors (-32023 is issue 18's refusal while too little power is connected). */
export const DOCUMENTED = {
  "-32700": "PARSE_ERROR",
  "-32600": "INVALID_REQUEST",
  "-32601": "METHOD_NOT_FOUND",
  "-32602": "INVALID_PARAMS",
  "-32001": "PAYLOAD_TOO_LARGE",
  "-32002": "BATCH_TOO_LARGE",
  "-32003": "OVERLOADED",
  "-32010": "INVALID_SIGNATURE",
  "-32011": "PERFORMER_NOT_ACTIVE",
  "-32012": "TASK_DEFINITION_NOT_FOUND",
  "-32013": "TASK_DEFINITION_EXPIRED",
  "-32014": "INSUFFICIENT_VOTING_POWER",
  "-32015": "RESTRICTED_OPERATOR",
  "-32016": "UNKNOWN_CHAIN",
  "-32017": "NO_ELIGIBLE_ATTESTERS",
  "-32018": "METHOD_DISABLED",
  "-32019": "TASK_NOT_FOUND",
  "-32020": "CHAIN_UNAVAILABLE",
  "-32021": "TASK_ALREADY_SUBMITTED",
  "-32022": "TASK_KNOWN",
  "-32023": "INSUFFICIENT_CONNECTED_POWER",
};

const KNOWN_METHODS = [
  "sendTask",
  "eth_chainId",
  "net_version",
  "sendCustomMessage",
  "healthcheck",
  "avsctl_taskStatus",
  "avsctl_syncVotingPower",
];

const MIB = 1024 * 1024;

/**
 * Whether an answer is a clear refusal: JSON-RPC error(s) only, each with a documented code
 * (never -32603, a bug), a message and `data.reason` naming the code; `allowed` narrows the codes.
 * `pick` chooses which replies of a batch are judged.
 */
export function judge(answer, { allowed, pick = (r) => r } = {}) {
  if (answer.transportError) return { ok: false, why: `no answer (${answer.transportError})` };
  if (answer.json === undefined)
    return { ok: false, why: `HTTP ${answer.status}, body not JSON: ${answer.text.slice(0, 80)}` };
  const replies = pick(Array.isArray(answer.json) ? answer.json : [answer.json]);
  if (replies.length === 0) return { ok: false, why: `HTTP ${answer.status}, no reply to judge` };
  for (const r of replies) {
    if (!r?.error) return { ok: false, why: `accepted: ${JSON.stringify(r).slice(0, 120)}` };
    const { code, message, data } = r.error;
    const name = DOCUMENTED[String(code)];
    if (!name || code === -32603) return { ok: false, why: `undocumented code ${code}: ${message}` };
    if (allowed && !allowed.includes(code))
      return { ok: false, why: `code ${code} ${name}, expected ${allowed}` };
    if (typeof message !== "string" || message.length === 0)
      return { ok: false, why: `code ${code} without message` };
    if (data?.reason !== name)
      return {
        ok: false,
        why: `code ${code} with data.reason ${JSON.stringify(data?.reason)}, expected ${name}`,
      };
  }
  return { ok: true, codes: replies.map((r) => r.error.code) };
}

const envelope = (method, params, id = 1) => JSON.stringify({ jsonrpc: "2.0", id, method, params });

/** A value that could make a mutated task valid again (the same definition id, written otherwise). */
const sameDefinition = (v) => v === 1 || (typeof v === "string" && /^(0x0*1|0*1)$/i.test(v.trim()));

export async function rowFuzz(ctx) {
  const row = newRow("hostile-input", "malformed, oversized and forged requests");
  const url = ctx.state.aggregator.rpcUrl;
  const key = ctx.state.performer.privateKey;
  const performer = ctx.state.performer.address;
  const seed = Number(process.env.CHAOS_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const from = await rowStartBlock(ctx);
  const aggregatorPid = runRecord(ctx.project.dir, "aggregator")?.pid;
  const fresh = () => signedTask({ payload: { fuzz: randomBytes(8).toString("hex") }, signerKey: key });
  const forgedHashes = [];

  // The task every replay repeats: sent once, and it must land once.
  const base = fresh();
  ctx.known.add(base.hash);
  const baseSend = await rpc(url, "sendTask", base.params, 10_000);
  await waitForVerdicts(ctx.state, [base.hash], from, 30_000);

  const categories = [
    {
      name: "malformed bodies",
      runs: 400,
      arb: fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: "binary", maxLength: 200 }),
        fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
        fc.nat({ max: 200 }).map((n) => envelope("sendTask", base.params).slice(0, n)),
      ),
      send: (body) => postRaw(url, body),
      allowed: undefined,
    },
    {
      name: "malformed params",
      runs: 400,
      arb: fc.oneof(
        fc.record({
          method: fc.constantFrom("sendTask", "avsctl_taskStatus"),
          params: fc.oneof(
            fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 8 }),
            fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 1 })),
            fc.jsonValue({ maxDepth: 1 }),
          ),
        }),
        // a real task with one parameter replaced by junk
        fc
          .record({ at: fc.nat({ max: 4 }), junk: fc.jsonValue({ maxDepth: 2 }) })
          .filter(({ at, junk }) => !(at === 2 && sameDefinition(junk)))
          .map(({ at, junk }) => {
            const params = [...fresh().params];
            params[at] = junk;
            return { method: "sendTask", params };
          }),
      ),
      send: ({ method, params }) => postRaw(url, envelope(method, params)),
      allowed: undefined,
    },
    {
      name: "unknown methods",
      runs: 160,
      arb: fc.record({
        method: fc.string({ maxLength: 40 }).filter((m) => !KNOWN_METHODS.includes(m)),
        params: fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }),
      }),
      send: ({ method, params }) => postRaw(url, envelope(method, params)),
      allowed: undefined,
    },
    {
      name: "oversized",
      runs: 40,
      arb: fc.oneof(
        fc.integer({ min: MIB + 1, max: MIB + 300_000 }).map((n) => ({ kind: "body", n })),
        fc.integer({ min: 16 * 1024 + 1, max: 40_000 }).map((n) => ({ kind: "proof", n })),
        fc.integer({ min: 64 * 1024 + 1, max: 90_000 }).map((n) => ({ kind: "data", n })),
        fc.integer({ min: 101, max: 150 }).map((n) => ({ kind: "batch", n })),
      ),
      send: ({ kind, n }) => {
        if (kind === "body")
          return postRaw(url, envelope("sendTask", ["x".repeat(n), "0x", 1, performer, "0x"]));
        if (kind === "batch")
          return postRaw(
            url,
            JSON.stringify(
              Array.from({ length: n }, (_, i) => ({ jsonrpc: "2.0", id: i, method: "eth_chainId" })),
            ),
          );
        const t =
          kind === "proof"
            ? signedTask({ payload: "oversized proof", proof: "p".repeat(n), signerKey: key })
            : signedTask({ payload: "d".repeat(n), signerKey: key });
        forgedHashes.push(t.hash);
        return postRaw(url, envelope("sendTask", t.params));
      },
      allowed: [-32001, -32002, -32602],
    },
    {
      name: "forged and wrong-performer tasks",
      runs: 150,
      arb: fc.record({
        payload: fc.string({ maxLength: 64 }),
        mode: fc.constantFrom(
          "signed-by-another-key",
          "data-changed-after-signing",
          "proof-changed-after-signing",
          "names-another-performer",
          "unregistered-performer",
          "random-signature",
          "bls-junk",
        ),
      }),
      send: ({ payload, mode }) => {
        const stranger = Wallet.createRandom().privateKey;
        const p = { payload: `${payload}|${randomBytes(4).toString("hex")}` };
        let t;
        if (mode === "signed-by-another-key") t = signedTask({ ...p, signerKey: stranger, performer });
        else if (mode === "unregistered-performer") t = signedTask({ ...p, signerKey: stranger });
        else if (mode === "names-another-performer")
          t = signedTask({ ...p, signerKey: key, performer: new Wallet(stranger).address });
        else {
          t = signedTask({ ...p, signerKey: key });
          t = { ...t, params: [...t.params] };
          if (mode === "data-changed-after-signing") t.params[1] = `${t.params[1]}00`;
          if (mode === "proof-changed-after-signing") t.params[0] = `${t.params[0]}x`;
          if (mode === "random-signature") t.params[4] = `0x${randomBytes(65).toString("hex")}`;
          if (mode === "bls-junk") t.params = [...t.params.slice(0, 4), '{"x":"1","y":"2"}', "bls"];
        }
        forgedHashes.push(t.hash);
        return postRaw(url, envelope("sendTask", t.params));
      },
      allowed: [-32010, -32011, -32602],
    },
    {
      name: "replayed tasks",
      runs: 50,
      arb: fc.constantFrom(
        "same",
        "batch",
        "object-params",
        "lowercase-performer",
        "explicit-ecdsa",
        "explicit-chain",
      ),
      send: (mode) => {
        const [proofOfTask, data, def, perf, signature] = base.params;
        if (mode === "object-params")
          return postRaw(
            url,
            envelope("sendTask", {
              proofOfTask,
              data,
              taskDefinitionId: def,
              performerAddress: perf,
              signature,
            }),
          );
        if (mode === "batch")
          return postRaw(
            url,
            JSON.stringify([
              { jsonrpc: "2.0", id: 1, method: "eth_chainId", params: [] },
              { jsonrpc: "2.0", id: 2, method: "sendTask", params: base.params },
            ]),
          );
        const params = [...base.params];
        if (mode === "lowercase-performer") params[3] = perf.toLowerCase();
        if (mode === "explicit-ecdsa") params.push("ecdsa");
        if (mode === "explicit-chain") params.push("ecdsa", ctx.state.l2[0].chainId);
        return postRaw(url, envelope("sendTask", params));
      },
      allowed: [-32022],
      // in the batch only sendTask's reply (id 2) is a replay; eth_chainId beside it is answered
      pick: (replies) => (replies.length > 1 ? replies.filter((r) => r?.id === 2) : replies),
    },
  ];

  let requests = 0;
  const outcomes = [];
  for (const c of categories) {
    let lastWhy = null;
    const codes = new Map();
    const property = fc.asyncProperty(c.arb, async (input) => {
      requests++;
      const verdict = judge(await c.send(input), { allowed: c.allowed, pick: c.pick });
      if (!verdict.ok) {
        lastWhy = verdict.why;
        return false;
      }
      for (const code of verdict.codes) codes.set(code, (codes.get(code) ?? 0) + 1);
      return true;
    });
    const details = await fc.check(property, {
      numRuns: c.runs,
      seed,
      interruptAfterTimeLimit: 60_000,
      markInterruptAsFailure: true,
    });
    const example = details.counterexample ? JSON.stringify(details.counterexample[0]).slice(0, 160) : null;
    outcomes.push({
      ...c,
      failed: details.failed,
      interrupted: details.interrupted,
      lastWhy,
      example,
      codes,
    });
  }

  const alive = isAlive(aggregatorPid) && runRecord(ctx.project.dir, "aggregator")?.pid === aggregatorPid;
  const health = await rpc(url, "healthcheck", [], 3_000);
  const facts = await chainFacts(ctx, from, { expected: [base.hash], forbidden: forgedHashes });
  row.sent = requests;
  row.onChain = facts.onChain + facts.landedForbidden.length;
  row.lost = facts.lost;
  row.duplicated = facts.duplicated;
  for (const o of outcomes) {
    const codes = [...o.codes].map(([code, n]) => `${n}x ${DOCUMENTED[String(code)]}`).join(", ");
    row.notes.push(
      o.failed
        ? `${o.name}: FAILED${o.interrupted ? " (time bound hit)" : ""}: ${o.lastWhy}; counterexample ${o.example}`
        : `${o.name}: ${o.runs} refused (${codes})`,
    );
  }
  if (typeof baseSend.result !== "string")
    row.notes.push(`the replayed task was not accepted: ${JSON.stringify(baseSend)}`);
  if (facts.landedForbidden.length > 0)
    row.notes.push(`${facts.landedForbidden.length} forged task(s) on-chain`);
  if (facts.unknown.length > 0)
    row.notes.push(`${facts.unknown.length} task(s) on-chain the suite never sent`);
  if (!alive) row.notes.push("the aggregator process did not survive the input");
  if (!health.result?.healthy)
    row.notes.push(`aggregator healthcheck afterwards: ${JSON.stringify(health).slice(0, 160)}`);
  row.notes.push(`fast-check seed ${seed} (CHAOS_SEED=${seed} repeats it)`);
  row.pass =
    outcomes.every((o) => !o.failed) &&
    typeof baseSend.result === "string" &&
    facts.onChain === 1 &&
    facts.landedForbidden.length === 0 &&
    facts.duplicated === 0 &&
    alive &&
    health.result?.healthy === true;
  return row;
}
