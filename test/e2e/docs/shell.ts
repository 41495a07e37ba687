/**
 * What the docs test needs to take commands out of Markdown and printed output, and to run
 * them as a user's shell would: the shell code blocks of a README split into commands, the
 * `next:` lines and error hints avsctl prints, and a small session that runs each command with
 * `sh -c` in a working directory that follows `cd`.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import path from "node:path";

/** Fenced code blocks whose content a user types into a shell. */
const SHELL_LANGS = new Set(["sh", "bash", "console", "shell"]);

export interface ShellBlock {
  /** The document, as the test names it ("README.md", "price-oracle/typescript README"). */
  source: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  /** The nearest heading above the block. */
  heading: string;
  lines: string[];
}

export interface ShellCommand {
  text: string;
  block: ShellBlock;
  /** The comment after the command on its line, without `#` (e.g. "listens on 4003"). */
  comment: string;
}

/** Every ```sh / ```bash / ```console / ```shell block of a Markdown document, in order. */
export function shellBlocks(markdown: string, source: string): ShellBlock[] {
  const blocks: ShellBlock[] = [];
  let heading = "";
  let open: { fence: string; block: ShellBlock | null } | null = null;
  markdown.split("\n").forEach((line, i) => {
    if (open) {
      if (line.trim() === open.fence) {
        if (open.block) blocks.push(open.block);
        open = null;
      } else open.block?.lines.push(line);
      return;
    }
    const fence = /^\s*(`{3,}|~{3,})\s*([\w-]*)/.exec(line);
    if (fence) {
      const lang = fence[2]!.toLowerCase();
      open = {
        fence: fence[1]!,
        block: SHELL_LANGS.has(lang) ? { source, line: i + 1, lang, heading, lines: [] } : null,
      };
      return;
    }
    const h = /^#{1,6}\s+(.*)$/.exec(line);
    if (h) heading = h[1]!.trim();
  });
  if (open) throw new Error(`${source}: a code block is never closed`);
  return blocks;
}

/**
 * The commands of a block as a shell reads them: lines joined at a trailing `\`, comments
 * dropped, and split at `&&` and `;` outside quotes and parentheses (a `( ... )` subshell stays
 * one command). In a `console` block only the lines after a `$ ` prompt are commands.
 */
export function blockCommands(block: ShellBlock): ShellCommand[] {
  const logical: string[] = [];
  let pending: string | null = null;
  for (const raw of block.lines) {
    let line = raw;
    if (pending === null) {
      if (block.lang === "console") {
        const prompt = /^\s*\$\s+(.*)$/.exec(line);
        if (!prompt) continue; // output shown in the block
        line = prompt[1]!;
      }
      pending = "";
    }
    const { code } = splitComment(line);
    if (code.endsWith("\\")) {
      pending += `${code.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = null;
  }
  if (pending !== null) logical.push(pending);
  return logical.flatMap((line) => {
    const { code, comment } = splitComment(line);
    return splitTopLevel(code).map((text) => ({ text, block, comment }));
  });
}

/** A line's code and its trailing comment (`#` starting a word, outside quotes). */
export function splitComment(line: string): { code: string; comment: string } {
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"') i++;
      continue;
    }
    if (c === "\\") i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === "#" && (i === 0 || /\s/.test(line[i - 1]!))) {
      return { code: line.slice(0, i).trimEnd(), comment: line.slice(i + 1).trim() };
    }
  }
  return { code: line.trimEnd(), comment: "" };
}

/** Splits at `&&` and `;` that are outside quotes and parentheses; empty parts are dropped. */
export function splitTopLevel(code: string): string[] {
  const parts: string[] = [];
  let quote: string | null = null;
  let depth = 0;
  let start = 0;
  for (let i = 0; i < code.length; i++) {
    const c = code[i]!;
    if (quote) {
      if (c === quote) quote = null;
      else if (c === "\\" && quote === '"') i++;
      continue;
    }
    if (c === "\\") i++;
    else if (c === "'" || c === '"') quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (depth === 0 && (c === ";" || (c === "&" && code[i + 1] === "&"))) {
      parts.push(code.slice(start, i));
      if (c === "&") i++;
      start = i + 1;
    }
  }
  parts.push(code.slice(start));
  return parts.map((p) => p.trim().replace(/\s+/g, " ")).filter((p) => p !== "");
}

/**
 * The commands of the `next:` lines avsctl prints: `next: <command>` on one line, or `next:`
 * (also at the end of a sentence: "... Next:") followed by indented command lines. A comment
 * reading `then: <commands>` adds those commands after the line's own.
 */
export function nextCommands(output: string): string[] {
  const lines = output.split("\n");
  const commands: string[] = [];
  const add = (line: string) => {
    const { code, comment } = splitComment(line);
    commands.push(...splitTopLevel(code));
    const then = /^then:\s*(.*)$/.exec(comment);
    if (then) commands.push(...splitTopLevel(then[1]!));
  };
  for (let i = 0; i < lines.length; i++) {
    const m = /(?:^|\s)next:\s*(.*)$/i.exec(lines[i]!);
    if (!m) continue;
    if (m[1]!.trim() !== "") {
      add(m[1]!);
      continue;
    }
    for (let j = i + 1; j < lines.length && /^\s+\S/.test(lines[j]!); j++) add(lines[j]!);
  }
  return commands;
}

/**
 * The commands in an error's hint, as avsctl prints it on a terminal: the indented lines after
 * `Error [CODE]: message`, where a command to paste is written in backticks.
 */
export function hintCommands(stderr: string): { code: string | null; hint: string; commands: string[] } {
  const lines = stderr.split("\n");
  const at = lines.findIndex((l) => /^Error \[[A-Z_]+\]/.test(l));
  if (at < 0) return { code: null, hint: "", commands: [] };
  const code = /^Error \[([A-Z_]+)\]/.exec(lines[at]!)![1]!;
  // The message may run over more lines ("(Did you mean task?)"); the hint is indented.
  let j = at + 1;
  while (j < lines.length && lines[j]!.trim() !== "" && !/^\s+\S/.test(lines[j]!)) j++;
  const hintLines: string[] = [];
  for (; j < lines.length && /^\s+\S/.test(lines[j]!); j++) hintLines.push(lines[j]!.trim());
  const hint = hintLines.join("\n");
  const commands = [...hint.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.trim());
  return { code, hint, commands };
}

export interface ShellResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** The output of a command, for an assertion message. */
export const why = (text: string, r: ShellResult) =>
  `\`${text}\` exited ${r.code}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;

/**
 * A user's shell: commands run with `sh -c` in `cwd`, which `cd` moves. Every child is the
 * leader of its own process group, so stopping one stops what it started (npm, its node).
 */
export class ShellSession {
  cwd: string;
  private readonly background = new Set<ChildProcess>();

  constructor(
    cwd: string,
    readonly env: NodeJS.ProcessEnv,
  ) {
    this.cwd = cwd;
  }

  /** `cd <dir>` as the shell would; the directory must exist. */
  cd(dir: string): void {
    const target = path.resolve(this.cwd, dir);
    if (!existsSync(target) || !statSync(target).isDirectory()) {
      throw new Error(`cd ${dir}: no directory ${target}`);
    }
    this.cwd = target;
  }

  /** Runs to completion; a command still running after `timeoutMs` is killed and fails (exit -1). */
  run(text: string, opts: { timeoutMs: number; cwd?: string }): Promise<ShellResult> {
    const child = this.spawn(text, opts.cwd);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    return new Promise((resolve, reject) => {
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        killGroup(child, "SIGKILL");
      }, opts.timeoutMs);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        resolve({ code: timedOut ? -1 : (code ?? -1), stdout, stderr });
      });
    });
  }

  /**
   * Starts a command that runs until stopped (a server, `logs -f`) and resolves once `ready`
   * says so, polled until `timeoutMs`. The child stays in the session until `stopAll`.
   */
  async start(
    text: string,
    ready: (out: { stdout: string; stderr: string }) => Promise<boolean> | boolean,
    opts: { timeoutMs: number },
  ): Promise<{ child: ChildProcess; output: () => { stdout: string; stderr: string } }> {
    const child = this.spawn(text);
    this.background.add(child);
    let stdout = "";
    let stderr = "";
    child.stdout!.on("data", (d) => (stdout += d));
    child.stderr!.on("data", (d) => (stderr += d));
    let exited: number | null | undefined;
    child.on("exit", (code) => (exited = code));
    const deadline = Date.now() + opts.timeoutMs;
    for (;;) {
      if (await ready({ stdout, stderr })) return { child, output: () => ({ stdout, stderr }) };
      if (exited !== undefined) {
        throw new Error(`\`${text}\` exited ${exited} before it was ready\n${stdout}\n${stderr}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`\`${text}\` not ready after ${opts.timeoutMs} ms\n${stdout}\n${stderr}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /**
   * SIGINT to the command's process group, as Ctrl-C sends it; resolves with the exit code, or
   * null when a signal ended it (SIGKILL after `graceMs`).
   */
  async interrupt(child: ChildProcess, graceMs = 15_000): Promise<number | null> {
    const done = exitOf(child);
    killGroup(child, "SIGINT");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
    const code = await done;
    clearTimeout(timer);
    this.background.delete(child);
    return code;
  }

  /** Stops every background command of the session (SIGTERM, then SIGKILL). */
  async stopAll(): Promise<void> {
    await Promise.all(
      [...this.background].map(async (child) => {
        const done = exitOf(child);
        killGroup(child, "SIGTERM");
        const timer = setTimeout(() => killGroup(child, "SIGKILL"), 10_000);
        await done;
        clearTimeout(timer);
        this.background.delete(child);
      }),
    );
  }

  private spawn(text: string, cwd = this.cwd): ChildProcess {
    return spawn("sh", ["-c", text], {
      cwd,
      env: this.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
  }
}

function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}
