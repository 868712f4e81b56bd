// Custom counters (issue 18) through the iptables backend's seam, both families: the captured
// listings of fixtures/iptables/1.8.9-legacy/counters-* read as one dual-stack answer, counts
// summed over iptables and ip6tables, plans in the same batch after the host, router and class
// plans (their INPUT/OUTPUT/FORWARD jumps seen first), teardown of both families.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firmwareForOverride } from '../../firmware/families.js';
import { IptablesBackend } from './iptables-backend.js';
import { IPV6_MARKER } from './dual-stack-read.js';
import { readFixture } from '../../../../test/fixtures.js';
import { makeCustomCounter, type CounterInput, type CustomCounter } from '../../../domain/custom-counter.js';

function counter(input: CounterInput): CustomCounter {
  const made = makeCustomCounter(input);
  assert.ok(made.counter, JSON.stringify(made.problems));
  return made.counter;
}
const SSH_IN = counter({ name: 'ssh-in', hook: 'input', inIf: 'lan0', proto: 'tcp', dport: '2222' });
const UDP_IN = counter({ name: 'udp-in', hook: 'input', proto: 'udp' });
const NOT_LAN = counter({ name: 'not-lan', hook: 'input', src: '!198.51.100.0/24' });
const PING4 = counter({ name: 'ping4', hook: 'input', src: '198.51.100.0/24', proto: 'icmp' });
const FWD_WEB = counter({ name: 'fwd-web', hook: 'forward', inIf: 'lan0', outIf: 'ppp0', dst: '203.0.113.0/24', proto: 'tcp', dport: '8443' });
const DNS6_OUT = counter({ name: 'dns6-out', hook: 'output', outIf: 'ppp0', dst: '!2001:db8:1::/64', proto: 'udp', dport: '53' });
const ICMP_ANY = counter({ name: 'icmp-any', hook: 'input', proto: 'icmp' });
const ALL = [SSH_IN, UDP_IN, NOT_LAN, PING4, FWD_WEB, DNS6_OUT, ICMP_ANY];

const v4 = readFixture('iptables/1.8.9-legacy/counters-iptables-L-v-x-n.txt');
const v6 = readFixture('iptables/1.8.9-legacy/counters-ip6tables-L-v-x-n.txt');
const backend = () => new IptablesBackend(firmwareForOverride('busybox'), { wan: 'ppp0' });
const bothRead = () => backend().read(`${v4}${IPV6_MARKER}\n${v6}`);

test('a dual-stack read: counts by name, both families summed; in place as captured', () => {
  const b = backend();
  const reading = b.read(`${v4}${IPV6_MARKER}\n${v6}`);
  const read = b.readCustomCounters(reading, ALL);
  assert.equal(read.isInPlace, true);
  const v4Only = backend().readCustomCounters(backend().read(v4), ALL);
  // The families' counts add up for the counters of both families (no address): ssh-in, udp-in, icmp-any.
  for (const name of ['ssh-in', 'udp-in', 'icmp-any']) assert.ok(read.counts.get(name)!.bytes > (v4Only.counts.get(name)?.bytes ?? 0), name);
  assert.deepEqual(read.counts.get('dns6-out'), { packets: 3, bytes: 744 }, 'IPv6 only: its ip6tables rule');
  assert.equal(read.counts.get('ping4')?.bytes, v4Only.counts.get('ping4')?.bytes, 'IPv4 only: its iptables rule');
  assert.deepEqual(b.readCustomCounters(reading, [counter({ name: 'new', hook: 'input', proto: 'tcp', dport: '1' })]).isInPlace, false);
});

test('setup from a router with the counters but no hosts counted: the counter rules stay, their jumps stay behind the new lantop jumps', () => {
  const plan = backend().planInstall(bothRead(), ['198.51.100.10', '2001:db8:1::10'], { isAdopting: false, isPruning: false, counters: ALL });
  assert.ok(plan.commands.some((c) => c === 'iptables -I INPUT 1 -j TRAFFIC_IN'), plan.commands.join('\n'));
  assert.deepEqual(plan.commands.filter((c) => /LANTOP_C/.test(c)), [], 'nothing to change for the counters');
  assert.deepEqual(plan.foreign, []);
  const added = backend().planInstall(bothRead(), [], { isAdopting: false, isPruning: false, counters: [...ALL, counter({ name: 'ssh6', hook: 'input', src: '2001:db8::/32', proto: 'tcp', dport: '22' })] });
  assert.deepEqual(added.commands.filter((c) => /LANTOP_C/.test(c)), ['ip6tables -A LANTOP_CIN -s 2001:db8::/32 -p tcp -m tcp --dport 22 -m comment --comment lantop:c:' + added.commands.find((c) => /2001:db8::\/32/.test(c))!.split('lantop:c:')[1]]);
  const none = backend().planInstall(bothRead(), [], { isAdopting: false, isPruning: false });
  assert.deepEqual(none.commands.filter((c) => /LANTOP_C/.test(c)), [], 'counters not known: left alone');
  const removed = backend().planInstall(bothRead(), [], { isAdopting: false, isPruning: false, counters: [] });
  assert.ok(removed.commands.includes('iptables -D INPUT -j LANTOP_CIN') && removed.commands.includes('ip6tables -X LANTOP_COUT'), removed.commands.join('\n'));
});

test('teardown removes the counter jumps and chains of both families, after the positional deletes', () => {
  const commands = backend().planRemove(bothRead());
  for (const c of ['iptables -D INPUT -j LANTOP_CIN', 'iptables -D FORWARD -j LANTOP_CFWD', 'iptables -X LANTOP_CFWD', 'ip6tables -D OUTPUT -j LANTOP_COUT', 'ip6tables -X LANTOP_CIN']) assert.ok(commands.includes(c), `${c}\n${commands.join('\n')}`);
  assert.ok(commands.every((c) => !/ -Z/.test(c)), 'never zeroes');
});
