// The Ctrl-C row: SIGINT to `devnet up` while it is starting components, in a project of its
// own, once while the chains start and once while the nodes start; afterwards no process of
// that project may be left (read from /proc, not from `up`'s words).
import { avsctl, killProjectProcesses, projectProcesses, tempProject, waitFor } from "./chaos-env.mjs";
import { newRow } from "./chaos-rows.mjs";

/** When to interrupt: a predicate over the project's running processes (the `up` itself excluded). */
const STAGES = [
  { name: "chains starting", ready: (ps) => ps.length >= 3 },
  { name: "nodes starting", ready: (ps) => ps.some((p) => p.component === "aggregator") },
];

async function interruptOnce(stage) {
  const project = tempProject("avsctl-chaos-sigint");
  let child;
  try {
    const run = avsctl(project.dir, ["devnet", "up", "--runtime", "process", "--json"], {
      timeoutMs: 120_000,
      onSpawn: (c) => (child = c),
    });
    let exited = null;
    run.then((r) => (exited = r));
    const running = await waitFor(
      () => {
        if (exited) return "exited";
        const ps = projectProcesses(project.dir).filter((p) => p.pid !== child.pid);
        return stage.ready(ps) ? ps : false;
      },
      60_000,
      20,
    );
    if (!Array.isArray(running)) {
      child.kill("SIGINT");
      const up = await run;
      const why = exited
        ? `up ended first (exit ${up.code}: ${(up.json?.error?.message ?? up.stderr.trim()).slice(0, 200)})`
        : "not within 60 s";
      return {
        pass: false,
        recoverMs: null,
        notes: [`${stage.name}: the moment to interrupt never came: ${why}`],
      };
    }
    const at = Date.now();
    child.kill("SIGINT");
    const up = await run;
    const exitedMs = Date.now() - at;
    const gone = await waitFor(() => projectProcesses(project.dir).length === 0, 15_000, 100);
    const left = projectProcesses(project.dir);
    const said = up.json?.error?.code ?? up.stderr.trim().split("\n").slice(-1)[0]?.slice(0, 160) ?? "";
    const notes = [
      `${stage.name}: interrupted with ${running.length} processes running (${running
        .map((p) => p.component ?? p.command)
        .join(", ")}); up exited ${up.code >= 0 ? up.code : up.signal} ${exitedMs} ms later` +
        (said ? ` saying ${said}` : ""),
    ];
    if (left.length > 0)
      notes.push(
        `${stage.name}: left running 15 s after up exited: ${left
          .map((p) => `${p.component ?? p.command} (pid ${p.pid})`)
          .join(", ")}`,
      );
    const status = await avsctl(project.dir, ["devnet", "status", "--json"], { timeoutMs: 60_000 });
    notes.push(
      `${stage.name}: devnet status afterwards: exit ${status.code} ${status.json?.error?.code ?? ""}`.trim(),
    );
    // SIGKILL is the suite's own bound on `up`: it did not end by itself
    return {
      pass: up.signal !== "SIGKILL" && left.length === 0,
      recoverMs: gone ? Date.now() - at : null,
      notes,
    };
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await avsctl(project.dir, ["devnet", "down", "--volumes", "--json"], { timeoutMs: 60_000 });
    killProjectProcesses(project.dir);
    project.remove();
  }
}

export async function rowSigintUp() {
  const row = newRow("sigint-up", "SIGINT during devnet up");
  const results = [];
  for (const stage of STAGES) results.push(await interruptOnce(stage));
  row.notes = results.flatMap((r) => r.notes);
  row.pass = results.every((r) => r.pass);
  const times = results.map((r) => r.recoverMs);
  row.recoverMs = times.includes(null) ? null : Math.max(...times);
  return row;
}
