// The AlertSink the poll loop talks to (issue 16): send() queues the event for every channel and
// returns at once. Each channel has its own queue and works it one event at a time, so a slow
// SMTP server never delays a webhook. A failed delivery is tried again after 1 s, 2 s, 4 s, 8 s
// (5 attempts in all, unless it cannot help: a 4xx, a refused login); the final failure and the
// channel's next success are reported through onReport (the app's notice line). Timers are
// unref'd: a pending retry never keeps the process alive; close() waits a bounded time.
import type { AlertEvent, AlertSink } from '../domain/alert-event.js';
import { sanitizeText } from '../sanitize.js';
import { ChannelError, type AlertChannel } from './channel.js';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: Timers = {
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  },
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export type DeliveryReport =
  | { kind: 'failed'; channel: AlertChannel; event: AlertEvent; attempts: number; reason: string }
  | { kind: 'recovered'; channel: AlertChannel; event: AlertEvent }
  | { kind: 'dropped'; channel: AlertChannel; event: AlertEvent; reason: string };

export interface DispatcherOptions {
  channels: readonly AlertChannel[];
  /** Called for each final failure, recovery and dropped event; must not throw (errors are ignored). */
  onReport?: (report: DeliveryReport) => void;
  /** Attempts per event and channel, the first included (default 5). */
  maxAttempts?: number;
  /** The first retry's delay; each next one doubles (default 1000 ms, at most maxDelayMs). */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Events waiting per channel beyond the one in flight; the oldest is dropped (default 100). */
  maxQueue?: number;
  timers?: Timers;
}

interface Lane {
  channel: AlertChannel;
  queue: AlertEvent[];
  isBusy: boolean;
  /** The last event's final attempt failed: its next success is reported as a recovery. */
  isFailing: boolean;
  retry: { handle: unknown; wake: () => void } | null;
  inFlight: Promise<void> | null;
}

/** "failed" report in one line, for the notice line: "alert channel 2 (webhook …) failed: HTTP 500". */
export function describeReport(report: DeliveryReport): string {
  const who = `alert channel ${report.channel.id} (${report.channel.label})`;
  switch (report.kind) {
    case 'failed':
      return sanitizeText(`${who} failed after ${report.attempts} attempt${report.attempts === 1 ? '' : 's'}: ${report.reason}`, 300);
    case 'recovered':
      return sanitizeText(`${who} works again`, 300);
    case 'dropped':
      return sanitizeText(`${who} dropped an alert: ${report.reason}`, 300);
  }
}

export class AlertDispatcher implements AlertSink {
  private readonly lanes: Lane[];
  private readonly timers: Timers;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxQueue: number;
  private readonly aborter = new AbortController();
  private isClosed = false;

  constructor(private readonly options: DispatcherOptions) {
    this.lanes = options.channels.map((channel) => ({ channel, queue: [], isBusy: false, isFailing: false, retry: null, inFlight: null }));
    this.timers = options.timers ?? realTimers;
    this.maxAttempts = Math.max(1, options.maxAttempts ?? 5);
    this.baseDelayMs = options.baseDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.maxQueue = Math.max(1, options.maxQueue ?? 100);
  }

  get channels(): readonly AlertChannel[] {
    return this.options.channels;
  }

  /** Queues the event for every channel. Never throws, never waits. */
  send(event: AlertEvent): void {
    if (this.isClosed) return;
    for (const lane of this.lanes) {
      if (lane.queue.length >= this.maxQueue) {
        const dropped = lane.queue.shift()!;
        this.report({ kind: 'dropped', channel: lane.channel, event: dropped, reason: `more than ${this.maxQueue} alerts waiting` });
      }
      lane.queue.push(event);
      if (!lane.isBusy) this.start(lane);
    }
  }

  /** Events not yet delivered or given up, per channel id (the one in flight included). */
  pending(): Record<string, number> {
    return Object.fromEntries(this.lanes.map((lane) => [lane.channel.id, lane.queue.length + (lane.isBusy ? 1 : 0)]));
  }

  /**
   * Stops taking events, cancels waiting retries, and waits up to timeoutMs for the deliveries in
   * flight; after that they are aborted. Resolves to how many events were left undelivered.
   */
  async close(timeoutMs = 5000): Promise<number> {
    if (!this.isClosed) {
      this.isClosed = true;
      for (const lane of this.lanes) {
        if (lane.retry) {
          this.timers.clearTimeout(lane.retry.handle);
          lane.retry.wake();
        }
      }
    }
    const inFlight = this.lanes.map((lane) => lane.inFlight).filter((p): p is Promise<void> => p !== null);
    let timer: NodeJS.Timeout | undefined;
    // Not unref'd: a caller awaiting close() is owed an answer within timeoutMs.
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled(inFlight), deadline]);
    clearTimeout(timer);
    this.aborter.abort(new Error('lantop is closing'));
    await Promise.allSettled(inFlight);
    let left = 0;
    for (const lane of this.lanes) {
      left += lane.queue.length;
      lane.queue.length = 0;
    }
    return left;
  }

  private start(lane: Lane): void {
    lane.isBusy = true;
    lane.inFlight = this.work(lane)
      .catch(() => undefined /* work() reports everything itself; this is a last guard */)
      .finally(() => {
        lane.isBusy = false;
        lane.inFlight = null;
        if (!this.isClosed && lane.queue.length > 0) this.start(lane);
      });
  }

  private async work(lane: Lane): Promise<void> {
    while (!this.isClosed && lane.queue.length > 0) {
      const event = lane.queue.shift()!;
      await this.deliverWithRetries(lane, event);
    }
  }

  private async deliverWithRetries(lane: Lane, event: AlertEvent): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let isRetryable: boolean;
      try {
        await lane.channel.deliver(event, this.aborter.signal);
        if (lane.isFailing) {
          lane.isFailing = false;
          this.report({ kind: 'recovered', channel: lane.channel, event });
        }
        return;
      } catch (error) {
        reason = error instanceof Error ? sanitizeText(error.message, 200) : sanitizeText(String(error), 200);
        isRetryable = !(error instanceof ChannelError) || error.isRetryable;
      }
      if (this.isClosed) {
        lane.queue.unshift(event); // counted as left undelivered by close()
        return;
      }
      if (!isRetryable || attempt >= this.maxAttempts) {
        lane.isFailing = true;
        this.report({ kind: 'failed', channel: lane.channel, event, attempts: attempt, reason });
        return;
      }
      await this.wait(lane, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1)));
      if (this.isClosed) {
        lane.queue.unshift(event);
        return;
      }
    }
  }

  private wait(lane: Lane, ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        lane.retry = null;
        resolve();
      };
      lane.retry = { handle: this.timers.setTimeout(wake, ms), wake };
    });
  }

  private report(report: DeliveryReport): void {
    try {
      this.options.onReport?.(report);
    } catch {
      // A broken listener must not stop the queue.
    }
  }
}

export interface TestResult {
  channel: AlertChannel;
  isOk: boolean;
  /** Why it failed, in words; null when it worked. */
  reason: string | null;
  ms: number;
}

/** `lantop alert test`: every channel once, in parallel, each within its own timeout. */
export async function testChannels(channels: readonly AlertChannel[], event: AlertEvent, now: () => number = Date.now): Promise<TestResult[]> {
  const signal = new AbortController().signal;
  return Promise.all(
    channels.map(async (channel) => {
      const started = now();
      try {
        await channel.deliver(event, signal);
        return { channel, isOk: true, reason: null, ms: now() - started };
      } catch (error) {
        const reason = sanitizeText(error instanceof Error ? error.message : String(error), 300);
        return { channel, isOk: false, reason, ms: now() - started };
      }
    }),
  );
}
