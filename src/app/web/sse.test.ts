import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatSseEvent, SSE_HEARTBEAT, SSE_MAX_BUFFERED_BYTES, SseHub, type SseClient, type SseTimers } from './sse.js';

class FakeClient implements SseClient {
  text = '';
  isEnded = false;
  bufferedBytes = 0;
  write(text: string): void {
    assert.equal(this.isEnded, false, 'no write after end');
    this.text += text;
  }
  end(): void {
    this.isEnded = true;
  }
}

function fakeTimers(): SseTimers & { fire(): void; active: number } {
  const fns = new Map<number, () => void>();
  let next = 1;
  return {
    setInterval: (fn) => {
      fns.set(next, fn);
      return next++;
    },
    clearInterval: (h) => void fns.delete(h as number),
    fire: () => {
      for (const fn of fns.values()) fn();
    },
    get active() {
      return fns.size;
    },
  };
}

/** The events of a stream as the EventSource spec reads them: blank-line separated, data lines joined. */
function parseStream(text: string): Array<{ event?: string; data?: string; retry?: string; comment?: boolean }> {
  return text.split('\n\n').filter((b) => b !== '').map((block) => {
    const out: { event?: string; data?: string; retry?: string; comment?: boolean } = {};
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) out.comment = true;
      else if (line.startsWith('event: ')) out.event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
      else if (line.startsWith('retry: ')) out.retry = line.slice(7);
      else assert.fail(`unexpected line ${JSON.stringify(line)}`);
    }
    if (data.length > 0) out.data = data.join('\n');
    return out;
  });
}

test('an event is framed as event + data lines + a blank line; newlines in data cannot inject fields', () => {
  assert.equal(formatSseEvent('usage', '{"a":1}'), 'event: usage\ndata: {"a":1}\n\n');
  const framed = formatSseEvent('us\nage', 'one\nevent: evil\r\ndata: x');
  assert.deepEqual(parseStream(framed), [{ event: 'usage', data: 'one\nevent: evil\ndata: x' }]);
});

test('a client gets retry:, the latest event of each router, then every event, and heartbeats', () => {
  const timers = fakeTimers();
  const hub = new SseHub({ timers, retryMs: 3000 });
  hub.publish('r1', 'usage', '{"n":1}');
  hub.publish('r2', 'usage', '{"n":2}');
  hub.publish('r1', 'usage', '{"n":3}');
  const a = new FakeClient();
  assert.equal(hub.add(a), true);
  assert.deepEqual(parseStream(a.text), [{ retry: '3000' }, { event: 'usage', data: '{"n":3}' }, { event: 'usage', data: '{"n":2}' }]);
  a.text = '';
  hub.publish('r2', 'usage', '{"n":4}');
  timers.fire();
  assert.equal(a.text, 'event: usage\ndata: {"n":4}\n\n' + SSE_HEARTBEAT);
  assert.deepEqual(parseStream(SSE_HEARTBEAT), [{ comment: true }]);
});

test('at most maxClients; a closed client is forgotten and the heartbeat stops with the last one', () => {
  const timers = fakeTimers();
  const hub = new SseHub({ timers, maxClients: 2 });
  const [a, b, c] = [new FakeClient(), new FakeClient(), new FakeClient()];
  assert.equal(hub.add(a), true);
  assert.equal(hub.add(b), true);
  assert.equal(hub.isFull, true);
  assert.equal(hub.add(c), false, 'the third is refused');
  assert.equal(c.text, '');
  assert.equal(timers.active, 1);
  hub.remove(a);
  assert.equal(hub.size, 1);
  assert.equal(hub.add(c), true, 'room again');
  a.text = '';
  hub.publish('r', 'usage', '1');
  assert.equal(a.text, '', 'a removed client gets nothing');
  hub.remove(b);
  hub.remove(c);
  assert.equal(timers.active, 0, 'no heartbeat without clients');
});

test('a client that cannot keep up is dropped; close() ends every stream and refuses new ones', () => {
  const timers = fakeTimers();
  const hub = new SseHub({ timers });
  const slow = new FakeClient();
  const fast = new FakeClient();
  hub.add(slow);
  hub.add(fast);
  slow.bufferedBytes = SSE_MAX_BUFFERED_BYTES + 1;
  hub.publish('r', 'usage', '1');
  assert.equal(slow.isEnded, true);
  assert.equal(hub.size, 1);
  assert.match(fast.text, /data: 1/);
  hub.close();
  assert.equal(fast.isEnded, true);
  assert.equal(hub.size, 0);
  assert.equal(timers.active, 0);
  assert.equal(hub.add(new FakeClient()), false);
});
