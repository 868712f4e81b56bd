import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { addressFamily, canonicalAddress, canonicalIpv4, canonicalIpv6, compareAddresses, parseAddress } from './address.js';

describe('parseAddress', () => {
  test('keeps canonical IPv4 and refuses leading zeros, out-of-range octets and junk', () => {
    assert.deepEqual(parseAddress('198.51.100.7'), { family: 4, text: '198.51.100.7' });
    for (const bad of ['010.1.1.1', '256.1.1.1', '1.2.3', '1.2.3.4.5', ' 1.2.3.4', '1.2.3.4 ', '', 'a.b.c.d', '1.2.3.4;reboot']) {
      assert.equal(parseAddress(bad), null, bad);
    }
  });

  test('writes IPv6 in RFC 5952 form', () => {
    // RFC 5952 §4: lower case, no leading zeros, longest zero run compressed, first on a tie, no :: for one group.
    assert.equal(canonicalAddress('2001:0DB8:0000:0000:0000:0000:0000:0001'), '2001:db8::1');
    assert.equal(canonicalAddress('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1');
    assert.equal(canonicalAddress('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1');
    assert.equal(canonicalAddress('2001:db8::0:1'), '2001:db8::1');
    assert.equal(canonicalAddress('fe80:0:0:0:0211:22ff:fe33:4455'), 'fe80::211:22ff:fe33:4455');
    assert.equal(canonicalAddress('::'), '::');
    assert.equal(canonicalAddress('::1'), '::1');
    assert.equal(canonicalAddress('1::'), '1::');
    assert.equal(canonicalAddress('::ffff:c633:6407'), '::ffff:198.51.100.7');
    assert.equal(canonicalAddress('64:ff9b::198.51.100.7'), '64:ff9b::c633:6407');
  });

  test('refuses malformed IPv6, zones and brackets', () => {
    for (const bad of ['1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1::2::3', '12345::', 'fe80::1%br0', '[2001:db8::1]', '2001:db8::g', ':1:2:3:4:5:6:7', '2001:db8::1.2.3', '::1 ']) {
      assert.equal(parseAddress(bad), null, bad);
    }
  });

  test('tells the families apart', () => {
    assert.equal(addressFamily('198.51.100.1'), 4);
    assert.equal(addressFamily('2001:db8::1'), 6);
    assert.equal(addressFamily('router'), null);
    assert.equal(canonicalIpv4('2001:db8::1'), null);
    assert.equal(canonicalIpv6('198.51.100.1'), null);
  });
});

describe('compareAddresses', () => {
  test('orders IPv4 numerically, then IPv6 numerically, then anything else', () => {
    const sorted = ['zeta', '2001:db8::10', '198.51.100.10', '2001:db8::9', '198.51.100.9', '::1', '10.0.0.1'].sort(compareAddresses);
    assert.deepEqual(sorted, ['10.0.0.1', '198.51.100.9', '198.51.100.10', '::1', '2001:db8::9', '2001:db8::10', 'zeta']);
  });

  test('treats two spellings of one address as equal', () => {
    assert.equal(compareAddresses('2001:DB8::1', '2001:db8:0::1'), 0);
  });
});
