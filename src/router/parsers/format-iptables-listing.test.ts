import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIptablesCounter, formatIptablesListing, formatIptablesRow, type ListingRow } from './format-iptables-listing.js';
import { parseIptablesListing } from './iptables-listing.js';
import type { Chain, Rule } from './types.js';
import { readFixture } from '../../../test/fixtures.js';

describe('formatIptablesListing reproduces real iptables 1.8.9 output byte for byte', () => {
  const cases: Array<[string, { exact: boolean; lineNumbers: boolean; verbose: boolean }]> = [
    ['iptables-L-TRAFFIC-v-x-n.txt', { exact: true, lineNumbers: false, verbose: true }],
    ['iptables-L-TRAFFIC-v-x-n-line-numbers.txt', { exact: true, lineNumbers: true, verbose: true }],
    ['iptables-L-TRAFFIC-v-n.txt', { exact: false, lineNumbers: false, verbose: true }],
    ['iptables-L-v-x-n.txt', { exact: true, lineNumbers: false, verbose: true }],
    ['iptables-L-v-n-line-numbers.txt', { exact: false, lineNumbers: true, verbose: true }],
    ['iptables-L-TRAFFIC-n.txt', { exact: true, lineNumbers: false, verbose: false }],
  ];
  for (const backend of ['legacy', 'nft']) {
    for (const [file, options] of cases) {
      test(`${backend}/${file}`, () => {
        const real = readFixture(`iptables/1.8.9-${backend}/${file}`);
        const listing = parseIptablesListing(real);
        assert.equal(formatIptablesListing(listing.chains, options), real);
      });
    }
  }
});

describe('formatIptablesCounter', () => {
  test('scales like xtables_print_num', () => {
    assert.equal(formatIptablesCounter(99999, false), '99999 ');
    assert.equal(formatIptablesCounter(100000, false), ' 100K ');
    assert.equal(formatIptablesCounter(98765432, false), '  99M ');
    assert.equal(formatIptablesCounter(5e12, false), '5000G ');
    assert.equal(formatIptablesCounter(5e13, false), '  50T ');
    assert.equal(formatIptablesCounter(4294967296, true), '4294967296 ');
    assert.equal(formatIptablesCounter(3, true), '       3 ');
  });

  test('bigint counters (the emulator\'s) stay exact past 2^53 and wrap near 2^64 as C does', () => {
    assert.equal(formatIptablesCounter(9007199254740993n, true), '9007199254740993 ');
    assert.equal(formatIptablesCounter(98765432n, false), '  99M ');
    assert.equal(formatIptablesCounter(18446744073709551615n, false), '   0K ');
  });
});

describe('formatIptablesRow', () => {
  const row: ListingRow = {
    pkts: 0, bytes: 0, target: 'LOGGER', prot: '!tcp', opt: '--', in: 'ppp0', out: '*', source: '!198.51.100.0/24', destination: '0.0.0.0/0',
    isGoto: true, comment: 'lantop', extra: '',
  };

  test('table form: "[goto] " before the comment, the comment before the target options', () => {
    const layout = { hasCounters: false, hasInterfaces: false, isExact: true, hasLineNumbers: false, isTable: true };
    assert.equal(formatIptablesRow(row, 1, layout), 'LOGGER    !tcp  -- !198.51.100.0/24      0.0.0.0/0           [goto]  /* lantop */\n');
  });

  test('FMT_NOTABLE form, as `iptables -v -A` echoes a rule', () => {
    const layout = { hasCounters: false, hasInterfaces: true, isExact: false, hasLineNumbers: false, isTable: false };
    assert.equal(formatIptablesRow({ ...row, isGoto: false, comment: null, extra: 'LOG flags 0 level 4' }, 0, layout), 'LOGGER !tcp opt -- in ppp0 out * !198.51.100.0/24  -> 0.0.0.0/0   LOG flags 0 level 4\n');
  });
});

// Generators for rules iptables could print (the parser's documented domain).
const octet = fc.integer({ min: 0, max: 255 });
const ipv4 = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));
const address = fc.oneof(
  ipv4,
  fc.tuple(ipv4, fc.integer({ min: 0, max: 32 })).map(([ip, len]) => `${ip}/${len}`),
  fc.constant('0.0.0.0/0'),
).chain((a) => fc.constantFrom(a, `!${a}`));
const iface = fc.oneof(fc.constant('*'), fc.stringMatching(/^[a-z][a-z0-9]{0,6}[0-9]$/)).chain((i) => (i === '*' ? fc.constant(i) : fc.constantFrom(i, `!${i}`)));
const name = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,27}$/);
const safeText = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9 ,.:_=-]{0,30}[A-Za-z0-9]$/).map((s) => s.replace(/\s+/g, ' '));
const counter = fc.oneof(fc.integer({ min: 0, max: 99999 }), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }));

const rule: fc.Arbitrary<Rule> = fc.record({
  num: fc.constant(null),
  pkts: counter,
  bytes: counter,
  isExact: fc.constant(true),
  target: fc.option(fc.oneof(fc.constantFrom('ACCEPT', 'DROP', 'RETURN', 'TRAFFIC'), name), { nil: null }),
  prot: fc.constantFrom('all', '0', 'tcp', 'udp', '6', '17', '47', '!tcp', '!17', 'icmp'),
  opt: fc.constantFrom('--', '-f', '!f'),
  in: iface,
  out: iface,
  source: address,
  destination: address,
  extra: fc.oneof(fc.constant(''), safeText),
  comment: fc.option(safeText, { nil: null }),
});

const chain: fc.Arbitrary<Chain> = fc
  .record({
    name,
    builtin: fc.boolean(),
    references: fc.integer({ min: 0, max: 9 }),
    policyPkts: counter,
    policyBytes: counter,
    rules: fc.array(rule, { maxLength: 12 }),
  })
  .map(({ name, builtin, references, policyPkts, policyBytes, rules }) =>
    builtin
      ? { name, policy: 'ACCEPT', references: null, policyPkts, policyBytes, rules }
      : { name, policy: null, references, policyPkts: null, policyBytes: null, rules },
  );

describe('round trip: parse(format(chains)) === chains', () => {
  test('exact counters, with and without line numbers', () => {
    fc.assert(
      fc.property(fc.array(chain, { maxLength: 4 }), fc.boolean(), (chains, lineNumbers) => {
        const text = formatIptablesListing(chains, { exact: true, lineNumbers });
        const parsed = parseIptablesListing(text);
        assert.deepEqual(parsed.skipped, []);
        assert.deepEqual(parsed.errors, []);
        const expected = chains.map((c) => ({
          ...c,
          rules: c.rules.map((r, i) => ({ ...r, num: lineNumbers ? i + 1 : null })),
        }));
        assert.deepEqual(parsed.chains, expected);
      }),
      { numRuns: 200 },
    );
  });

  test('without -x: every field but the counters survives; counters within half a unit and flagged', () => {
    fc.assert(
      fc.property(fc.array(chain, { maxLength: 3 }), (chains) => {
        const parsed = parseIptablesListing(formatIptablesListing(chains, { exact: false }));
        assert.equal(parsed.chains.length, chains.length);
        parsed.chains.forEach((c, ci) => {
          c.rules.forEach((r, ri) => {
            const truth = chains[ci]!.rules[ri]!;
            assert.equal(r.target, truth.target);
            assert.equal(r.comment, truth.comment);
            assert.equal(r.destination, truth.destination);
            for (const key of ['pkts', 'bytes'] as const) {
              const v = truth[key];
              if (v <= 99999) assert.equal(r[key], v);
              else {
                const unit = [1e3, 1e6, 1e9, 1e12].find((u) => Math.floor((v + u / 2) / u) <= 9999) ?? 1e12;
                assert.ok(Math.abs(r[key] - v) <= unit, `${key} ${r[key]} vs ${v}`);
              }
            }
            assert.equal(r.isExact, truth.pkts <= 99999 && truth.bytes <= 99999);
          });
        });
      }),
      { numRuns: 150 },
    );
  });
});
