// The code-unit column checks accept exactly what the regexes they replace accept (issue 21).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { codeUnitsOf, isIfaceAt, isIpv4ColumnAt, isProtAt, isTrimmed, plainCounter } from './iptables-columns.js';

const IFACE = /^!?[A-Za-z0-9_.:@+*-]{1,16}$/;
const PROT = /^!?(?:all|\d{1,3}|[a-z][a-z0-9-]*)$/;
const IPV4_COLUMN = /^!?\d{1,3}(?:\.\d{1,3}){3}(?:\/(?:\d{1,2}|\d{1,3}(?:\.\d{1,3}){3}))?$/;

/** Runs a check on `text` placed inside other text, as the parser does (indices into a listing). */
function at(check: (codes: Uint16Array, start: number, end: number) => boolean, text: string): boolean {
  const padded = `x ${text} y`;
  return check(codeUnitsOf(padded), 2, 2 + text.length);
}

const from = (alphabet: string, maxLength: number) => fc.string({ unit: fc.constantFrom(...alphabet.split('')), maxLength });

describe('column checks match their regexes', () => {
  test('interface', () => {
    for (const s of ['', '!', '*', 'ppp0', '!ppp0', '!!ppp0', 'br-lan', 'a'.repeat(16), `!${'a'.repeat(16)}`, 'a'.repeat(17), 'eth0~', 'é']) assert.equal(at(isIfaceAt, s), IFACE.test(s), s);
    fc.assert(fc.property(fc.oneof(from('ab0*+!.-:@_Z~ é', 20), fc.string({ maxLength: 20 })), (s) => at(isIfaceAt, s) === IFACE.test(s)), { numRuns: 3000 });
  });

  test('protocol', () => {
    for (const s of ['', '!', 'all', '0', '6', '47', '255', '1234', '!tcp', 'icmpv6', 'a-1', 'A', '-a', '!!tcp', 'tcp!']) assert.equal(at(isProtAt, s), PROT.test(s), s);
    fc.assert(fc.property(fc.oneof(from('al0123!-zA6 ', 8), fc.string({ maxLength: 8 })), (s) => at(isProtAt, s) === PROT.test(s)), { numRuns: 3000 });
  });

  test('IPv4 address column (/len and /mask forms)', () => {
    const cases = ['0.0.0.0/0', '198.51.100.10', '!198.51.100.0/24', '198.51.100.1/32', '10.0.0.0/255.0.0.0', '1.2.3', '1.2.3.4/', '1.2.3.4/123', '1111.2.3.4', '1.2.3.4/1.2.3', '1.2.3.4.5', '::/0', '!', ''];
    for (const s of cases) assert.equal(at(isIpv4ColumnAt, s), IPV4_COLUMN.test(s), s);
    fc.assert(fc.property(from('0123456789./!', 24), (s) => at(isIpv4ColumnAt, s) === IPV4_COLUMN.test(s)), { numRuns: 5000 });
  });

  test('plain counter: digits only, up to 20 of them, else -1', () => {
    const counter = (s: string) => plainCounter(codeUnitsOf(`x${s}y`), 1, 1 + s.length);
    assert.equal(counter('0'), 0);
    assert.equal(counter('5000000000000'), 5_000_000_000_000);
    assert.equal(counter(''), -1);
    assert.equal(counter('12K'), -1);
    assert.equal(counter('-1'), -1);
    assert.equal(counter('1'.repeat(21)), -1);
  });
});

test('isTrimmed is exactly what String.prototype.trim removes, for every code unit', () => {
  for (let code = 0; code <= 0xffff; code++) {
    const ch = String.fromCharCode(code);
    assert.equal(isTrimmed(code), ch.trim() === '', `U+${code.toString(16)}`);
  }
});

test('codeUnitsOf copies code units as they are (lone surrogates, non-Latin-1) and is reusable', () => {
  const odd = 'a\ud800b\udfffé€\u2028';
  const long = 'x'.repeat(5000);
  assert.deepEqual([...codeUnitsOf(long).subarray(0, 3)], [120, 120, 120]);
  const units = codeUnitsOf(odd);
  assert.deepEqual([...units.subarray(0, odd.length)], Array.from({ length: odd.length }, (_, i) => odd.charCodeAt(i)));
  assert.equal(String.fromCharCode(...units.subarray(0, odd.length)), odd);
});
