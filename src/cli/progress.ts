import type { CommandContext } from "./context.js";
import { useFancyProgress } from "./interactive.js";

/**
 * Runs a long operation that reports steps: a listr2 task on a terminal (each step shown with
 * its time), plain `[+1.2s] step` lines on stderr otherwise, nothing under --json.
 */
export async function withProgress<T>(
  ctx: CommandContext,
  title: string,
  fn: (step: (message: string) => void) => Promise<T>,
): Promise<T> {
  const started = Date.now();
  const stamp = () => `+${((Date.now() - started) / 1000).toFixed(1)}s`;
  if (ctx.json) return fn(() => {});
  if (!useFancyProgress(ctx.json, ctx.env)) {
    return fn((message) => ctx.out.stderr(`[${stamp()}] ${message}\n`));
  }
  const { Listr } = await import("listr2");
  let result: T | undefined;
  const list = new Listr(
    [
      {
        title,
        task: async (_c, task) => {
          let last = Date.now();
          let previous = "";
          result = await fn((message) => {
            if (previous) task.output = `${previous} (${((Date.now() - last) / 1000).toFixed(1)}s)`;
            previous = message;
            last = Date.now();
            task.output = message;
          });
          task.title = `${title} (${stamp()})`;
        },
        rendererOptions: { persistentOutput: true, outputBar: 8 },
      },
    ],
    { rendererOptions: { collapseErrors: false }, exitOnError: true },
  );
  await list.run();
  return result as T;
}
