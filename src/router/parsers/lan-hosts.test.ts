import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseLanHosts, parseLanHostsReport } from './lan-hosts.js';
import { readFixture } from '../../../test/fixtures.js';

describe('parseLanHosts', () => {
  test('Broadcom CMS CLI layout: Bridge heading, lease seconds, empty and spaced names', () => {
    const report = parseLanHostsReport(readFixture('broadcom-cli/cms-cli-lanhosts/lanhosts-show-all.txt'));
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.entries, [
      { mac: '02:00:00:00:00:10', ip: '198.51.100.10', hostname: 'laptop-h1', leaseSeconds: 86123 },
      { mac: '02:00:00:00:00:11', ip: '198.51.100.11', hostname: null, leaseSeconds: 3600 },
      { mac: '02:00:00:00:00:12', ip: '198.51.100.12', hostname: 'Living Room TV', leaseSeconds: 0 },
      // Hostile name kept as data, byte for byte.
      { mac: '02:00:00:00:00:13', ip: '198.51.100.13', hostname: 'evil;reboot $(id)', leaseSeconds: 7200 },
    ]);
  });

  test('two bridges', () => {
    const entries = parseLanHosts(readFixture('broadcom-cli/cms-cli-lanhosts/lanhosts-show-all-two-bridges.txt'));
    assert.equal(entries.length, 5);
    assert.deepEqual(entries[4], { mac: '02:00:00:00:01:20', ip: '198.51.100.130', hostname: 'guest-phone', leaseSeconds: 500 });
  });

  test('MitraStar layout (published): Active flag, no name, no lease', () => {
    const report = parseLanHostsReport(readFixture('broadcom-cli/mitrastar-hgu/lanhosts-show-all.txt'));
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.entries, [{ mac: '12:34:56:78:9a:bc', ip: '192.168.0.10', hostname: null, leaseSeconds: null }]);
  });

  test('unreadable rows are reported, not guessed', () => {
    const report = parseLanHostsReport('   MAC Addr          IP Addr     Lease Time Remaining    Hostname\nzz:00:00:00:00:10  198.51.100.10  5  x\n02:00:00:00:00:10  198.51.100.300  5  x\n');
    assert.equal(report.entries.length, 0);
    assert.equal(report.skipped.length, 2);
  });
});
