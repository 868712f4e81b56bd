import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classKey, classOfKey, parseClassList } from './traffic-class.js';

test('--ports and --protocols become classes: a bare port is tcp and udp, duplicates fold, stable order', () => {
  assert.deepEqual(parseClassList('443,tcp/80,udp/53,443', 'udp,icmp').map(classKey), ['tcp/80', 'tcp/443', 'udp', 'udp/53', 'udp/443', 'icmp']);
  assert.deepEqual(parseClassList(undefined, undefined), []);
});

test('bad input is refused with what was wrong', () => {
  assert.throws(() => parseClassList('0', undefined), /not a port/);
  assert.throws(() => parseClassList('65536', undefined), /not a port/);
  assert.throws(() => parseClassList('http', undefined), /not a port/);
  assert.throws(() => parseClassList('icmp/8', undefined), /only tcp, udp and sctp have ports/);
  assert.throws(() => parseClassList(undefined, 'quic'), /not one of/);
  assert.throws(() => parseClassList('443;reboot', undefined), /not a port/);
});

test('keys read back are checked: only what parseClassList could make', () => {
  fc.assert(fc.property(fc.string(), (text) => {
    const c = classOfKey(text);
    if (c !== null) assert.equal(classKey(c), text);
  }));
  assert.deepEqual(classOfKey('tcp/443'), { protocol: 'tcp', port: 443 });
  assert.equal(classOfKey('icmp/1'), null);
  assert.equal(classOfKey('tcp/0443'), null);
  assert.equal(classOfKey('tcp/443 -j ACCEPT'), null);
});
