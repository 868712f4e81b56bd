import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineSnapshots } from '../domain/multi-router.js';
import { renderCombinedTable, wrapWords } from './combined-table.js';
import { CHAINED, HOME, homeSnapshot, OFFICE, officeSnapshot, row, snap, up } from '../../test/helpers/multi-router-fixtures.js';

const garageDown = { routerKey: '192.168.1.60:23', label: 'garage', snapshot: null, state: 'down' as const, reason: 'connect ECONNREFUSED 192.168.1.60:23' };
const chained = () => combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot()), garageDown], CHAINED);

test('combined table at 120 columns: router column, subtotals, the total and the rule under it, a down router, roaming', () => {
  assert.equal(
    renderCombinedTable(chained(), 120),
    [
      'ROUTER  NAME                  IP             ↓RATE  ↑RATE   ↓TOTAL  ↑TOTAL     ↓%     ↑%',
      'home    via office            192.168.1.50  50 B/s  5 B/s  5.00 kB   500 B  83.3%  83.3%',
      'home    laptop                192.168.1.10  10 B/s  1 B/s  1.00 kB   100 B  16.7%  16.7%',
      'home    subtotal (2 hosts)                  60 B/s  6 B/s  6.00 kB   600 B',
      'office  phone                 192.168.2.10  30 B/s  3 B/s  3.00 kB   300 B  66.7%  66.7%',
      'office  laptop                192.168.2.11  15 B/s  1 B/s  1.50 kB   150 B  33.3%  33.3%',
      'office  subtotal (not added)                45 B/s  4 B/s  4.50 kB   450 B',
      '        TOTAL (2 routers up)                60 B/s  6 B/s  6.00 kB   600 B',
      'Counted once: home counts the line, office\'s traffic included (under "via office"); office\'s devices are shown, not',
      '  added.',
      'garage: down (connect ECONNREFUSED 192.168.1.60:23)',
      'Roaming (one device, seen on several routers):',
      '  laptop: home 1.10 kB + office 1.65 kB = 2.75 kB',
      '',
    ].join('\n'),
  );
});

test('combined table at 80 columns: shares go first, every line fits', () => {
  const text = renderCombinedTable(chained(), 80);
  assert.equal(
    text,
    [
      'ROUTER  NAME                  IP             ↓RATE  ↑RATE   ↓TOTAL  ↑TOTAL',
      'home    via office            192.168.1.50  50 B/s  5 B/s  5.00 kB   500 B',
      'home    laptop                192.168.1.10  10 B/s  1 B/s  1.00 kB   100 B',
      'home    subtotal (2 hosts)                  60 B/s  6 B/s  6.00 kB   600 B',
      'office  phone                 192.168.2.10  30 B/s  3 B/s  3.00 kB   300 B',
      'office  laptop                192.168.2.11  15 B/s  1 B/s  1.50 kB   150 B',
      'office  subtotal (not added)                45 B/s  4 B/s  4.50 kB   450 B',
      '        TOTAL (2 routers up)                60 B/s  6 B/s  6.00 kB   600 B',
      'Counted once: home counts the line, office\'s traffic included (under "via',
      '  office"); office\'s devices are shown, not added.',
      'garage: down (connect ECONNREFUSED 192.168.1.60:23)',
      'Roaming (one device, seen on several routers):',
      '  laptop: home 1.10 kB + office 1.65 kB = 2.75 kB',
      '',
    ].join('\n'),
  );
  for (const line of text.split('\n')) assert.ok([...line].length <= 80, line);
});

test('combined table: busy real-world numbers at 80 columns keep router, name, rates and totals', () => {
  const big = (ip: string, mac: string, hostname: string, n: number) => row(ip, { mac, hostname, downBytes: n * 1_000_000_000, upBytes: n * 10_000_000, downBps: n * 1_250_000, upBps: n * 125_000 });
  const a = snap('a', [big('192.168.1.10', 'aa:00:00:00:00:01', 'a-very-long-hostname-of-a-desktop-pc', 12), big('192.168.1.11', 'aa:00:00:00:00:02', 'tv', 3)]);
  const b = snap('b', [big('10.0.0.20', 'bb:00:00:00:00:01', 'phone', 7)]);
  const text = renderCombinedTable(combineSnapshots([up('a:23', 'modem', a), up('b:23', 'access-point-upstairs', b)]), 80);
  const header = text.split('\n')[0]!.split(/\s+/);
  assert.deepEqual(header, ['ROUTER', 'NAME', '↓RATE', '↑RATE', '↓TOTAL', '↑TOTAL']);
  for (const line of text.split('\n')) assert.ok([...line].length <= 80, line);
  assert.match(text, /^access-poin… {2}phone/m);
  assert.match(text, /TOTAL \(2 routers up\)\s+27\.5 MB\/s\s+2\.75 MB\/s\s+22\.0 GB\s+220 MB/);
  assert.match(text, /Counted once: each router counts its own devices; the total is the sum of them\./);
});

test('combined table: router text is sanitised; a view with no router up still has its total line', () => {
  const hostile = snap('a', [row('192.168.1.10', { hostname: '\u001b[2J\u001b[31mpwned\u0007', downBytes: 10 })]);
  const text = renderCombinedTable(combineSnapshots([up('a:23', 'a', hostile), { routerKey: 'b:23', label: 'b', snapshot: null, state: 'down', reason: 'bad\u001b[31m reason' }]), 100);
  assert.ok(!text.includes('\u001b'), JSON.stringify(text));
  assert.match(text, /b: down \(bad/);
  const none = renderCombinedTable(combineSnapshots([{ routerKey: 'b:23', label: 'b', snapshot: null, state: 'down', reason: 'Login failed' }]), 80);
  assert.match(none, /TOTAL \(0 routers up\)\s+0 B\/s\s+0 B\/s\s+0 B\s+0 B\n/);
  assert.match(none, /Counted once: no router is up: nothing is counted\.\nb: down \(Login failed\)\n$/);
});

test('wrapWords: wraps at the width, indents later lines, keeps the leading indent', () => {
  assert.equal(wrapWords('  one two three four', 10, '    '), '  one two\n    three\n    four');
  assert.equal(wrapWords('averyveryverylongword x', 5), 'averyveryverylongword\nx');
});
