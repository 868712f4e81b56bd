import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServeLogger, isJournalStream, NOTICE_REPEAT_MS } from './serve-log.js';
import { FakeClock } from '../domain/clock.js';

test('text: lifecycle lines as `lantop serve: …`, the rest `note|warning|error: ROUTER: …`, sanitised', () => {
  const lines: string[] = [];
  const log = createServeLogger({ format: 'text', write: (l) => lines.push(l), clock: new FakeClock(0) });
  log.log({ level: 'info', event: 'listening', router: null, message: 'live page on http://127.0.0.1:9464/' });
  log.log({ level: 'warn', event: 'router-down', router: '198.51.100.1:23', message: 'cannot poll the router: gone\u001b[2J\nfake: line' });
  log.log({ level: 'warn', event: 'reload', router: null, message: 'reload failed' });
  log.log({ level: 'info', event: 'router-up', router: '198.51.100.1:23', message: 'polling again' });
  assert.deepEqual(lines, [
    'lantop serve: live page on http://127.0.0.1:9464/\n',
    'warning: 198.51.100.1:23: cannot poll the router: gonefake: line\n',
    'warning: reload failed\n',
    'note: 198.51.100.1:23: polling again\n',
  ]);
});

test('under journald each line starts with its syslog priority (<6> info, <4> warning, <3> error)', () => {
  const lines: string[] = [];
  const log = createServeLogger({ format: 'text', write: (l) => lines.push(l), clock: new FakeClock(0), hasPriorityPrefix: true });
  log.log({ level: 'info', event: 'stopping', router: null, message: 'stopping' });
  log.notice('r:23', { level: 'warn', text: 'quota reached' });
  log.notice('r:23', { level: 'error', text: 'block failed' });
  assert.deepEqual(lines, ['<6>lantop serve: stopping\n', '<4>warning: r:23: quota reached\n', '<3>error: r:23: block failed\n']);
});

test('json: one object per line with time, level, router, event, message; repeats suppressed as in text', () => {
  const lines: string[] = [];
  const clock = new FakeClock(Date.UTC(2026, 0, 2, 3, 4, 5));
  const log = createServeLogger({ format: 'json', write: (l) => lines.push(l), clock });
  log.notice('r:23', { level: 'warn', text: 'laptop\u0007 at 80 %' });
  clock.advance(1000);
  log.notice('r:23', { level: 'warn', text: 'laptop\u0007 at 80 %' });
  log.notice(null, { level: 'warn', text: 'report "daily" failed' }, 'report');
  clock.advance(NOTICE_REPEAT_MS);
  log.notice('r:23', { level: 'warn', text: 'laptop\u0007 at 80 %' });
  assert.equal(lines.length, 3);
  for (const line of lines) assert.ok(line.endsWith('}\n') && !line.slice(0, -1).includes('\n'));
  assert.deepEqual(JSON.parse(lines[0]!), { time: '2026-01-02T03:04:05.000Z', level: 'warn', router: 'r:23', event: 'notice', message: 'laptop at 80 %' });
  assert.deepEqual(JSON.parse(lines[1]!), { time: '2026-01-02T03:04:06.000Z', level: 'warn', router: null, event: 'report', message: 'report "daily" failed' });
  assert.equal(JSON.parse(lines[2]!).time, new Date(clock.now()).toISOString());
});

test('isJournalStream: JOURNAL_STREAM must name the very stream (device:inode)', () => {
  assert.equal(isJournalStream('8:12345', { dev: 8, ino: 12345 }), true);
  assert.equal(isJournalStream('8:12345', { dev: 8n, ino: 12345n }), true);
  assert.equal(isJournalStream('8:12345', { dev: 8, ino: 1 }), false, 'inherited, but we write elsewhere');
  assert.equal(isJournalStream(undefined, { dev: 8, ino: 12345 }), false);
  assert.equal(isJournalStream('8:12345', null), false);
  assert.equal(isJournalStream('junk', { dev: 8, ino: 12345 }), false);
});
