import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { binPath } from "../../helpers/cli.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/**
 * Runs `avsctl init` on a real pseudo-terminal (util-linux `script`) and answers each prompt
 * once its text is on the screen, as a person would.
 */
function initOnTty(
  cwd: string,
  answers: Array<{ prompt: string; keys: string }>,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; screen: string }> {
  return new Promise((resolve) => {
    const command = `${process.execPath} ${binPath} init out --no-install`;
    const child = spawn("script", ["-qfec", command, "/dev/null"], { cwd, env });
    let screen = "";
    let next = 0;
    let seenUpTo = 0;
    child.stdout.on("data", (d) => {
      screen += d;
      const answer = answers[next];
      const at = answer ? screen.indexOf(answer.prompt, seenUpTo) : -1;
      if (answer && at >= 0) {
        seenUpTo = at + answer.prompt.length;
        next++;
        child.stdin.write(answer.keys);
      }
    });
    const killer = setTimeout(() => child.kill("SIGKILL"), 45_000);
    child.on("close", (code) => {
      clearTimeout(killer);
      resolve({ code, screen });
    });
  });
}

describe("init on a terminal", () => {
  const env = { ...process.env, NO_COLOR: "1" } as NodeJS.ProcessEnv;
  delete env.CI; // prompts are off under CI: this test is about a person at a terminal

  it("asks for name, template and language, and writes what was chosen", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "avsctl-pty-"));
    dirs.push(cwd);
    // name, template (Enter: the default), language (down once: python)
    const r = await initOnTty(
      cwd,
      [
        { prompt: "Project name", keys: "pty-proj\r" },
        { prompt: "Template", keys: "\r" },
        { prompt: "Language", keys: "\u001b[B\r" },
      ],
      env,
    );
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).toContain("Project name");
    expect(r.screen).toContain("Language");
    const config = JSON.parse(readFileSync(path.join(cwd, "out", "avsctl.config.json"), "utf8"));
    expect(config.name).toBe("pty-proj");
    expect(existsSync(path.join(cwd, "out", "requirements-dev.txt"))).toBe(true);
  }, 60_000);

  it("does not prompt under CI: defaults are used", async () => {
    const cwd = mkdtempSync(path.join(tmpdir(), "avsctl-pty-"));
    dirs.push(cwd);
    const r = await initOnTty(cwd, [], { ...env, CI: "true" });
    expect(r.code, r.screen).toBe(0);
    expect(r.screen).not.toContain("Project name");
    expect(existsSync(path.join(cwd, "out", "execution-service", "package.json"))).toBe(true);
  }, 60_000);
});
