/**
 * Installs a generated project's dependencies with its own language's tools: npm for
 * TypeScript, a venv and pip for Python, the Go module proxy for Go. Each service is its own
 * package (its Dockerfile builds from its folder), so the steps run per service.
 */

import path from "node:path";
import { AvsctlError, isAvsctlError } from "../errors.js";
import { shellCommand } from "../shell-quote.js";
import type { Language } from "./templates.js";

export const SERVICE_DIRS = ["execution-service", "validation-service"] as const;

export interface InstallStep {
  /** What the step does, for progress output. */
  title: string;
  command: string;
  args: string[];
  /** Absolute working directory. */
  cwd: string;
}

export interface InstallOptions {
  signal?: AbortSignal;
  /** Extra environment for the tools (e.g. npm_config_cache, GOMODCACHE). */
  env?: NodeJS.ProcessEnv;
  /** Called before each step starts. */
  onStep?: (step: InstallStep) => void;
}

const TOOLS: Record<Language, { tool: string; hint: string }> = {
  typescript: { tool: "npm", hint: "install Node.js 24 (with npm) and put it on PATH" },
  python: {
    tool: "python3",
    hint: "install Python 3.11 or newer (with its venv module) and put python3 on PATH",
  },
  go: { tool: "go", hint: "install Go 1.23 or newer and put go on PATH" },
};

/** The commands `installDependencies` runs, in order, without running them. */
export function installSteps(dir: string, language: Language): InstallStep[] {
  const root = path.resolve(dir);
  switch (language) {
    case "typescript":
      return SERVICE_DIRS.map((service) => ({
        title: `npm install in ${service}`,
        command: "npm",
        args: ["install", "--no-audit", "--no-fund"],
        cwd: path.join(root, service),
      }));
    case "python": {
      const python = path.join(root, ".venv", process.platform === "win32" ? "Scripts" : "bin", "python");
      return [
        { title: "create .venv", command: "python3", args: ["-m", "venv", ".venv"], cwd: root },
        {
          title: "pip install -r requirements-dev.txt",
          command: python,
          args: ["-m", "pip", "install", "--disable-pip-version-check", "-r", "requirements-dev.txt"],
          cwd: root,
        },
      ];
    }
    case "go":
      return SERVICE_DIRS.map((service) => ({
        title: `go mod download in ${service}`,
        command: "go",
        args: ["mod", "download"],
        cwd: path.join(root, service),
      }));
  }
}

async function checkPythonVersion(options: InstallOptions): Promise<void> {
  const { execa } = await import("execa");
  const result = await execa("python3", ["-c", "import sys; print(sys.version_info >= (3, 11))"], {
    reject: false,
    cancelSignal: options.signal,
    env: options.env,
  });
  if (result.failed && (result as { code?: string }).code === "ENOENT") {
    throw new AvsctlError("TOOLCHAIN_MISSING", "python3 was not found", { hint: TOOLS.python.hint });
  }
  if (result.stdout.trim() !== "True") {
    throw new AvsctlError("TOOLCHAIN_MISSING", "the Python template needs Python 3.11 or newer", {
      hint: TOOLS.python.hint,
      details: { found: result.stdout.trim() || result.stderr.trim() },
    });
  }
}

/**
 * Runs the install steps for the project in `dir`. A missing tool is TOOLCHAIN_MISSING (exit 4),
 * a failing command COMMAND_FAILED with the tail of its output; a cancelled signal stops the
 * running command.
 */
export async function installDependencies(
  dir: string,
  language: Language,
  options: InstallOptions = {},
): Promise<{ steps: InstallStep[] }> {
  const { execa } = await import("execa");
  if (language === "python") await checkPythonVersion(options);
  const steps = installSteps(dir, language);
  for (const step of steps) {
    options.signal?.throwIfAborted();
    options.onStep?.(step);
    try {
      await execa(step.command, step.args, {
        cwd: step.cwd,
        env: options.env,
        cancelSignal: options.signal,
        stdin: "ignore",
        all: true,
      });
    } catch (error) {
      throw toInstallError(error, step, language);
    }
  }
  return { steps };
}

/** The step as a command line that runs the same thing when pasted into a shell. */
function pastable(step: InstallStep): string {
  // an absolute tool path (the venv's python) stays that tool when given relative to cwd
  const tool = path.isAbsolute(step.command) ? path.relative(step.cwd, step.command) : step.command;
  return `${shellCommand(["cd", step.cwd])} && ${shellCommand([tool, ...step.args])}`;
}

function toInstallError(error: unknown, step: InstallStep, language: Language): Error {
  if (isAvsctlError(error)) return error;
  const failure = error as {
    code?: string;
    exitCode?: number;
    all?: string;
    isCanceled?: boolean;
    shortMessage?: string;
  };
  if (failure.code === "ENOENT") {
    return new AvsctlError("TOOLCHAIN_MISSING", `${TOOLS[language].tool} was not found`, {
      hint: TOOLS[language].hint,
      details: { command: step.command },
      cause: error,
    });
  }
  const output = (failure.all ?? "").trim().split("\n").slice(-20).join("\n");
  return new AvsctlError(
    "COMMAND_FAILED",
    `${step.title} failed${failure.isCanceled ? " (cancelled)" : ""}`,
    {
      hint: `run \`${pastable(step)}\` to see the whole output`,
      details: {
        command: [step.command, ...step.args].join(" "),
        cwd: step.cwd,
        exitCode: failure.exitCode,
        output,
      },
      cause: error,
    },
  );
}
