/**
 * Waits (bounded) until `probe` gives a truthy value, and returns it. Polls every 25 ms: the
 * engine's process start and the task engine's tests wait on the same events this way, so a
 * change to the pace or the timeout message is made once.
 */
export async function until<T>(
  probe: () => Promise<T | undefined | false>,
  what: string,
  ms = 30_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
