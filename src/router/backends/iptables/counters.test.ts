// readHostCounters (issue 21 made it one map lookup per rule, with caches in rule-spec.ts): the same
// counters as the straightforward reading, duplicates and odd rules included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { readHostCounters, type HostCounters } from './counters.js';
import { addressOf, ifaceOf, LANTOP_COMMENT, type RuleSpec } from './rule-spec.js';
import { LANTOP_CHAINS, LAYOUTS } from './layouts.js';
import { canonicalIpv4 } from '../../../domain/address.js';
import { canonicalInterfaceName } from '../../tokens.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';

function rule(partial: Partial<Rule>): Rule {
  return { num: null, pkts: 0, bytes: 0, isExact: true, target: null, prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: LANTOP_COMMENT, ...partial };
}
const listing = (...chains: Chain[]): IptablesListing => ({ chains, warnings: [], errors: [] });
const chain = (name: string, rules: Rule[]): Chain => ({ name, policy: null, references: 1, rules });

/** The reading before issue 21, without caches: a spec per rule, a "direction address" key per counter. */
function reference(l: IptablesListing, wan: string): Map<string, HostCounters> {
  const address = (c: string) => (['0.0.0.0/0', 'anywhere', '::/0'].includes(c) ? null : canonicalIpv4(c.endsWith('/32') ? c.slice(0, -3) : c) ?? undefined);
  const iface = (c: string) => (['*', 'any', ''].includes(c) ? null : canonicalInterfaceName(c) ?? undefined);
  const counters = new Map<string, HostCounters>();
  const seen = new Set<string>();
  for (const name of LANTOP_CHAINS) {
    for (const r of l.chains.find((c) => c.name === name)?.rules ?? []) {
      if (r.extra.trim() !== '' || (r.prot !== 'all' && r.prot !== '0') || !['--', '', '   '].includes(r.opt)) continue;
      const [source, destination, inIface, outIface] = [address(r.source), address(r.destination), iface(r.in), iface(r.out)];
      if (source === undefined || destination === undefined || inIface === undefined || outIface === undefined) continue;
      const spec: RuleSpec = { chain: name, in: inIface, out: outIface, source, destination, target: r.target, isTagged: r.comment === LANTOP_COMMENT };
      const held = LAYOUTS.flat.counterOf(spec, wan) ?? LAYOUTS.split.counterOf(spec, wan);
      if (held === null || seen.has(`${held.direction} ${held.address}`)) continue;
      seen.add(`${held.direction} ${held.address}`);
      const c = counters.get(held.address) ?? { downBytes: 0, upBytes: 0, isExact: true };
      counters.set(held.address, c);
      if (held.direction === 'down') c.downBytes = r.bytes;
      else c.upBytes = r.bytes;
      if (!r.isExact) c.isExact = false;
    }
  }
  return counters;
}

test('the first rule of a host and direction counts, whatever its bytes; hosts in listing order', () => {
  const flat = listing(
    chain('TRAFFIC', [
      rule({ in: 'ppp0', destination: '198.51.100.20', bytes: 0 }),
      rule({ in: 'ppp0', destination: '198.51.100.20', bytes: 500, isExact: false }),
      rule({ out: 'ppp0', source: '198.51.100.10/32', bytes: 9, isExact: false }),
      rule({ out: 'ppp0', source: '198.51.100.20', bytes: -1 }),
    ]),
  );
  assert.deepEqual([...readHostCounters(flat, 'ppp0')], [
    ['198.51.100.20', { downBytes: 0, upBytes: -1, isExact: true }],
    ['198.51.100.10', { downBytes: 0, upBytes: 9, isExact: false }],
  ]);
});

test('interface and address columns read the same on every call (caches), whichever WAN is asked', () => {
  const l = listing(chain('TRAFFIC', [rule({ in: 'ppp0', destination: '198.51.100.1' }), rule({ in: 'eth1', destination: '198.51.100.2' }), rule({ in: 'bad name', destination: '198.51.100.3' }), rule({ in: 'ppp0', destination: '198.51.100.4' })]));
  for (let round = 0; round < 3; round++) {
    assert.deepEqual([...readHostCounters(l, 'ppp0').keys()], ['198.51.100.1', '198.51.100.4']);
    assert.deepEqual([...readHostCounters(l, 'eth1').keys()], ['198.51.100.2']);
  }
  for (let round = 0; round < 2; round++) {
    assert.deepEqual([ifaceOf('*'), ifaceOf('ppp0'), ifaceOf('ppp0'), ifaceOf('any'), ifaceOf('bad name'), ifaceOf('bad name'), ifaceOf('eth1')], [null, 'ppp0', 'ppp0', null, undefined, undefined, 'eth1']);
    assert.deepEqual([addressOf('0.0.0.0/0'), addressOf('198.51.100.7/32'), addressOf('198.51.100.7'), addressOf('2001:db8::1'), addressOf('198.51.100.0/24')], [null, '198.51.100.7', '198.51.100.7', undefined, undefined]);
  }
});

test('readHostCounters equals the straightforward reading on any listing', () => {
  const address = fc.constantFrom('0.0.0.0/0', 'anywhere', '198.51.100.1', '198.51.100.2', '198.51.100.1/32', '198.51.100.0/24', '2001:db8::1', '!198.51.100.1', 'junk');
  const iface = fc.constantFrom('*', 'any', 'ppp0', 'eth1', '!ppp0', 'bad name');
  const arbitraryRule = fc.record({
    bytes: fc.nat(),
    isExact: fc.boolean(),
    target: fc.constantFrom(null, 'RETURN', 'TRAFFIC_DOWN', 'TRAFFIC_UP', 'DROP'),
    prot: fc.constantFrom('all', '0', 'tcp'),
    opt: fc.constantFrom('--', '', '-f'),
    in: iface,
    out: iface,
    source: address,
    destination: address,
    extra: fc.constantFrom('', ' ', 'tcp dpt:22'),
    comment: fc.constantFrom(null, LANTOP_COMMENT, 'other'),
  }).map((r) => rule(r));
  const arbitraryChain = fc.tuple(fc.constantFrom('TRAFFIC', 'TRAFFIC_DOWN', 'TRAFFIC_UP', 'FORWARD'), fc.array(arbitraryRule, { maxLength: 12 })).map(([name, rules]) => chain(name, rules));
  fc.assert(
    fc.property(fc.array(arbitraryChain, { maxLength: 4 }), fc.constantFrom('ppp0', 'eth1'), (chains, wan) => {
      const l = listing(...chains);
      assert.deepEqual([...readHostCounters(l, wan)], [...reference(l, wan)]);
    }),
    { numRuns: 1000 },
  );
});
