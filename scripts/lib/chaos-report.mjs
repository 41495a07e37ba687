// The chaos suite's table: one line per fault, then what was observed for each.

const COLUMNS = [
  ["fault", (r) => r.fault],
  ["sent", (r) => (r.sent ? String(r.sent) : "-")],
  ["on-chain", (r) => (r.sent ? String(r.onChain) : "-")],
  ["lost", (r) => (r.sent ? String(r.lost) : "-")],
  ["duplicated", (r) => (r.sent ? String(r.duplicated) : "-")],
  ["recovered in", (r) => (r.recoverMs === null ? "-" : `${(r.recoverMs / 1000).toFixed(1)} s`)],
  ["verdict", (r) => (r.pass ? "pass" : "FAIL")],
];

export function renderTable(report) {
  const cells = report.rows.map((r) => COLUMNS.map(([, f]) => f(r)));
  const widths = COLUMNS.map(([h], i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (values) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join("  ");
  const out = [line(COLUMNS.map(([h]) => h)), widths.map((w) => "-".repeat(w)).join("  ")];
  for (const c of cells) out.push(line(c));
  out.push("");
  for (const r of report.rows) {
    out.push(`${r.pass ? "pass" : "FAIL"}  ${r.id}`);
    for (const n of r.notes) out.push(`      ${n}`);
  }
  const l = report.ledger;
  if (l) {
    out.push(
      l.error
        ? `FAIL  chain ledger: could not be read (${l.error})`
        : `${l.pass ? "pass" : "FAIL"}  chain ledger: ${l.verdicts} verdicts on the L2; ` +
            `${l.unknown.length} of them for tasks the suite never sent${l.unknown.length ? ` (task numbers ${l.unknown.join(", ")})` : ""}, ` +
            `${l.repeated.length} tasks with more than one verdict`,
    );
  }
  out.push("");
  const failed = report.rows.filter((r) => !r.pass).length;
  out.push(
    `${report.rows.length - failed} of ${report.rows.length} rows pass in ${(report.durationMs / 1000).toFixed(0)} s` +
      (failed > 0 ? `; ${failed} fail` : ""),
  );
  return out.join("\n");
}
