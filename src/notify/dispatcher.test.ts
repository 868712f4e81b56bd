import { test } from 'node:test';
import assert from 'node:assert/strict';
import { quotaEvent } from '../../test/helpers/alert-events.js';
import { AlertDispatcher, describeReport, testChannels, type DeliveryReport, type Timers } from './dispatcher.js';
import { ChannelError, type AlertChannel } from './channel.js';
import type { AlertEvent } from '../domain/alert-event.js';

/** Timers that fire only when the test says; each records its delay. */
class ManualTimers implements Timers {
  pending: { fn: () => void; ms: number; id: number }[] = [];
  delays: number[] = [];
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.push({ fn, ms, id });
    this.delays.push(ms);
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending = this.pending.filter((t) => t.id !== handle);
  }
  async fireAll(): Promise<void> {
    const due = this.pending;
    this.pending = [];
    for (const t of due) t.fn();
    await settle();
  }
}

const settle = () => new Promise((r) => setImmediate(r));

/** A channel that answers from a script: 'ok', an error, or 'hang' (until aborted). */
function scriptedChannel(id: string, answers: ('ok' | 'fail' | 'fatal' | 'hang')[]): AlertChannel & { calls: AlertEvent[] } {
  const calls: AlertEvent[] = [];
  return {
    id,
    type: 'webhook',
    label: `test ${id}`,
    calls,
    deliver(event, signal) {
      calls.push(event);
      const answer = answers.shift() ?? 'ok';
      if (answer === 'ok') return Promise.resolve();
      if (answer === 'fail') return Promise.reject(new ChannelError('HTTP 503'));
      if (answer === 'fatal') return Promise.reject(new ChannelError('HTTP 401', false));
      return new Promise((_, reject) => signal.addEventListener('abort', () => reject(new ChannelError('cancelled', false)), { once: true }));
    },
  };
}

test('retries after 1 s, 2 s, 4 s, 8 s, then reports the final failure once; the next success is a recovery', async () => {
  const timers = new ManualTimers();
  const reports: DeliveryReport[] = [];
  const channel = scriptedChannel('1', ['fail', 'fail', 'fail', 'fail', 'fail', 'ok']);
  const dispatcher = new AlertDispatcher({ channels: [channel], timers, onReport: (r) => reports.push(r) });
  dispatcher.send(quotaEvent());
  await settle();
  for (let i = 0; i < 4; i++) await timers.fireAll();
  assert.deepEqual(timers.delays, [1000, 2000, 4000, 8000]);
  assert.equal(channel.calls.length, 5);
  assert.equal(reports.length, 1);
  assert.equal(describeReport(reports[0]!), 'alert channel 1 (test 1) failed after 5 attempts: HTTP 503');
  dispatcher.send(quotaEvent({ percent: 100 }));
  await settle();
  assert.deepEqual(reports.map((r) => r.kind), ['failed', 'recovered']);
  assert.equal(describeReport(reports[1]!), 'alert channel 1 (test 1) works again');
  assert.equal(await dispatcher.close(100), 0);
});

test('a failure that retrying cannot fix is reported at once; a failing listener does not stop the queue', async () => {
  const timers = new ManualTimers();
  const channel = scriptedChannel('1', ['fatal', 'ok']);
  const dispatcher = new AlertDispatcher({ channels: [channel], timers, onReport: () => {
    throw new Error('listener bug');
  } });
  dispatcher.send(quotaEvent());
  dispatcher.send(quotaEvent({ percent: 100 }));
  await settle();
  await settle();
  assert.equal(channel.calls.length, 2);
  assert.deepEqual(timers.delays, []);
  await dispatcher.close(100);
});

test('each channel has its own queue: a hanging channel delays neither send() nor the others; close() is bounded', async () => {
  const timers = new ManualTimers();
  const slow = scriptedChannel('slow', ['hang']);
  const fast = scriptedChannel('fast', []);
  const dispatcher = new AlertDispatcher({ channels: [slow, fast], timers });
  const started = Date.now();
  for (let i = 0; i < 3; i++) dispatcher.send(quotaEvent({ percent: 80 + i }));
  assert.ok(Date.now() - started < 20);
  await settle();
  assert.equal(fast.calls.length, 3);
  assert.equal(slow.calls.length, 1);
  assert.deepEqual(dispatcher.pending(), { slow: 3, fast: 0 });
  const closing = Date.now();
  const left = await dispatcher.close(100);
  assert.ok(Date.now() - closing < 1000, 'close() waits a bounded time');
  assert.equal(left, 3, 'the hanging event and the two behind it were not delivered');
  dispatcher.send(quotaEvent()); // after close: ignored, no throw
  assert.equal(fast.calls.length, 3);
});

test('close() cancels a waiting retry and waits for a delivery in flight', async () => {
  const timers = new ManualTimers();
  const channel = scriptedChannel('1', ['fail']);
  const dispatcher = new AlertDispatcher({ channels: [channel], timers });
  dispatcher.send(quotaEvent());
  await settle();
  assert.equal(timers.pending.length, 1);
  assert.equal(await dispatcher.close(1000), 1);
  assert.equal(timers.pending.length, 0);
});

test('a full queue drops its oldest event and says so', async () => {
  const timers = new ManualTimers();
  const reports: DeliveryReport[] = [];
  const channel = scriptedChannel('1', ['hang']);
  const dispatcher = new AlertDispatcher({ channels: [channel], timers, maxQueue: 2, onReport: (r) => reports.push(r) });
  for (let i = 0; i < 4; i++) dispatcher.send(quotaEvent({ percent: i }));
  assert.deepEqual(reports.map((r) => [r.kind, r.event.percent]), [['dropped', 1]]);
  assert.match(describeReport(reports[0]!), /dropped an alert: more than 2 alerts waiting/);
  await dispatcher.close(50);
});

test('testChannels: every channel once, in parallel, with the reason of each failure', async () => {
  const results = await testChannels([scriptedChannel('1', ['ok']), scriptedChannel('2', ['fatal'])], quotaEvent({ kind: 'test' }));
  assert.deepEqual(results.map((r) => [r.channel.id, r.isOk, r.reason]), [['1', true, null], ['2', false, 'HTTP 401']]);
});
