import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatBytes, formatRate, formatShare, formatDuration, formatLocalTime, formatTimeUntil } from './units.js';
import { renderTable, renderCsv } from './table.js';

test('bytes in SI units with sensible precision, never "1000.0 kB"', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(999), '999 B');
  assert.equal(formatBytes(1000), '1.00 kB');
  assert.equal(formatBytes(15_300), '15.3 kB');
  assert.equal(formatBytes(999_960), '1.00 MB');
  assert.equal(formatBytes(5_000_000_000), '5.00 GB');
  assert.equal(formatBytes(2 ** 53), '9.01 PB');
  assert.equal(formatBytes(-1), '–');
  assert.equal(formatRate(2_500_000), '2.50 MB/s');
  assert.equal(formatShare(0.4219), '42.2%');
  assert.equal(formatShare(0), '0.0%');
  assert.equal(formatDuration(250), '250 ms');
  assert.equal(formatDuration(95_000), '1 min 35 s');
});

test('tables align, sanitise hostile cells and drop low-priority columns when narrow', () => {
  const rows = [{ name: '\u001b[31mevil\u001b[0m\u0007', ip: '198.51.100.10', mac: '02:00:00:00:00:01' }];
  const columns = [
    { header: 'NAME', value: (r: (typeof rows)[0]) => r.name, priority: 3 },
    { header: 'IP', value: (r: (typeof rows)[0]) => r.ip, priority: 2 },
    { header: 'MAC', value: (r: (typeof rows)[0]) => r.mac, priority: 1 },
  ];
  const wide = renderTable(rows, columns);
  assert.equal(wide, 'NAME  IP             MAC\nevil  198.51.100.10  02:00:00:00:00:01\n');
  assert.ok(!/[\u0000-\u001f]/.test(wide.replace(/\n/g, '')));
  const narrow = renderTable(rows, columns, 25);
  assert.ok(!narrow.includes('MAC') && narrow.includes('IP'));
  assert.ok(narrow.split('\n').every((line) => line.length <= 25));
});

test('tables cut a column with a minWidth down to it before dropping it; never below its header', () => {
  const rows = [{ name: 'pc', ip: '2001:db8:85a3:1234:5678:9abc:def0:1234' }];
  const columns = [
    { header: 'NAME', value: (r: (typeof rows)[0]) => r.name, priority: 3 },
    { header: 'IP', value: (r: (typeof rows)[0]) => r.ip, minWidth: 15, priority: 2 },
  ];
  assert.equal(renderTable(rows, columns, 44), 'NAME  IP\npc    2001:db8:85a3:1234:5678:9abc:def0:1234\n');
  assert.equal(renderTable(rows, columns, 30), 'NAME  IP\npc    2001:db8:85a3:1234:5678…\n');
  assert.equal(renderTable(rows, columns, 21), 'NAME  IP\npc    2001:db8:85a3:…\n');
  assert.equal(renderTable(rows, columns, 20), 'NAME\npc\n');
  const wideHeader = [columns[0]!, { ...columns[1]!, header: 'ADDRESS OF THE HOST!', minWidth: 5 }];
  assert.equal(renderTable(rows, wideHeader, 26), 'NAME  ADDRESS OF THE HOST!\npc    2001:db8:85a3:1234:…\n');
  assert.equal(renderTable(rows, wideHeader, 25), 'NAME\npc\n');
});

test('CSV quotes, escapes and defuses formulas', () => {
  assert.equal(renderCsv(['a', 'b'], [['=cmd|calc', 'x,"y"'], [null, 3]]), `a,b\n'=cmd|calc,"x,""y"""\n,3\n`);
});

test('moments in the local zone and time left, rounded up to the minute', () => {
  const local = new Date(2026, 0, 5, 7, 3, 59).getTime();
  assert.equal(formatLocalTime(local), '2026-01-05 07:03');
  assert.equal(formatTimeUntil(0), 'now');
  assert.equal(formatTimeUntil(-5), 'now');
  assert.equal(formatTimeUntil(1), 'in 1 min');
  assert.equal(formatTimeUntil(59 * 60_000), 'in 59 min');
  assert.equal(formatTimeUntil(59 * 60_000 + 1), 'in 1 h 0 min');
  assert.equal(formatTimeUntil(60 * 60_000 + 1), 'in 1 h 1 min');
  assert.equal(formatTimeUntil(47 * 3_600_000), 'in 47 h 0 min');
  assert.equal(formatTimeUntil(50 * 3_600_000), 'in 2 d 2 h');
});
