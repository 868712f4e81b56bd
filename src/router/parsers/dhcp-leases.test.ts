import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseDhcpLeases, parseDhcpLeasesReport } from './dhcp-leases.js';
import { readFixture } from '../../../test/fixtures.js';

describe('dnsmasq /tmp/dhcp.leases (real capture, dnsmasq 2.90)', () => {
  const text = readFixture('dnsmasq/2.90/dhcp.leases');
  const expiries = text.split('\n').filter((l) => /^\d/.test(l)).map((l) => Number(l.split(' ')[0]));

  test('`*` is no name, the duid line is not a lease', () => {
    const report = parseDhcpLeasesReport(text);
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.formats, ['dnsmasq']);
    assert.deepEqual(report.entries, [
      { mac: '02:00:00:00:00:11', ip: '198.51.100.140', hostname: null, leaseSeconds: null },
      { mac: '02:00:00:00:00:10', ip: '198.51.100.139', hostname: 'laptop-h1', leaseSeconds: null },
    ]);
  });

  test('seconds left come from the injected clock', () => {
    const now = expiries[0]! - 100;
    const entries = parseDhcpLeases(text, { nowSeconds: now });
    assert.equal(entries[0]!.leaseSeconds, 100);
    assert.equal(entries[1]!.leaseSeconds, expiries[1]! - now);
    assert.equal(parseDhcpLeases(text, { nowSeconds: expiries[0]! + 5 })[0]!.leaseSeconds, 0);
  });

  test('IPv6 leases and infinite (0) expiry', () => {
    const entries = parseDhcpLeases('0 02:00:00:00:00:30 198.51.100.30 printer *\nduid 00:01:00:01:aa\n1795335800 1234 2001:db8:5::100 laptop 00:01:00:01\n');
    assert.deepEqual(entries, [{ mac: '02:00:00:00:00:30', ip: '198.51.100.30', hostname: 'printer', leaseSeconds: null }]);
  });
});

describe('BusyBox udhcpd dumpleases (real capture, BusyBox 1.35.0)', () => {
  test('relative expiries; empty host name column', () => {
    const report = parseDhcpLeasesReport(readFixture('busybox/1.35.0/dumpleases.txt'));
    assert.deepEqual(report.skipped, []);
    assert.deepEqual(report.formats, ['udhcpd']);
    assert.deepEqual(report.entries.map((e) => [e.mac, e.ip, e.hostname]), [
      ['02:00:00:00:00:11', '198.51.100.119', null],
      ['02:00:00:00:00:10', '198.51.100.118', 'laptop-h1'],
    ]);
    for (const e of report.entries) assert.ok(e.leaseSeconds !== null && e.leaseSeconds > 86000 && e.leaseSeconds <= 86400);
  });
  test('-a absolute expiries give no seconds left', () => {
    const entries = parseDhcpLeases(readFixture('busybox/1.35.0/dumpleases-a.txt'));
    assert.equal(entries.length, 2);
    assert.ok(entries.every((e) => e.leaseSeconds === null));
  });
  test('days and expired', () => {
    const entries = parseDhcpLeases('Mac Address       IP Address      Host Name           Expires in\n02:00:00:00:00:12 198.51.100.12   tv                  2 days 01:00:05\n02:00:00:00:00:13 198.51.100.13                       expired\n');
    assert.deepEqual(entries.map((e) => e.leaseSeconds), [2 * 86400 + 3605, 0]);
  });
});

describe('ISC dhcpd.leases (reconstructed)', () => {
  test('last block per address wins, only active bindings, escapes undone, ends → seconds left', () => {
    const now = Date.UTC(2026, 10, 22, 8, 0, 0) / 1000;
    const report = parseDhcpLeasesReport(readFixture('isc-dhcpd/4.4/dhcpd.leases'), { nowSeconds: now });
    assert.deepEqual(report.formats, ['isc-dhcpd']);
    assert.deepEqual(report.entries, [
      { mac: '02:00:00:00:00:20', ip: '198.51.100.20', hostname: 'Pixel-7', leaseSeconds: 600 },
      { mac: '02:00:00:00:00:21', ip: '198.51.100.21', hostname: 'quote"d A name', leaseSeconds: null },
      { mac: '02:00:00:00:00:22', ip: '198.51.100.22', hostname: null, leaseSeconds: 0 },
    ]);
  });
  test('a later free block ends an active lease', () => {
    const text = 'lease 198.51.100.9 {\n binding state active;\n hardware ethernet 02:00:00:00:00:09;\n}\nlease 198.51.100.9 {\n binding state free;\n hardware ethernet 02:00:00:00:00:09;\n}\n';
    assert.deepEqual(parseDhcpLeases(text), []);
  });
});
