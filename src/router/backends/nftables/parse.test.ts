// The nft parsers against real listings: nft 1.0.6 captured here (fixtures/nftables/1.0.6, by
// capture-nftables.sh) and nftables' own test dumps (fixtures/nftables/published). Text and JSON
// of the same table must say the same thing, and the counters must be the traffic that was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { listFixtures, readFixture } from '../../../../test/fixtures.js';
import { canonicalAddress } from '../../../domain/address.js';
import { parseNftText, parseTextElement } from './parse-text.js';
import { parseNftJson, isNftJson } from './parse-json.js';
import { durationSeconds, findTable, priorityValue, type NftListing } from './nft-model.js';
import { readCounters } from './layouts.js';

const REAL = 'nftables/1.0.6';
const LISTED = ['dynamic-sets', 'dynamic-sets-idle', 'static-sets', 'rules', 'incomplete-no-chain', 'foreign', 'bare-elements'];

/** What both formats must agree on: sets (order-free, `dynamic` aside: nft 1.0.6 JSON omits it), chains, rules. */
function summary(listing: NftListing, options: { handles: boolean; typeofTypes: boolean } = { handles: true, typeofTypes: true }): unknown {
  return listing.tables.map((t) => ({
    family: t.family,
    name: t.name,
    handle: options.handles ? t.handle : null,
    others: t.others,
    sets: [...t.sets]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((s) => ({
        ...s,
        handle: options.handles ? s.handle : null,
        type: !options.typeofTypes && s.type?.startsWith('typeof') ? 'typeof' : s.type,
        // nft 1.0.6 JSON leaves `dynamic` out; a text listing may leave `timeout` implicit.
        flags: [...new Set([...s.flags.filter((f) => f !== 'dynamic'), ...(s.timeoutSeconds !== null ? ['timeout'] : [])])].sort(),
        elements: s.elements.map((e) => ({ address: canonicalAddress(e.value), counter: e.counter })),
      })),
    chains: t.chains.map((c) => ({ ...c, handle: options.handles ? c.handle : null, rules: c.rules.map((r) => ({ norm: r.norm, comment: r.comment, counter: r.counter, handle: options.handles ? r.handle : null })) })),
  }));
}

for (const name of LISTED) {
  test(`${name}: text (-a), text and JSON listings of nft 1.0.6 agree, nothing skipped`, () => {
    const withHandles = parseNftText(readFixture(`${REAL}/${name}-list-a.txt`));
    const plain = parseNftText(readFixture(`${REAL}/${name}-list.txt`));
    const json = parseNftJson(readFixture(`${REAL}/${name}-list-j.json`));
    assert.deepEqual(withHandles.skipped, []);
    assert.deepEqual(json.skipped, []);
    assert.equal(json.version, '1.0.6');
    assert.equal(withHandles.tables.length, 1);
    assert.deepEqual(summary(withHandles), summary(json));
    assert.deepEqual(summary(plain, { handles: false, typeofTypes: true }), summary(json, { handles: false, typeofTypes: true }));
    assert.ok(plain.tables[0]!.chains.every((c) => c.handle === null && c.rules.every((r) => r.handle === null)), 'no handles without -a');
  });
}

// capture-nftables.sh sends exactly this through the router (echo request out, reply in).
const SENT = new Map([
  ['198.51.100.10', 384],
  ['198.51.100.11', 456],
  ['2001:db8:1::10', 296],
  ['2001:db8:1::11', 348],
]);

for (const name of ['dynamic-sets', 'static-sets', 'rules', 'incomplete-no-chain', 'foreign']) {
  test(`${name}: the counters are the bytes sent, per address and direction, in both formats`, () => {
    for (const file of [`${name}-list-a.txt`, `${name}-list.txt`, `${name}-list-j.json`]) {
      const text = readFixture(`${REAL}/${file}`);
      const listing = file.endsWith('.json') ? parseNftJson(text) : parseNftText(text);
      const counters = readCounters(findTable(listing, 'inet', 'lantop'));
      for (const [address, bytes] of SENT) assert.deepEqual(counters.get(address), { downBytes: bytes, upBytes: bytes }, `${file} ${address}`);
      for (const [address, pair] of counters) if (!SENT.has(address)) assert.deepEqual(pair, { downBytes: 0, upBytes: 0 }, `${file}: idle ${address}`);
    }
  });
}

test('static-sets: every element of the long lists is read (40 + 2 IPv4, 8 IPv6 per set), in both formats', () => {
  for (const listing of [parseNftText(readFixture(`${REAL}/static-sets-list.txt`)), parseNftJson(readFixture(`${REAL}/static-sets-list-j.json`))]) {
    const table = findTable(listing, 'inet', 'lantop')!;
    assert.deepEqual(table.sets.map((s) => [s.name, s.elements.length, s.hasCounter]).sort(), [['dl4', 42, true], ['dl6', 8, true], ['ul4', 42, true], ['ul6', 8, true]]);
  }
});

test('dynamic sets: type, size, timeout and flags as declared; idle sets list no elements', () => {
  const text = findTable(parseNftText(readFixture(`${REAL}/dynamic-sets-idle-list-a.txt`)), 'inet', 'lantop')!;
  const dl6 = text.sets.find((s) => s.name === 'dl6')!;
  assert.deepEqual([dl6.type, dl6.size, dl6.timeoutSeconds, dl6.flags, dl6.elements.length], ['ipv6_addr', 16384, 604800, ['dynamic', 'timeout'], 0]);
  const json = findTable(parseNftJson(readFixture(`${REAL}/dynamic-sets-idle-list-j.json`)), 'inet', 'lantop')!;
  assert.deepEqual(json.sets.find((s) => s.name === 'dl6')!.flags, ['timeout'], 'nft 1.0.6 JSON leaves `dynamic` out');
  const forward = text.chains[0]!;
  assert.deepEqual([forward.type, forward.hook, forward.priority, forward.policy], ['filter', 'forward', 10, 'accept']);
  assert.equal(forward.rules[0]!.norm, 'iifname "ppp0" update @dl4 { ip daddr counter }');
  assert.equal(forward.rules[0]!.comment, 'lantop');
  assert.equal(forward.rules[0]!.handle, 6);
});

test('foreign objects are all visible: a named counter, a set, a chain and a rule without comment', () => {
  for (const listing of [parseNftText(readFixture(`${REAL}/foreign-list-a.txt`)), parseNftJson(readFixture(`${REAL}/foreign-list-j.json`))]) {
    const table = findTable(listing, 'inet', 'lantop')!;
    assert.deepEqual(table.others, [{ kind: 'counter', name: 'wanbytes' }]);
    assert.ok(table.sets.some((s) => s.name === 'block4' && s.elements[0]!.value === '198.51.100.98' && s.elements[0]!.counter === null));
    const extra = table.chains.find((c) => c.name === 'extra')!;
    assert.equal(extra.rules[0]!.norm, 'ip daddr 198.51.100.99 counter');
    const stray = table.chains.find((c) => c.name === 'forward')!.rules.at(-1)!;
    assert.deepEqual([stray.norm, stray.comment, stray.counter], ['iifname "lan0" counter', null, { packets: 8, bytes: 1484 }]);
  }
});

test('a missing table is no listing: both commands answer the same error text on stderr', () => {
  const expected = 'Error: No such file or directory\nlist table inet lantop\n                ^^^^^^\n';
  for (const file of ['missing-list.txt', 'missing-list-a.txt', 'missing-list-j.json']) {
    const text = readFixture(`${REAL}/${file}`);
    assert.equal(text, expected, file);
    assert.equal(parseNftText(text).tables.length, 0);
    assert.equal(isNftJson(text), false);
  }
});

const PUBLISHED = listFixtures('nftables/published').filter((f) => f.endsWith('.nft')).map((f) => f.slice(0, -4));

for (const name of PUBLISHED) {
  test(`published nftables test dump ${name}: text and JSON agree where both say something`, () => {
    const text = parseNftText(readFixture(`nftables/published/${name}.nft`));
    const json = parseNftJson(readFixture(`nftables/published/${name}.json-nft`));
    assert.deepEqual(text.skipped, []);
    assert.equal(json.version, 'VERSION');
    const a = summary(text, { handles: false, typeofTypes: false }) as Array<Record<string, unknown>>;
    const b = summary(json, { handles: false, typeofTypes: false }) as Array<Record<string, unknown>>;
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) {
      assert.deepEqual(a[i]!['sets'], b[i]!['sets'], 'sets');
      assert.deepEqual(a[i]!['others'], b[i]!['others'], 'other objects');
      const chainsA = a[i]!['chains'] as Array<{ rules: Array<{ norm: string | null }> }>;
      const chainsB = b[i]!['chains'] as Array<{ rules: Array<{ norm: string | null }> }>;
      assert.equal(chainsA.length, chainsB.length);
      for (const [c, chain] of chainsB.entries()) {
        const other = chainsA.find((x) => (x as unknown as { name: string }).name === (chain as unknown as { name: string }).name)!;
        assert.equal(other.rules.length, chain.rules.length);
        // JSON rules lantop's renderer does not know (icmp types, vmaps…) have no norm; the rest match the text.
        chain.rules.forEach((r, k) => r.norm !== null && assert.deepEqual(other.rules[k], r, `chain ${c} rule ${k}`));
      }
    }
  });
}

test('published 0048set_counters_0: three counted elements on several lines', () => {
  const set = parseNftText(readFixture('nftables/published/0048set_counters_0.nft')).tables[0]!.sets[0]!;
  assert.deepEqual(set.elements, ['192.168.10.35', '192.168.10.101', '192.168.10.135'].map((value) => ({ value, counter: { packets: 0, bytes: 0 } })));
  assert.equal(set.hasCounter, true);
  assert.equal(set.type, 'typeof ip saddr');
});

test('element options in any order (nftables tests/shell/testcases/sets/elem_opts_compat_0 writes both)', () => {
  assert.deepEqual(parseTextElement('42 expires 10s counter packets 10 bytes 20'), { value: '42', counter: { packets: 10, bytes: 20 } });
  assert.deepEqual(parseTextElement('23 counter packets 10 bytes 20 expires 10s'), { value: '23', counter: { packets: 10, bytes: 20 } });
  assert.deepEqual(parseTextElement('2.0.0.2 counter packets 10 bytes 100 timeout 15m expires 10m'), { value: '2.0.0.2', counter: { packets: 10, bytes: 100 } });
});

test('priorities and durations as nft prints them', () => {
  assert.deepEqual(['filter + 10', 'filter - 5', 'mangle', '-150', '10', 'bogus', 'filter + x'].map(priorityValue), [10, -5, -150, -150, 10, null, null]);
  assert.deepEqual(['7d', '6d23h59m57s980ms', '30m', '2s996ms', '1h', '', 'x'].map(durationSeconds), [604800, 604797, 1800, 2, 3600, null, null]);
});

test('counters beyond 2^32 are read in full', () => {
  const text = 'table inet lantop {\n\tchain dl {\n\t\tip daddr 198.51.100.10 counter packets 4294967296 bytes 5000000000000 return comment "lantop"\n\t}\n}\n';
  assert.deepEqual(parseNftText(text).tables[0]!.chains[0]!.rules[0]!.counter, { packets: 4294967296, bytes: 5000000000000 });
});

test('the parsers never throw, whatever the router answers', () => {
  const real = readFixture(`${REAL}/foreign-list-a.txt`);
  const json = readFixture(`${REAL}/foreign-list-j.json`);
  fc.assert(
    fc.property(fc.string(), fc.integer({ min: 0, max: real.length }), (junk, cut) => {
      for (const text of [junk, real.slice(0, cut) + junk, json.slice(0, cut * 2), `{"nftables": ${junk}}`, `{"nftables": [${junk}]}`]) {
        parseNftText(text);
        parseNftJson(text);
      }
    }),
    { numRuns: 300 },
  );
  for (const odd of ['{"nftables": [null, 1, "x", {"set": null}, {"rule": {"expr": 5}}, {"table": {"family": 1}}]}', '}}}', 'table inet lantop {\n\tset x {\n\t\telements = { 1.2.3.4,', '\u001b[31mtable\u0000']) {
    assert.doesNotThrow(() => parseNftJson(odd));
    assert.doesNotThrow(() => parseNftText(odd));
  }
  assert.deepEqual(parseNftText(undefined as unknown as string).tables, []);
});
