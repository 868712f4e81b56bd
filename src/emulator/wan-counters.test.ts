// The emulated router's interface counters (issue 19): /proc/net/dev as the kernel prints it, the WAN
// counting every forwarded byte plus the router's own traffic; and offload, under which the firewall's
// counters fall short of the WAN while conntrack and the WAN stay complete.
import assert from 'node:assert/strict';
import test from 'node:test';
import { runBusyboxShell } from './commands.js';
import { runIptables } from './iptables.js';
import { createRouterModel, type RouterModel } from './model.js';
import { conntrackBytesByHost } from './model-conntrack.js';
import { formatProcNetDev } from './model-netdev.js';
import { advanceModel } from './model-simulation.js';
import { runNft } from './nft-run.js';
import { createOpenWrtSession, runOpenWrtShell } from './openwrt-fw4.js';

const HEADER = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n';
// net-procfs.c (5.15): "%6s: %7llu %7llu %4llu %4llu %4llu %5llu %10llu %9llu %8llu %7llu %4llu %4llu %4llu %5llu %7llu %10llu\n".
const MODERN = /^([ a-z0-9-]{6,}): ([ \d]{7,}) ([ \d]{7,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{5,}) ([ \d]{10,}) ([ \d]{9,}) ([ \d]{8,}) ([ \d]{7,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{5,}) ([ \d]{7,}) ([ \d]{10,})$/;
// dev.c before 2.6.35: "%6s:%8lu %7lu …" (no blank after the colon).
const OLD = /^([ a-z0-9-]{6,}):([ \d]{8,}) ([ \d]{7,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{5,}) ([ \d]{10,}) ([ \d]{9,}) ([ \d]{8,}) ([ \d]{7,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{4,}) ([ \d]{5,}) ([ \d]{7,}) ([ \d]{10,})$/;

function procNetDev(text: string, isOld: boolean): Map<string, { rx: number; tx: number; rxPackets: number }> {
  assert.ok(text.startsWith(HEADER));
  const rows = new Map<string, { rx: number; tx: number; rxPackets: number }>();
  for (const line of text.slice(HEADER.length).split('\n').filter((l) => l !== '')) {
    const m = (isOld ? OLD : MODERN).exec(line);
    assert.ok(m, `not as the kernel prints it: ${JSON.stringify(line)}`);
    rows.set((m[1] as string).trim(), { rx: Number(m[2]), rxPackets: Number(m[3]), tx: Number(m[10]) });
  }
  return rows;
}

function forwarded(model: RouterModel): { down: number; up: number } {
  return model.hosts.reduce((sum, h) => ({ down: sum.down + h.downBytes, up: sum.up + h.upBytes }), { down: 0, up: 0 });
}

test('/proc/net/dev: the WAN counts every forwarded byte plus the router\'s own; the LAN bridge the other side', () => {
  for (const flavour of ['openwrt-fw4', 'broadcom', 'busybox'] as const) {
    const model = createRouterModel({ flavour, seed: 8 });
    advanceModel(model, model.nowMs + 15 * 60_000);
    const rows = procNetDev(formatProcNetDev(model), flavour === 'broadcom');
    const sum = forwarded(model);
    const own = model.routerOwn;
    assert.ok(own.wanRxBytes > 0 && own.wanTxBytes > 0, `${flavour}: DNS forwarding and NTP`);
    const wan = rows.get(model.wanInterface);
    const lan = rows.get(model.lanInterface);
    assert.ok(wan && lan);
    assert.equal(wan.rx, sum.down + own.wanRxBytes, `${flavour}: WAN rx`);
    assert.equal(wan.tx, sum.up + own.wanTxBytes, `${flavour}: WAN tx`);
    assert.equal(lan.tx, sum.down + own.lanTxBytes, `${flavour}: LAN tx`);
    assert.equal(lan.rx, sum.up + own.lanRxBytes, `${flavour}: LAN rx`);
    assert.ok(rows.has('lo'));
    if (flavour === 'openwrt-fw4') {
      // The Ethernet port below pppoe-wan also carries the PPPoE, PPP and Ethernet headers.
      const port = rows.get('wan');
      assert.ok(port);
      assert.equal(port.rx, wan.rx + 22 * wan.rxPackets);
    }
  }
});

test('/sys/class/net: type 512 for the PPP WAN, 1 for Ethernet, and the same counters', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 8 });
  advanceModel(model, model.nowMs + 60_000);
  const session = createOpenWrtSession();
  const run = (line: string): string => runOpenWrtShell(model, session, line).output;
  assert.equal(run('cat /sys/class/net/pppoe-wan/type /sys/class/net/br-lan/type /sys/class/net/wan/type'), '512\n1\n1\n');
  assert.equal(run('cat /sys/class/net/pppoe-wan/statistics/rx_bytes'), `${model.netdev.get('pppoe-wan')?.rxBytes}\n`);
  const broadcom = createRouterModel({ flavour: 'broadcom' });
  assert.equal(runBusyboxShell(broadcom, { lastStatus: 0 }, 'cat /sys/class/net/ppp0/type', 'broadcom').output, '512\n');
});

test('Broadcom\'s 2.6.30 kernel: 32-bit counters that wrap at 4 GiB, the name glued to the first number', () => {
  const model = createRouterModel({ flavour: 'broadcom' });
  model.netdev.set('ppp0', { rxBytes: 2 ** 32 + 1234, rxPackets: 10, txBytes: 5, txPackets: 1 });
  const line = formatProcNetDev(model).split('\n').find((l) => l.includes('ppp0:')) as string;
  assert.match(line, /^ {2}ppp0: {4}1234 /);
  const fw4 = createRouterModel({ flavour: 'openwrt-fw4' });
  fw4.netdev.set('pppoe-wan', { rxBytes: 2 ** 32 + 1234, rxPackets: 10, txBytes: 5, txPackets: 1 });
  assert.match(formatProcNetDev(fw4), /\npppoe-wan: 4294968530 /);
});

/** A catch-all counter in FORWARD (iptables) or in its own nft table: what firewall counting sees. */
function firewallForwardBytes(model: RouterModel): number {
  if (model.nft) {
    const listing = runNft(model.nft, ['list', 'table', 'inet', 'probe'], '', model.nowMs).stdout;
    return Number(/counter packets \d+ bytes (\d+)/.exec(listing)?.[1]);
  }
  const chain = model.iptables.tables.get('filter')?.chains.find((c) => c.name === 'FORWARD');
  return Number(chain?.rules[0]?.bytes ?? -1);
}

function installProbe(model: RouterModel): void {
  if (model.nft) {
    const result = runNft(model.nft, ['-f', '-'], 'table inet probe {\n\tchain forward {\n\t\ttype filter hook forward priority filter + 10; policy accept;\n\t\tcounter\n\t}\n}\n', model.nowMs);
    assert.equal(result.status, 0, result.stderr);
  } else assert.equal(runIptables(model.iptables, ['-A', 'FORWARD']).status, 0);
}

test('offload: firewall counters fall short of the WAN, conntrack and the WAN stay complete', () => {
  for (const flavour of ['openwrt-fw4', 'broadcom'] as const) {
    const results: Record<'off' | 'on', { firewall: number; forwarded: number; wanRx: number }> = {} as never;
    for (const offload of ['off', 'on'] as const) {
      const model = createRouterModel({ flavour, seed: 9, offload });
      model.conntrack.isAcctOn = true;
      installProbe(model);
      advanceModel(model, model.nowMs + 10 * 60_000);
      const sum = forwarded(model);
      const totals = conntrackBytesByHost(model);
      for (const host of model.hosts) {
        assert.equal(totals.get(host.mac)?.down ?? 0, host.downBytes, `${flavour}/${offload}: conntrack complete`);
        assert.equal(totals.get(host.mac)?.up ?? 0, host.upBytes);
      }
      const wan = model.netdev.get(model.wanInterface);
      assert.equal(wan?.rxBytes, sum.down + model.routerOwn.wanRxBytes, `${flavour}/${offload}: WAN complete`);
      results[offload] = { firewall: firewallForwardBytes(model), forwarded: sum.down + sum.up, wanRx: wan?.rxBytes ?? 0 };
    }
    assert.equal(results.off.firewall, results.off.forwarded, `${flavour}: without offload the firewall sees every forwarded byte`);
    assert.ok(results.on.forwarded > 100_000_000, 'the line was busy');
    assert.ok(results.on.firewall < results.on.forwarded * 0.05, `${flavour}: offloaded, the firewall sees only first packets (${results.on.firewall} of ${results.on.forwarded})`);
    assert.ok(results.on.firewall > 0);
  }
});

test('offload shows where firmware shows it: fcctl on Broadcom, uci and the flowtable on fw4', () => {
  for (const offload of ['off', 'on'] as const) {
    const broadcom = createRouterModel({ flavour: 'broadcom', seed: 1, offload });
    advanceModel(broadcom, broadcom.nowMs + 60_000);
    const status = runBusyboxShell(broadcom, { lastStatus: 0 }, 'fcctl status', 'broadcom').output;
    // fcctl_cmds.c: "\tFlow Learning %s : Max<%u>, Active<%u>, Cummulative [ %u - %u ]\n".
    const m = /\n\tFlow Learning (Enabled|Disabled) : Max<(\d+)>, Active<(\d+)>, Cummulative \[ (\d+) - (\d+) \]\n$/.exec(status);
    assert.ok(m, status);
    assert.equal(m[1], offload === 'on' ? 'Enabled' : 'Disabled');
    assert.equal(Number(m[3]) > 0, offload === 'on');
    assert.equal(Number(m[3]), Number(m[4]) - Number(m[5]), 'Active = inserted - removed');

    const fw4 = createRouterModel({ flavour: 'openwrt-fw4', seed: 1, offload });
    const session = createOpenWrtSession();
    const run = (line: string): string => runOpenWrtShell(fw4, session, line).output;
    assert.equal(run('uci -q get firewall.@defaults[0].flow_offloading'), offload === 'on' ? '1\n' : '');
    const flowtables = run('nft list flowtables');
    const ruleset = run('nft list ruleset');
    if (offload === 'on') {
      assert.equal(flowtables, 'table inet fw4 {\n\tflowtable ft {\n\t\thook ingress priority filter\n\t\tdevices = { "br-lan", "wan" }\n\t\tcounter\n\t}\n}\n');
      assert.match(ruleset, /^table inet fw4 {\n\tflowtable ft {\n[^]*?\t}\n\n\tchain input {/);
      assert.match(ruleset, /\tchain forward {\n\t\ttype filter hook forward priority filter; policy drop;\n\t\tmeta l4proto { tcp, udp } flow add @ft\n/);
    } else {
      assert.equal(flowtables, 'table inet fw4 {\n}\n');
      assert.doesNotMatch(ruleset, /flowtable|flow add/);
    }
  }
});
