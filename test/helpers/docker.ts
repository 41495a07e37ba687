/**
 * Docker tests run against a real engine. Outside CI a machine without one skips them with a
 * loud warning; under CI (`CI` set) a missing engine is a failure, never a silent skip.
 */
import { describe, it } from "vitest";
import { isCI } from "../../src/cli/interactive.js";
import { type PingResult, pingDocker } from "../../src/devnet/docker-engine.js";

let cached: Promise<PingResult> | undefined;

/** Whether a Docker engine answers (pinged once per test file, bounded). */
export async function dockerAvailable(timeoutMs = 5_000): Promise<boolean> {
  cached ??= pingDocker(timeoutMs);
  return (await cached).ok;
}

const ping = await (cached ??= pingDocker(5_000));

/**
 * `describe` for suites that need a Docker engine. No engine: under CI the suite fails with
 * the reason; elsewhere it is skipped and says so on stderr.
 */
export function describeDocker(name: string, fn: () => void): void {
  if (ping.ok) {
    describe(name, fn);
    return;
  }
  if (isCI(process.env)) {
    describe(name, () => {
      it("needs a Docker engine (CI is set, so this cannot be skipped)", () => {
        throw new Error(
          `no Docker engine: ${ping.reason}. ${ping.hint} (CI: run scripts/ci-docker.sh first)`,
        );
      });
    });
    return;
  }
  const bar = "!".repeat(78);
  console.warn(
    `\n${bar}\n!! SKIPPING "${name}": no Docker engine answers (${ping.reason}).\n` +
      `!! Start one (e.g. scripts/ci-docker.sh) to run these tests; under CI they fail instead.\n${bar}\n`,
  );
  describe.skip(name, fn);
}
