/**
 * The clock: arms one timer per time trigger (interval, cron, fixed times) for its next slot
 * and fires it when the slot comes. Timers longer than setTimeout allows are re-armed. "Now" is
 * the time source's (the chain's clock in a runner, chain-time.ts): when it jumps, `retime`
 * checks every armed slot again, so a slot the jump passed fires at once, and once however many
 * slots the jump passed (as cron does after a clock change).
 */

import type { TimeSource } from "./chain-time.js";
import { wallTime } from "./chain-time.js";
import { nextFiring } from "./schedule.js";
import { finish, type TriggerState } from "./state.js";
import type { FiringContext } from "./types.js";

const MAX_TIMER_MS = 2 ** 31 - 1;

export class Clock {
  private stopped = false;

  constructor(
    private readonly fire: (s: TriggerState, ctx: FiringContext) => void,
    private readonly time: TimeSource = wallTime,
  ) {}

  /**
   * Arms the trigger's timer for its next slot, or finishes it when there is none. `since`: the
   * first slot may be one already passed, after this time (once: a task seen late fires the slot
   * it missed, and later slots from now on).
   */
  arm(s: TriggerState, since?: number): void {
    if (s.done || this.stopped) return;
    const now = this.time.now();
    // Strictly after the last slot fired, so a timer that runs a little early never fires a slot twice.
    const after = since !== undefined && since < now ? since : Math.max(s.lastScheduled ?? now, now);
    const at = nextFiring(s.trigger, after).at;
    s.nextAt = at;
    if (at === null) {
      finish(s);
      return;
    }
    this.wait(s, at);
  }

  /** The time source jumped: every armed slot of `states` (its nextAt) is checked against the new now. */
  retime(states: Iterable<TriggerState>): void {
    for (const s of states) {
      if (!s.timer || s.done || s.nextAt === null) continue;
      clearTimeout(s.timer);
      s.timer = undefined;
      this.wait(s, s.nextAt);
    }
  }

  // Node may wake a timer a millisecond early, and the time source may move: a slot never
  // fires before its time.
  private wait(s: TriggerState, at: number): void {
    if (s.done || this.stopped) return;
    const delay = at - this.time.now();
    if (delay > 0) {
      s.timer = setTimeout(() => this.wait(s, at), Math.min(delay, MAX_TIMER_MS));
      return;
    }
    s.timer = undefined;
    s.lastScheduled = at;
    this.fire(s, { scheduledAt: at });
    this.arm(s);
  }

  /** Clears every timer of `states`; nothing is armed again. */
  stop(states: readonly TriggerState[]): void {
    this.stopped = true;
    for (const s of states) {
      if (s.timer) clearTimeout(s.timer);
      s.timer = undefined;
      s.nextAt = null;
    }
  }
}
