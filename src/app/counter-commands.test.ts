// `lantop counter add|list|remove|reset` through the commands' functions (a fake clock, a real
// database): what they print, what they refuse (exit 2, nothing written), and the reset epoch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import { FakeClock } from '../domain/clock.js';
import { useStoreDir } from '../../test/store/history-harness.js';
import { HistoryStore } from '../store/history-store.js';
import { CounterAccountant } from '../domain/counter-usage.js';
import { UsageError } from '../errors.js';
import { servicesOf } from './services.js';
import { runCounterAdd, runCounterList, runCounterRemove, runCounterReset } from './counter-commands.js';

const tmp = useStoreDir();
const NOW = Date.UTC(2026, 11, 4, 12);
const KEY = '198.51.100.1:23';

function servicesFor(nowMs = NOW, flags: Partial<GlobalFlags> = { host: '198.51.100.1' }) {
  const stdout = Object.assign(new PassThrough(), { columns: 160 });
  let text = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  const settings = resolveSettings({ ...flags, db: tmp.dbPath } as GlobalFlags, {}, undefined, 'default');
  const services = servicesOf({ settings, profiles: null, password: { isKnown: true, get: async () => 'unused' }, clock: new FakeClock(nowMs), io: { stdout, stderr: new PassThrough(), stdin: new PassThrough() }, env: {} });
  return { services, out: () => text };
}

test('add prints the canonical matches and how it reaches the router; a twin says it shares the rule; list shows them', () => {
  const a = servicesFor();
  assert.equal(runCounterAdd(a.services, ['ssh-in', '--chain', 'input', '--in', 'ppp0', '--proto', 'tcp', '--dport', '22']), 0);
  assert.equal(runCounterAdd(a.services, ['ssh2', '--dport=22', '--proto=tcp', '--in=ppp0', '--chain=input']), 0);
  assert.match(a.out(), /^Counter ssh-in added: input in=ppp0 proto=tcp dport=22\.\nIt reaches the router with `lantop setup`/);
  assert.match(a.out(), /Counter ssh2 added: input in=ppp0 proto=tcp dport=22 \(the same matches as ssh-in: one rule counts both\)/);
  const l = servicesFor();
  runCounterList(l.services, {});
  assert.match(l.out(), /NAME\s+MATCH\s+BYTES\s+PACKETS/);
  assert.match(l.out(), /ssh-in\s+input in=ppp0 proto=tcp dport=22\s+-\s+-/);
  assert.match(l.out(), /No poll has counted them yet/);
});

test('refusals: bad words (every problem), no router, unknown names; nothing written', () => {
  const s = servicesFor();
  assert.throws(() => runCounterAdd(s.services, ['x', '--chain', 'input', '--src', '198.51.100.7/24', '--sport', '99999']), (e: unknown) => e instanceof UsageError && /3 problems/.test(e.message) && /host bits set/.test(e.message) && /not a port/.test(e.message));
  assert.throws(() => runCounterRemove(s.services, 'nope'), /No counter nope/);
  assert.throws(() => runCounterReset(s.services, 'nope'), /No counter nope/);
  assert.throws(() => runCounterReset(s.services, 'Bad Name'), /not a counter name/);
  assert.throws(() => runCounterAdd(servicesFor(NOW, {}).services, ['x', '--chain', 'input']), /counters belong to a router/);
  const store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost' });
  try {
    assert.deepEqual(store.counters.list(KEY), []);
  } finally {
    store.close();
  }
});

test('reset: an epoch in the database and in the saved totals (nothing to zero on the router); list --json shows it', () => {
  runCounterAdd(servicesFor().services, ['dns', '--chain', 'output', '--proto', 'udp', '--dport', '53']);
  const store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost' });
  try {
    const a = new CounterAccountant();
    const wanted = store.counters.list(KEY);
    a.observe(NOW - 60_000, wanted, new Map([['dns', { bytes: 1000, packets: 10 }]]));
    store.counters.saveState(KEY, a.exportState(), NOW - 60_000);
  } finally {
    store.close();
  }
  const before = servicesFor();
  runCounterList(before.services, { json: true });
  assert.deepEqual((JSON.parse(before.out()) as { counters: Array<{ bytes: number }> }).counters.map((c) => c.bytes), [1000]);
  const r = servicesFor(NOW + 5000);
  assert.equal(runCounterReset(r.services, 'dns'), 0);
  assert.match(r.out(), /nothing is zeroed on the router/);
  const after = servicesFor();
  runCounterList(after.services, { json: true });
  const json = JSON.parse(after.out()) as { router: string; counters: Array<{ name: string; bytes: number; packets: number; resetMs: number; sinceMs: number }> };
  assert.equal(json.router, KEY);
  assert.deepEqual(json.counters.map((c) => [c.name, c.bytes, c.packets, c.resetMs, c.sinceMs]), [['dns', 0, 0, NOW + 5000, NOW + 5000]]);
  const rm = servicesFor();
  assert.equal(runCounterRemove(rm.services, 'dns'), 0);
  assert.match(rm.out(), /Counter dns removed \(its history stays\)/);
});
