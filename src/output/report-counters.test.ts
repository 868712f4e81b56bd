import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reportCounterRows, renderReportCounters, reportCountersCsv } from './report-counters.js';

const totals = [
  { name: 'ssh-in', bytes: 1_234_567, packets: 890 },
  { name: 'old', bytes: 500, packets: 5 },
];
const counters = [
  { name: 'ssh-in', match: 'input in=ppp0 proto=tcp dport=22' },
  { name: 'dns-out', match: 'output out=ppp0 proto=udp dport=53' },
  { name: 'a-idle', match: 'forward src=!192.168.1.0/24' },
];

test('rows: recorded totals first as the store sorts them, then the idle counters by name; a removed one has no match', () => {
  assert.deepEqual(reportCounterRows(totals, counters), [
    { name: 'ssh-in', match: 'input in=ppp0 proto=tcp dport=22', bytes: 1_234_567, packets: 890 },
    { name: 'old', match: null, bytes: 500, packets: 5 },
    { name: 'a-idle', match: 'forward src=!192.168.1.0/24', bytes: 0, packets: 0 },
    { name: 'dns-out', match: 'output out=ppp0 proto=udp dport=53', bytes: 0, packets: 0 },
  ]);
  assert.deepEqual(reportCounterRows([], []), []);
});

test('the text section: name, match, total, packets; narrow terminals keep name and total', () => {
  const rows = reportCounterRows(totals, counters);
  assert.equal(
    renderReportCounters(rows, 120),
    [
      '',
      'Counters (bytes and packets in the period; lantop counter add):',
      'COUNTER  MATCH                                 TOTAL  PACKETS',
      'ssh-in   input in=ppp0 proto=tcp dport=22    1.23 MB      890',
      'old      (removed)                             500 B        5',
      'a-idle   forward src=!192.168.1.0/24             0 B        0',
      'dns-out  output out=ppp0 proto=udp dport=53      0 B        0',
      '',
    ].join('\n'),
  );
  assert.equal(
    renderReportCounters(rows, 30),
    ['', 'Counters (bytes and packets in the period; lantop counter add):', 'COUNTER    TOTAL', 'ssh-in   1.23 MB', 'old        500 B', 'a-idle       0 B', 'dns-out      0 B', ''].join('\n'),
  );
});

test('no counters and none recorded: no section at all', () => {
  assert.equal(renderReportCounters([], 80), '');
});

test('the counters CSV: its own header, exact counts, an empty match for a removed counter', () => {
  assert.equal(
    reportCountersCsv(reportCounterRows(totals, counters)),
    'name,match,bytes,packets\nssh-in,input in=ppp0 proto=tcp dport=22,1234567,890\nold,,500,5\na-idle,forward src=!192.168.1.0/24,0,0\ndns-out,output out=ppp0 proto=udp dport=53,0,0\n',
  );
  assert.equal(reportCountersCsv([]), 'name,match,bytes,packets\n');
});
