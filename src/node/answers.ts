/**
 * The votes an attester has signed, so that a task the aggregator pushes again (after its
 * restart, to a reconnecting attester) gets the same vote without a second call to the
 * validation service. A vote is kept until its task's deadline: past it the aggregator has ended
 * the task, and one that gives the task a new window may ask again. Kept by time and not only by
 * count: at 200 tasks/s, 50,000 votes held about 30 MB of an attester's memory after four minutes.
 */
export class AnswerCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    /** Votes kept at most, whatever their deadlines. */
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  /** The vote given for `key`, unless its task's deadline has passed. */
  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until < this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Keeps a vote until `until` (the task's deadline, ms since the epoch). */
  set(key: string, value: V, until: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, until });
    // Tasks come in about the order of their deadlines: the expired ones are at the front.
    const now = this.now();
    for (const [k, entry] of this.entries) {
      if (this.entries.size <= this.max && entry.until >= now) break;
      this.entries.delete(k);
    }
  }
}
