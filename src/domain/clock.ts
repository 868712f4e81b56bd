// Time is injected (STYLE.md principle 5): everything that needs "now" takes a Clock, so rates,
// resets, periods and leases are exact arithmetic in tests.

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
};

/** A clock that moves only when told to. */
export class FakeClock implements Clock {
  private ms: number;

  constructor(startMs = 0) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  /** Moves time forward (or backward, with a negative value, to test clock jumps). */
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }

  set(ms: number): void {
    this.ms = ms;
  }
}
