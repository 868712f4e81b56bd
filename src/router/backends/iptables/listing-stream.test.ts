// ListingStream: a listing parsed block by block as it arrives is the listing parsed whole, for
// every way of cutting it into blocks of complete lines, and falls back to the whole parse when
// the blocks do not add up to the output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ListingStream } from './listing-stream.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import { formatIptablesListing } from '../../parsers/format-iptables-listing.js';
import type { Chain, Rule } from '../../parsers/types.js';
import { listFixtures, readFixture } from '../../../../test/fixtures.js';

/** The poll's shape: built-in chains, the jump, and 2 rules per host in TRAFFIC (flat layout). */
function pollListing(hosts: number): string {
  const rule = (num: number, fields: Partial<Rule>): Rule => ({ num, pkts: 0, bytes: 0, isExact: true, target: null, prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: 'lantop', ...fields });
  const rules: Rule[] = [];
  for (let i = 0; i < hosts; i++) {
    const ip = `198.51.100.${2 + i}`;
    rules.push(rule(2 * i + 1, { in: 'ppp0', destination: ip, pkts: 7 * i, bytes: 1_234_567_891 * i }));
    rules.push(rule(2 * i + 2, { out: 'ppp0', source: ip, pkts: 3 * i, bytes: 987_654 * i }));
  }
  const chains: Chain[] = [
    { name: 'INPUT', policy: 'ACCEPT', references: null, policyPkts: 10, policyBytes: 1000, rules: [] },
    { name: 'FORWARD', policy: 'DROP', references: null, policyPkts: 0, policyBytes: 0, rules: [rule(1, { target: 'TRAFFIC', comment: null, pkts: 99, bytes: 9999 }), rule(2, { target: 'ACCEPT', comment: null, extra: 'state RELATED,ESTABLISHED' })] },
    { name: 'OUTPUT', policy: 'ACCEPT', references: null, policyPkts: 0, policyBytes: 0, rules: [] },
    { name: 'TRAFFIC', policy: null, references: 1, rules },
  ];
  return formatIptablesListing(chains, { exact: true, lineNumbers: true, verbose: true });
}

/** The output as a session resolves it (no final line end) and its lines as handed over, `per` lines a block. */
function cut(text: string, per: (index: number) => number): { output: string; blocks: string[] } {
  const output = text.replace(/\n$/, '');
  const lines = `${output}\n`.split(/(?<=\n)/);
  const blocks: string[] = [];
  for (let i = 0, b = 0; i < lines.length; b++) {
    const n = Math.max(1, per(b));
    blocks.push(lines.slice(i, i + n).join(''));
    i += n;
  }
  return { output, blocks };
}

function streamed(output: string, blocks: readonly string[], isWholeExpected = false) {
  const stream = new ListingStream();
  for (const block of blocks) stream.push(block);
  const listing = stream.finish(output);
  assert.equal(stream.didParseWhole, isWholeExpected, 'parsed whole');
  return listing;
}

const listings: Array<[string, string]> = [
  ['generated poll, 253 hosts', pollListing(253)],
  ...listFixtures('iptables').filter((d) => !d.includes('.') || /^\d/.test(d)).flatMap((dir) => listFixtures(`iptables/${dir}`)
    .filter((f) => f.endsWith('.txt') && !/-V\.txt$|errors|help/.test(f)).map((f): [string, string] => [`${dir}/${f}`, readFixture(`iptables/${dir}/${f}`)])),
];

test('the fixtures are there to cut', () => {
  assert.ok(listings.length > 15, `${listings.length} listings`);
});

test('every cut of a listing into blocks of lines parses to what the whole text parses to', () => {
  let random = 12345;
  const next = () => (random = (random * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (const [name, text] of listings) {
    const whole = parseIptablesListing(text.replace(/\n$/, ''));
    const cuts: Array<[string, (b: number) => number]> = [
      ['1 line', () => 1], ['2 lines', () => 2], ['3 lines', () => 3], ['17 lines', () => 17], ['all', () => 1e9],
      ['random', () => 1 + Math.floor(next() * 12)],
    ];
    for (const [how, per] of cuts) {
      const { output, blocks } = cut(text, per);
      assert.deepEqual(streamed(output, blocks), whole, `${name}, ${how} per block`);
      // Only part handed over (a session may stop handing over): the rest comes from the output.
      assert.deepEqual(streamed(output, blocks.slice(0, Math.ceil(blocks.length / 2))), whole, `${name}, ${how}, half handed over`);
    }
  }
});

test('blocks that are not the start of the output: the output is parsed whole', () => {
  const text = pollListing(5);
  const { output, blocks } = cut(text, () => 4);
  const altered = [...blocks];
  const at = altered.findIndex((b) => b.includes('198.51.100.3'));
  assert.ok(at > 0);
  altered[at] = altered[at]!.replace('198.51.100.3', '198.51.100.9');
  assert.deepEqual(streamed(output, altered, true), parseIptablesListing(output));
  // More handed over than the output holds.
  assert.deepEqual(streamed(output, [...blocks, 'Chain EXTRA (0 references)\n'], true), parseIptablesListing(output));
});

test('chain lines it cannot be sure of (indented, malformed) fall back to the whole parse, with the same result', () => {
  const odd = [
    'Chain INPUT (policy ACCEPT 0 packets, 0 bytes)',
    'num      pkts      bytes target     prot opt in     out     source               destination',
    '  Chain TRAFFIC (1 references)',
    'num      pkts      bytes target     prot opt in     out     source               destination',
    '1          12     3456            all  --  ppp0   *       0.0.0.0/0            198.51.100.10        /* lantop */',
    'Chain of thought',
    '2           1       99            all  --  *      ppp0    198.51.100.10        0.0.0.0/0            /* lantop */',
    'telnetd:error:774.006:processInput:406:unrecognized command x',
  ].join('\n');
  const whole = parseIptablesListing(odd);
  for (const per of [1, 2, 3]) {
    const { output, blocks } = cut(odd, () => per);
    assert.deepEqual(streamed(output, blocks, true), whole, `${per} per block`);
  }
});

test('nothing handed over: finish parses the output', () => {
  const text = pollListing(3).replace(/\n$/, '');
  assert.deepEqual(new ListingStream().finish(text), parseIptablesListing(text));
});
