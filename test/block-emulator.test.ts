// Blocking against the emulated router on both personas (what `lantop demo` runs): the built binary
// blocks a host, the emulator's own traversal (iptables chains / nft base chains, from the man
// pages: src/emulator/SOURCE notes) then drops that host's forwarded packets both ways and no one
// else's, refusals change nothing, unblock --all restores forwarding, and a --for block lifts on the
// emulator's clock by itself (the iptables time match on the Broadcom persona, the set element
// timeout on OpenWrt).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatedRouter, traversePackets, parseIpv4, type EmulatedRouter } from '../src/emulator/index.js';
import { traverseNft } from '../src/emulator/nft-traversal.js';
import { parseIpv4Value, parseMacValue } from '../src/emulator/nft-values.js';
import { runCliAsync } from './helpers/run-cli.js';

const WAN = '203.0.113.1';

function forwards(router: EmulatedRouter, ip: string, mac: string, direction: 'up' | 'down'): boolean {
  const m = router.state;
  const [lan, wan] = [m.lanInterface, m.wanInterface];
  if (m.nft !== null) {
    const host = parseIpv4Value(ip) as bigint;
    const peer = parseIpv4Value(WAN) as bigint;
    const up = direction === 'up';
    return traverseNft(m.nft, { hook: 'forward', family: 4, iifname: up ? lan : wan, oifname: up ? wan : lan, saddr: up ? host : peer, daddr: up ? peer : host, etherSaddr: up ? (parseMacValue(mac) as bigint) : null, etherDaddr: null, packets: 1, bytes: 100, ctState: 2 }, m.nowMs) === 'accept';
  }
  const [host, peer] = [parseIpv4(ip)!, parseIpv4(WAN)!];
  const batch = direction === 'up' ? { inInterface: lan, outInterface: wan, source: host, destination: peer } : { inInterface: wan, outInterface: lan, source: peer, destination: host };
  return traversePackets(m.iptables, 'FORWARD', { ...batch, protocol: 6, packets: 1, bytes: 100, nowMs: m.nowMs, ...(direction === 'up' ? { sourceMac: mac.toLowerCase() } : {}) }) === 'ACCEPT';
}

for (const flavour of ['broadcom', 'openwrt-fw4'] as const) {
  describe(`block on the emulated ${flavour} router`, () => {
    let router: EmulatedRouter;
    let dir: string;
    let offsetMs = 0;
    let lantop: (args: string[]) => ReturnType<typeof runCliAsync>;
    before(async () => {
      router = await startEmulatedRouter({ clock: () => Date.now() + offsetMs, flavour, hostCount: 3, churn: false, seed: 5 });
      dir = mkdtempSync(join(tmpdir(), 'lantop-block-emu-'));
      const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
      const base = ['--host', router.host, '--port', String(router.port), '--user', router.user, '--wan', router.state.wanInterface];
      lantop = (args) => runCliAsync([...base, ...args], env, { timeoutMs: 60_000 });
    });
    after(async () => {
      await router?.close();
      rmSync(dir, { recursive: true, force: true });
    });

    test('block stops one host both ways, refusals change nothing, unblock --all restores', { timeout: 90_000 }, async () => {
      const [h1, h2] = router.state.hosts.filter((h) => h.isOnline && !h.isVisitor);
      assert.ok(h1 && h2);
      const blocked = await lantop(['block', h1.ip, '--for', '1h']);
      assert.equal(blocked.code, 0, blocked.stderr);
      if (flavour === 'broadcom') {
        const rules = router.state.iptables.tables.get('filter')!.chains.find((c) => c.name === 'LANTOP_BLOCK')!.rules;
        assert.ok(rules.length === 3 && rules.every((r) => r.datestop !== null && r.comment?.startsWith('lantop-block:') === true), 'tagged rules with --datestop');
        assert.equal(rules.filter((r) => r.macSource === h1.mac.toLowerCase()).length, 1, 'one rule by MAC');
      }
      for (const direction of ['up', 'down'] as const) {
        assert.equal(forwards(router, h1.ip, h1.mac, direction), false, `${h1.ip} ${direction} dropped`);
        assert.equal(forwards(router, h2.ip, h2.mac, direction), true, `${h2.ip} ${direction} forwarded`);
      }
      const listed = await lantop(['block', '--list', '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      const blocks = (JSON.parse(listed.stdout) as { blocks: Array<{ addresses: string[]; expired: boolean }> }).blocks;
      assert.equal(blocks.length, 1);
      assert.ok(blocks[0]!.addresses.includes(h1.ip));

      const refused = await lantop(['block', '198.51.100.1', '--for', '1m']);
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /router's own/);

      const unblocked = await lantop(['unblock', '--all']);
      assert.equal(unblocked.code, 0, unblocked.stderr);
      assert.equal(forwards(router, h1.ip, h1.mac, 'up'), true);
      assert.equal(forwards(router, h1.ip, h1.mac, 'down'), true);
    });

    {
      test('a --for block lifts on the router\'s clock by itself (time match / set element timeout)', { timeout: 60_000 }, async () => {
        const h1 = router.state.hosts.find((h) => h.isOnline && !h.isVisitor)!;
        assert.equal((await lantop(['block', h1.mac, '--for', '30s'])).code, 0);
        assert.equal(forwards(router, h1.ip, h1.mac, 'down'), false);
        offsetMs += 32_000; // past the last second --datestop still matches (xt_time: stamp > date_stop)
        router.sync();
        assert.equal(forwards(router, h1.ip, h1.mac, 'down'), true, 'the element timed out');
      });
    }
  });
}
