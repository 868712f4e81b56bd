import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  canonicalIpv4,
  canonicalMac,
  canonicalInterfaceName,
  ipv4ToNumber,
  isGroupMac,
  isIpv4,
  isZeroMac,
} from './tokens.js';

describe('canonicalIpv4', () => {
  test('accepts dotted quads and prints them canonically', () => {
    assert.equal(canonicalIpv4('198.51.100.10'), '198.51.100.10');
    assert.equal(canonicalIpv4('0.0.0.0'), '0.0.0.0');
    assert.equal(canonicalIpv4('255.255.255.255'), '255.255.255.255');
  });
  test('refuses everything that is not exactly four 0-255 octets', () => {
    for (const bad of [
      '198.51.100.256', '198.51.100', '198.51.100.1.2', ' 198.51.100.1', '198.51.100.1 ',
      '198.51.100.5;reboot', '$(reboot)', '198.51.100.010', '1e2.0.0.1', '0x1.0.0.1', '', '...',
      '198.51.100.-1', '198.51.100.1\n', '１９８.51.100.1',
    ]) {
      assert.equal(canonicalIpv4(bad), null, JSON.stringify(bad));
    }
  });
  test('isIpv4 and ipv4ToNumber', () => {
    assert.equal(isIpv4('198.51.100.9'), true);
    assert.equal(isIpv4('198.51.100.09'), false);
    assert.equal(ipv4ToNumber('198.51.100.10'), 198 * 2 ** 24 + 51 * 2 ** 16 + 100 * 256 + 10);
    assert.ok(Number.isNaN(ipv4ToNumber('nope')));
  });
});

describe('canonicalMac', () => {
  test('normalises case, separators and short bytes', () => {
    assert.equal(canonicalMac('02:00:5E:10:00:0A'), '02:00:5e:10:00:0a');
    assert.equal(canonicalMac('02-00-5e-10-00-0a'), '02:00:5e:10:00:0a');
    assert.equal(canonicalMac('0200.5e10.000a'), '02:00:5e:10:00:0a');
    assert.equal(canonicalMac('2:0:5e:10:0:a'), '02:00:5e:10:00:0a');
  });
  test('refuses garbage', () => {
    for (const bad of ['02:00:5e:10:00', '02:00:5e:10:00:0g', '02:00:5e:10:00:0a;ls', '<incomplete>', '', '02:00:5e-10:00:0a']) {
      assert.equal(canonicalMac(bad), null, bad);
    }
  });
  test('zero and group MACs', () => {
    assert.equal(isZeroMac('00:00:00:00:00:00'), true);
    assert.equal(isZeroMac('02:00:00:00:00:00'), false);
    assert.equal(isGroupMac('01:00:5e:00:00:16'), true);
    assert.equal(isGroupMac('ff:ff:ff:ff:ff:ff'), true);
    assert.equal(isGroupMac('02:00:00:00:00:10'), false);
  });
});

describe('canonicalInterfaceName', () => {
  test('accepts real interface names', () => {
    for (const ok of ['ppp0', 'br0', 'eth0.2', 'wlan0-1', 'ppp0:1', 'veth@if2', 'a'.repeat(15)]) {
      assert.equal(canonicalInterfaceName(ok), ok);
    }
  });
  test('refuses shell metacharacters, spaces and long names', () => {
    for (const bad of ['', 'ppp0;reboot', 'ppp 0', 'a'.repeat(16), '$(x)', 'ppp0\n', '*', 'ppp+']) {
      assert.equal(canonicalInterfaceName(bad), null, bad);
    }
  });
});
