import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReportDocument, ReportDeviceDoc } from '../domain/report-document.js';
import { utcZone } from '../domain/periods.js';
import { bytesWithExact, reportText, reportTitle } from './report-text.js';

const day = { startMs: Date.UTC(2026, 2, 9), endMs: Date.UTC(2026, 2, 10) };

function device(name: string, downBytes: number, upBytes: number, share: number): ReportDeviceDoc {
  return { identity: `ip:${name}`, name, ip: '198.51.100.10', mac: null, downBytes, upBytes, share, person: null, series: null };
}

function doc(devices: ReportDeviceDoc[], persons: ReportDocument['persons'] = [], router = '198.51.100.1:23'): ReportDocument {
  const downBytes = devices.reduce((s, d) => s + d.downBytes, 0);
  const upBytes = devices.reduce((s, d) => s + d.upBytes, 0);
  return {
    version: 1,
    router,
    period: 'custom',
    periodLabel: '2026-03-09 → 2026-03-09',
    range: day,
    effective: day,
    generatedAtMs: day.endMs + 300_000,
    granularity: 'hour',
    bucketMs: 3_600_000,
    bucketStartsMs: [],
    totals: { downBytes, upBytes },
    totalSeries: { down: [], up: [] },
    devices,
    otherSeries: null,
    persons,
    hostCount: devices.length,
  };
}

test('the summary names the period, the exact totals and the busiest devices and persons', () => {
  const text = reportText(
    doc([device('laptop', 1_500_000_000, 250_000_000, 0.7), device('phone', 500_000_000, 250_000_000, 0.3)], [{ name: 'Ben', identities: ['ip:laptop'], downBytes: 1_500_000_000, upBytes: 250_000_000, share: 0.7 }]),
    { routerLabel: 'home', periodName: 'daily report', zone: utcZone },
  );
  assert.match(text, /^lantop report for home\n/);
  assert.match(text, /Period: 2026-03-09 \(daily report\)\n/);
  assert.match(text, /Download: 2\.00 GB \(2000000000 B\)/);
  assert.match(text, /Upload: {3}500 MB \(500000000 B\)/);
  assert.match(text, /Total: {4}2\.50 GB \(2500000000 B\)/);
  assert.match(text, /Top 2 devices:\n {2}1\. laptop\s+↓ +1\.50 GB\s+↑ +250 MB\s+1\.75 GB\s+70\.0%\n {2}2\. phone/);
  assert.match(text, /Persons:\n {2}Ben\s+↓ +1\.50 GB/);
  assert.equal(reportTitle(doc([]), { routerLabel: 'home', zone: utcZone }), 'lantop report: home, 2026-03-09');
});

test('top N cuts the list and says how many more; an empty period says so', () => {
  const many = Array.from({ length: 5 }, (_, i) => device(`d${i}`, 1000 * (5 - i), 0, 0.2));
  const text = reportText(doc(many), { top: 2, zone: utcZone });
  assert.match(text, /Top 2 devices:/);
  assert.match(text, /… and 3 more/);
  assert.doesNotMatch(text, /d2/);
  assert.match(reportText(doc([]), { zone: utcZone }), /No device used the line in this period\./);
  assert.equal(bytesWithExact(999), '999 B (999 B)');
});

test('hostile names (escape sequences, newlines, bidi overrides) never reach the text raw', () => {
  const hostile = 'evil\u001b[2J\u001b]0;pwned\u0007\nSubject: x\r\u202eoverride\u0000';
  const text = reportText(doc([device(hostile, 10, 10, 1)], [{ name: `P${hostile}`, identities: [], downBytes: 10, upBytes: 10, share: 1 }], `r\u001b[31m${hostile}`), { periodName: `p\n${hostile}`, zone: utcZone });
  assert.doesNotMatch(text, /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
  // Each name stays on its own line: no injected line starts with "Subject:".
  assert.doesNotMatch(text, /^Subject:/m);
  assert.match(text, /evil/);
  const title = reportTitle(doc([], [], `r\u001b[31m\nBcc: x`), { zone: utcZone });
  assert.doesNotMatch(title, /[\n\r\u001b]/);
});
