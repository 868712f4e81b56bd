import { test } from 'node:test';
import assert from 'node:assert/strict';
import { iptablesFloors, withRouterFloors } from './router-cost-floor.js';
import { foldedSetup } from './setup-floor.js';

// The shape of `iptables-save -t filter` after lantop's flat setup (two hosts shown).
const FLAT_DUMP = [
  '*filter', ':INPUT ACCEPT [0:0]', ':FORWARD ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':TRAFFIC - [0:0]',
  '-A FORWARD -j TRAFFIC', '-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT',
  '-A TRAFFIC -d 198.51.100.2/32 -i ppp0 -m comment --comment lantop', '-A TRAFFIC -s 198.51.100.2/32 -o ppp0 -m comment --comment lantop',
  '-A TRAFFIC -d 198.51.100.12/32 -i ppp0 -m comment --comment lantop', '-A TRAFFIC -s 198.51.100.12/32 -o ppp0 -m comment --comment lantop',
  'COMMIT', '',
].join('\n');

test('the iptables floors keep lantop\'s jump and only the measured host\'s rules', () => {
  const [jump, oneHost, oneRule] = iptablesFloors(FLAT_DUMP, '198.51.100.12');
  const rules = (dump: string) => dump.split('\n').filter((l) => l.startsWith('-A ') || l.startsWith(':TRAFFIC'));
  assert.deepEqual(rules(jump!.dump!), [':TRAFFIC - [0:0]', '-A FORWARD -j TRAFFIC', '-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT']);
  assert.deepEqual(rules(oneHost!.dump!).slice(3), ['-A TRAFFIC -d 198.51.100.12/32 -i ppp0 -m comment --comment lantop', '-A TRAFFIC -s 198.51.100.12/32 -o ppp0 -m comment --comment lantop']);
  // The download rule takes the jump's place in FORWARD; no TRAFFIC chain is left.
  assert.deepEqual(rules(oneRule!.dump!), ['-A FORWARD -d 198.51.100.12/32 -i ppp0 -m comment --comment lantop', '-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT']);
  assert.throws(() => iptablesFloors(FLAT_DUMP, '198.51.100.99'), /no counting rules/);
});

test('the floor block goes into section 2 before its throughput part', () => {
  const cell = (ns: number, pct: number) => ({ nsPerPacket: ns, percentOfNoRules: pct, perRound: [pct], min: pct, max: pct });
  const router = {
    defaultLayout: 'tree', targetPercent: 97, layouts: { tree: { ruleCount: 540, walks: { h3: 32 } } },
    floors: { sets: [{ name: 'floor-one-host', label: 'one host' }], counts: {} },
    cpu: { table: { 'none/h3': cell(2000, 100), 'floor-one-host/h3': cell(2040, 98), 'tree/h3': cell(2200, 90.9) } },
  };
  const md = withRouterFloors('## 2. Router\n\ntext\n\n**TCP throughput** more\n\n## 3. Parsing\n', router);
  assert.match(md, /text\n\n\*\*Floors\*\*[\s\S]*\| one host \| 2040 \| \+40 ns \| 98% \(98\) \|[\s\S]*gap to that floor: 7\.1 points \(160 ns[\s\S]*\n\*\*TCP throughput\*\*/);
});

test('the tree folds to more than one 972-byte line, the split to one', () => {
  assert.equal(foldedSetup('split', 254, 972).lines, 1);
  const tree = foldedSetup('tree', 254, 972);
  assert.equal(tree.lines, Math.ceil(tree.singleLineBytes / 972));
  assert.ok(tree.longestListBytes > 0 && tree.longestListBytes < tree.singleLineBytes);
});
