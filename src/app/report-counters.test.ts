// `lantop report` with custom counters (issue 18): the table's "Counters" section and
// `report --csv --counters`, over a real history database; the hosts' CSV stays as documented.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runReport } from './commands.js';
import { HistoryStore } from '../store/history-store.js';
import { makeCustomCounter, type CounterInput } from '../domain/custom-counter.js';
import { UsageError } from '../errors.js';

const KEY = '198.51.100.1:23';
const T0 = Date.UTC(2026, 2, 9, 10);
const counter = (input: CounterInput) => {
  const made = makeCustomCounter(input);
  assert.ok(made.counter, JSON.stringify(made.problems));
  return made.counter;
};

async function report(path: string, options: Parameters<typeof runReport>[1]): Promise<string> {
  let out = '';
  const stdout = Object.assign({ write: (s: string) => ((out += s), true) }, { isTTY: true, columns: 120 });
  const deps = {
    settings: {},
    clock: { now: () => T0 + 3_600_000 },
    io: { stdout, stderr: { write: () => true }, stdin: process.stdin },
    key: KEY,
    openHistory: () => HistoryStore.open({ path, hostname: 'testhost' }),
  } as unknown as Parameters<typeof runReport>[0];
  assert.equal(await runReport(deps, options), 0);
  return out;
}

test('the table has a Counters section and --csv --counters the counters; --csv alone is the hosts CSV', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-report-counters-'));
  try {
    const path = join(dir, 'history.db');
    const store = HistoryStore.open({ path, hostname: 'testhost' });
    try {
      store.counters.add(KEY, counter({ name: 'ssh-in', hook: 'input', inIf: 'ppp0', proto: 'tcp', dport: '22' }), T0);
      store.counters.add(KEY, counter({ name: 'dns-out', hook: 'output', outIf: 'ppp0', proto: 'udp', dport: '53' }), T0);
      store.counters.record(KEY, T0 + 1000, new Map([['ssh-in', { bytes: 1_000_000, packets: 700 }]]));
      store.counters.record(KEY, T0 + 120_000, new Map([['ssh-in', { bytes: 234_567, packets: 190 }]]));
    } finally {
      store.close();
    }
    const text = await report(path, { period: 'all' });
    const section = text.slice(text.indexOf('\nCounters'));
    assert.equal(
      section,
      [
        '',
        'Counters (bytes and packets in the period; lantop counter add):',
        'COUNTER  MATCH                                 TOTAL  PACKETS',
        'ssh-in   input in=ppp0 proto=tcp dport=22    1.23 MB      890',
        'dns-out  output out=ppp0 proto=udp dport=53      0 B        0',
        '',
      ].join('\n'),
    );
    assert.equal(
      await report(path, { period: 'all', csv: true, counters: true }),
      'name,match,bytes,packets\nssh-in,input in=ppp0 proto=tcp dport=22,1234567,890\ndns-out,output out=ppp0 proto=udp dport=53,0,0\n',
    );
    assert.equal(await report(path, { period: 'all', csv: true }), 'identity,ip,mac,hostname,down_bytes,up_bytes\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a router without counters has no Counters section; --counters without --csv is a usage error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-report-counters-'));
  try {
    const path = join(dir, 'history.db');
    const store = HistoryStore.open({ path, hostname: 'testhost' });
    store.routerId(KEY, T0);
    store.close();
    const text = await report(path, { period: 'all' });
    assert.ok(text.startsWith(`Usage on ${KEY}, all:`), text);
    assert.ok(!text.includes('Counters'), text);
    await assert.rejects(report(path, { counters: true }), UsageError);
    await assert.rejects(report(path, { counters: true, json: true }), UsageError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
