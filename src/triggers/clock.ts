/**
 * The clock: arms one timer per time trigger (interval, cron, fixed times) for its next slot
 * and fires it when the slot comes. Timers longer than setTimeout allows are re-armed.
 */

import { nextFiring } from "./schedule.js";
import { finish, type TriggerState } from "./state.js";
import type { FiringContext } from "./types.js";

const MAX_TIMER_MS = 2 ** 31 - 1;

export class Clock {
  private stopped = false;

  constructor(private readonly fire: (s: TriggerState, ctx: FiringContext) => void) {}

  /** Arms the trigger's timer for its next slot, or finishes it when there is none. */
  arm(s: TriggerState): void {
    if (s.done || this.stopped) return;
    const now = Date.now();
    // Strictly after the last slot fired, so a timer that runs a little early never fires a slot twice.
    const at = nextFiring(s.trigger, Math.max(s.lastScheduled ?? now, now)).at;
    s.nextAt = at;
    if (at === null) {
      finish(s);
      return;
    }
    const delay = at - now;
    if (delay > MAX_TIMER_MS) {
      s.timer = setTimeout(() => this.arm(s), MAX_TIMER_MS);
      return;
    }
    // Node may wake a timer a millisecond early; a slot never fires before its time.
    const wake = () => {
      const early = at - Date.now();
      if (early > 0) {
        s.timer = setTimeout(wake, early);
        return;
      }
      s.timer = undefined;
      s.lastScheduled = at;
      this.fire(s, { scheduledAt: at });
      this.arm(s);
    };
    s.timer = setTimeout(wake, Math.max(0, delay));
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
