/**
 * What the `devnet watch` journeys share (test/e2e/devnet/watch.test.ts, and the Docker reload
 * step of test/e2e/init/templates-docker.test.ts): a long-running `avsctl … --json` read as one
 * JSON event per line, and each template language's validation rule made to reject everything
 * as a developer would edit it.
 */
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { expect } from "vitest";
import { binPath } from "./cli.js";

/** A long-running `avsctl … --json` whose stdout is one JSON object per line. */
export class Watcher {
  readonly events: any[] = [];
  stderr = "";
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<number | null>;

  constructor(args: string[], cwd: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [binPath, ...args], {
      cwd,
      env: { ...process.env, ...env, NO_COLOR: "1" },
    });
    let partial = "";
    this.child.stdout.on("data", (chunk) => {
      partial += chunk;
      const lines = partial.split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines.filter((l) => l.trim() !== "")) this.events.push(JSON.parse(line));
      for (const wake of this.waiters) wake();
    });
    this.child.stderr.on("data", (chunk) => (this.stderr += chunk));
    this.exited = new Promise((resolve) => this.child.on("close", resolve));
    void this.exited.then(() => {
      for (const wake of this.waiters) wake();
    });
  }

  /** The first event from `from` on that matches, waited for up to `timeoutMs`. */
  async next(match: (e: any) => boolean, timeoutMs: number, from = 0): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events.slice(from).find(match);
      if (found) return found;
      if (this.child.exitCode !== null || Date.now() > deadline) {
        throw new Error(`no such event; got ${JSON.stringify(this.events)}\nstderr: ${this.stderr}`);
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(wake, Math.max(0, deadline - Date.now()) + 10);
        this.waiters.add(wake);
      });
    }
  }

  /** Ctrl-C, as a user stops it. */
  async interrupt(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill("SIGINT");
    return this.exited;
  }
}

export type Language = "typescript" | "python" | "go";

/**
 * Each language's rule file in its validation service (the same in the blank and price-oracle
 * templates), and the first line of its rule with what makes it reject everything.
 */
export const RULES: Record<Language, { file: string[]; signature: RegExp; reject: string }> = {
  typescript: {
    file: ["src", "validate.ts"],
    signature: /export async function validateTask\([^)]*\): Promise<boolean> \{\n/,
    reject: "  return false;\n",
  },
  python: {
    file: ["validate.py"],
    signature: /def validate_task\([^)]*\) -> bool:\n/,
    reject: "    return False\n",
  },
  go: {
    file: ["validate.go"],
    signature: /func validateTask\([^)]*\) \(bool, error\) \{\n/,
    reject: "\treturn false, nil\n",
  },
};

/** Makes the rule in `file` reject everything, as a developer would edit it. */
export function rejectEverything(language: Language, file: string): void {
  const { signature, reject } = RULES[language];
  const text = readFileSync(file, "utf8");
  expect(text).toMatch(signature);
  writeFileSync(
    file,
    text.replace(signature, (s) => `${s}${reject}`),
  );
}

/**
 * Makes `language`'s validation rule (under `projectDir`) reject everything and waits for the
 * watcher's one `restarted` event for that file; returns the event.
 */
export async function editRuleAndWaitReload(
  watcher: Watcher,
  language: Language,
  projectDir: string,
  timeoutMs: number,
): Promise<any> {
  const from = watcher.events.length;
  rejectEverything(language, path.join(projectDir, "validation-service", ...RULES[language].file));
  const reloaded = await watcher.next(
    (e) => e.service === "validation" && (e.action === "restarted" || e.action === "failed"),
    timeoutMs,
    from,
  );
  expect(reloaded, watcher.stderr).toMatchObject({
    action: "restarted",
    service: "validation",
    trigger: path.join("validation-service", ...RULES[language].file),
  });
  return reloaded;
}

/** Only the validation service changed (pid or container id) between `before` and `after`, and one reload was made. */
export function expectOnlyValidationReloaded(
  before: Record<string, unknown>,
  after: Record<string, unknown>,
  watcher: Watcher,
  reloaded: unknown,
): void {
  expect(after.validation).not.toBe(before.validation);
  const { validation: _v, ...othersBefore } = before;
  const { validation: _w, ...othersAfter } = after;
  expect(othersAfter).toEqual(othersBefore);
  expect(watcher.events.filter((e) => e.action === "restarted" || e.action === "failed")).toEqual([reloaded]);
}
