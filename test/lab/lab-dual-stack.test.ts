// test-file-timeout: 120
// Self-tests of the dual-stack lab on the CMS router (variant 'dual-stack'), both iptables backends:
// a routed /64 on the LAN (no NAT66: the ISP sees the hosts' own addresses), ip6tables' boot rules
// beside iptables', hosts with a stable and a kernel-made temporary address that both show up in
// the router's neighbour table under the host's MAC, IPv6 transfers from either source in both
// directions, and an oracle that equals hand-made ip6tables/iptables counters per address, byte for
// byte, also after the temporary address rotates.
// Needs root; skipped with one loud line otherwise (an error with LANTOP_REQUIRE_LAB=1, as in CI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startLab, variantSkipReason, type IptablesBackend, type Lab, type OracleHostCounts } from './lab.js';
import { run } from './run-command.js';

type Counts = Record<string, { down: [number, number]; up: [number, number] }>;

/** A TRAFFIC chain at the top of FORWARD with one rule per address and direction (iptables or ip6tables). */
async function addTrafficChain(lab: Lab, tool: 'iptables' | 'ip6tables', addresses: readonly string[]): Promise<void> {
  const steps = [['-N', 'TRAFFIC'], ['-I', 'FORWARD', '1', '-j', 'TRAFFIC']];
  for (const address of addresses) steps.push(['-A', 'TRAFFIC', '-i', 'ppp0', '-d', address], ['-A', 'TRAFFIC', '-s', address, '-o', 'ppp0']);
  for (const args of steps) {
    const result = await lab.exec([tool, ...args]);
    assert.equal(result.code, 0, `${tool} ${args.join(' ')}: ${result.stderr}`);
  }
}

/** `-L TRAFFIC -v -x -n` → [packets, bytes] per address and direction. ip6tables prints no `opt` column. */
async function readTrafficChain(lab: Lab, tool: 'iptables' | 'ip6tables', addresses: readonly string[]): Promise<Counts> {
  const listing = (await lab.exec([tool, '-L', 'TRAFFIC', '-v', '-x', '-n'])).stdout;
  const result: Counts = {};
  for (const address of addresses) result[address] = { down: [-1, -1], up: [-1, -1] };
  for (const line of listing.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (!/^\d+$/.test(f[0] ?? '')) continue;
    const [inIf, outIf, source, destination] = f.slice(-4).map((x) => x.replace(/\/(32|128)$/, ''));
    if (inIf === 'ppp0' && result[destination!]) result[destination!]!.down = [Number(f[0]), Number(f[1])];
    if (outIf === 'ppp0' && result[source!]) result[source!]!.up = [Number(f[0]), Number(f[1])];
  }
  return result;
}

function asChain(o: OracleHostCounts, b: OracleHostCounts): Counts[string] {
  return { down: [o.downPackets - b.downPackets, o.downBytes - b.downBytes], up: [o.upPackets - b.upPackets, o.upBytes - b.upBytes] };
}

for (const backend of ['legacy', 'nft'] as const satisfies readonly IptablesBackend[]) {
  describe(`dual-stack lab (${backend})`, { skip: variantSkipReason('dual-stack'), timeout: 90_000 }, () => {
    let lab: Lab;

    before(async () => {
      lab = await startLab({ hosts: 2, backend, variant: 'dual-stack', password: `ds-${backend}` });
    });
    after(async () => {
      await lab?.stop();
    });

    test('topology: LAN and WAN /64s, routed (the ISP routes the LAN /64 to the router), stable + temporary host addresses', async () => {
      assert.equal(lab.ipv6, true);
      assert.equal(lab.routerIp6, '2001:db8:1::1');
      const addrs = (await run(['ip', '-n', lab.routerNs, '-6', '-o', 'addr', 'show', 'scope', 'global'])).stdout;
      assert.match(addrs, /br0\s+inet6 2001:db8:1::1\/64/);
      assert.match(addrs, /ppp0\s+inet6 2001:db8:ff::2\/64/);
      assert.equal((await lab.exec(['cat', '/proc/sys/net/ipv6/conf/all/forwarding'])).stdout.trim(), '1');
      assert.match((await run(['ip', '-n', lab.ispNs, '-6', 'route', 'show', '2001:db8:1::/64'])).stdout, /via 2001:db8:ff::2 dev wan0/);
      const h1 = lab.hosts[0]!;
      assert.equal(h1.ip6, '2001:db8:1::10');
      const own = await lab.hostAddresses6(h1);
      assert.deepEqual(own.find((a) => a.address === h1.ip6), { address: h1.ip6, temporary: false, deprecated: false });
      assert.deepEqual(own.find((a) => a.address === h1.tempIp6), { address: h1.tempIp6, temporary: true, deprecated: false });
      assert.match(h1.tempIp6!, /^2001:db8:1:0:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}:[0-9a-f]{1,4}$/, 'a random interface identifier in the LAN /64');
      assert.match((await lab.exec(['ip6tables', '-V'])).stdout, backend === 'legacy' ? /\(legacy\)/ : /\(nf_tables\)/);
    });

    test('boot firewall: ip6tables gets the iptables filter rules plus ICMPv6; reboot restores both', async () => {
      const boot6 = await lab.ip6tablesSave();
      for (const rule of ['-A FORWARD -i br0 -o ppp0 -j ACCEPT', '-A INPUT -i ppp0 -m state --state NEW -j DROP', '-A FORWARD -p ipv6-icmp -j ACCEPT']) {
        assert.ok(boot6.split('\n').includes(rule), `${rule} in\n${boot6}`);
      }
      const boot4 = await lab.iptablesSave();
      assert.equal((await lab.exec(['ip6tables', '-N', 'LEFTOVER'])).code, 0);
      await lab.reboot();
      assert.equal(await lab.ip6tablesSave(), boot6);
      assert.equal(await lab.iptablesSave(), boot4);
    });

    test('traffic over both families from either IPv6 source: the oracle equals ip6tables/iptables counters per address', async () => {
      const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
      const v6 = [h1.ip6!, h1.tempIp6!, h2.ip6!, h2.tempIp6!];
      const v4 = [h1.ip, h2.ip];
      await addTrafficChain(lab, 'ip6tables', v6);
      await addTrafficChain(lab, 'iptables', v4);
      const before = await lab.oracle();
      const results = await Promise.all([
        lab.transfer(h1, { downBytes: 250_000, upBytes: 10_000, family: 6, source: 'stable' }),
        lab.transfer(h2, { downBytes: 5_000, upBytes: 180_000, family: 6, source: 'temporary' }),
      ]);
      assert.deepEqual(results.map((r) => [r.family, r.source, r.downBytes, r.upBytes]), [[6, h1.ip6, 250_000, 10_000], [6, h2.tempIp6, 5_000, 180_000]]);
      await lab.transfer(h1, { downBytes: 70_000, upBytes: 90_000, family: 6, source: 'temporary' });
      await lab.transfer(h2, { downBytes: 40_000, upBytes: 1_000 });
      const oracle = await lab.settle();
      const chain6 = await readTrafficChain(lab, 'ip6tables', v6);
      const chain4 = await readTrafficChain(lab, 'iptables', v4);
      for (const address of v6) assert.deepEqual(chain6[address], asChain(oracle[address]!, before[address]!), `ip6tables vs oracle for ${address}`);
      for (const address of v4) assert.deepEqual(chain4[address], asChain(oracle[address]!, before[address]!), `iptables vs oracle for ${address}`);
      const down = oracle[h1.ip6!]!.downBytes - before[h1.ip6!]!.downBytes;
      assert.ok(down > 250_000 && down < 250_000 * 1.2, `IP-level bytes are application bytes plus headers: ${down}`);
      assert.deepEqual(asChain(oracle[h1.ip]!, before[h1.ip]!), { down: [0, 0], up: [0, 0] }, 'h1 moved nothing over IPv4');

      const byHost = await lab.oracleByHost();
      const h2counts = byHost['h2']!;
      assert.deepEqual(Object.keys(h2counts.byAddress).sort(), [h2.ip, h2.ip6!, h2.tempIp6!].sort());
      assert.equal(h2counts.ipv6.upBytes, oracle[h2.ip6!]!.upBytes + oracle[h2.tempIp6!]!.upBytes);
      assert.equal(h2counts.total.downBytes, h2counts.ipv4.downBytes + h2counts.ipv6.downBytes);
    });

    test('no NAT66, and the router\'s neighbour table shows the stable and the temporary address under the host\'s MAC', async () => {
      const h1 = lab.hosts[0]!;
      const table = 'table inet seen {\n  chain in {\n    type filter hook input priority 0; policy accept;\n    ip6 saddr 2001:db8:1::/64 counter\n  }\n}\n';
      assert.equal((await run(['ip', 'netns', 'exec', lab.ispNs, 'nft', '-f', '-'], { input: table })).code, 0);
      await lab.transfer(h1, { downBytes: 1_000, upBytes: 1_000, family: 6, source: 'temporary' });
      const seen = (await run(['ip', 'netns', 'exec', lab.ispNs, 'nft', 'list', 'table', 'inet', 'seen'])).stdout;
      assert.match(seen, /ip6 saddr 2001:db8:1::\/64 counter packets [1-9]/, 'the ISP receives the LAN source address as it is');
      const neigh = (await lab.exec(['ip', '-6', 'neigh', 'show', 'dev', 'br0'])).stdout;
      for (const address of [h1.ip6!, h1.tempIp6!]) assert.match(neigh, new RegExp(`^${address} lladdr ${h1.mac} `, 'm'), neigh);
    });

    test('a rotated temporary address is a new address: counted on its own, the old one kept, the host total the sum', async () => {
      const h1 = lab.hosts[0]!;
      const old = h1.tempIp6!;
      const fresh = await lab.rotateTemporaryAddress(h1);
      assert.notEqual(fresh, old);
      assert.equal(h1.tempIp6, fresh);
      const own = await lab.hostAddresses6(h1);
      assert.deepEqual(own.find((a) => a.address === old), { address: old, temporary: true, deprecated: true });
      await lab.resetOracle();
      await lab.transfer(h1, { downBytes: 60_000, upBytes: 2_000, family: 6, source: 'temporary' });
      const byHost = (await lab.oracleByHost())['h1']!;
      assert.equal(byHost.byAddress[old], undefined, 'after the reset the old address moved nothing, so it is not listed');
      const moved = byHost.byAddress[fresh]!;
      assert.ok(moved.downBytes > 60_000 && moved.downBytes < 60_000 * 1.2, `new address ${moved.downBytes}`);
      assert.deepEqual(byHost.ipv6, moved);
      assert.match((await lab.exec(['ip', '-6', 'neigh', 'show', 'dev', 'br0'])).stdout, new RegExp(`^${fresh} lladdr ${h1.mac} `, 'm'));
    });
  });
}
