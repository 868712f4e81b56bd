// The emulated routers count lantop's traffic classes (issue 19): the backends set up classes on
// the model's iptables (Broadcom flavour) and nft (OpenWrt fw4 flavour), the model's traffic runs
// (its connections carry protocol and ports: model-conntrack.ts, handed over as flows by
// model-flows.ts), and the classes agree with the per-device counters: every forwarded byte of the
// model is TCP or UDP, so the tcp and udp classes together count exactly what all hosts did, and
// the port classes (HTTPS on tcp/443, QUIC on udp/443) are a real part of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseClassList } from '../domain/traffic-class.js';
import type { CounterPair } from '../domain/accounting.js';
import { firmwareForOverride } from '../router/firmware/families.js';
import { IptablesBackend } from '../router/backends/iptables/iptables-backend.js';
import { NftablesBackend } from '../router/backends/nftables/nftables-backend.js';
import { createRouterModel } from './model.js';
import { advanceModel } from './model-simulation.js';
import { runIptables } from './iptables.js';
import { runNft } from './nft-run.js';

const CLASSES = parseClassList('443', 'tcp,udp');
const OPTS = { isAdopting: false, isPruning: false, classes: CLASSES };

function sum(pairs: Iterable<CounterPair>): CounterPair {
  const total = { downBytes: 0, upBytes: 0 };
  for (const p of pairs) {
    total.downBytes += p.downBytes;
    total.upBytes += p.upBytes;
  }
  return total;
}

function checkClasses(classes: Map<string, CounterPair> | undefined, hosts: CounterPair): void {
  assert.ok(classes !== undefined);
  assert.ok(hosts.downBytes > 100_000 && hosts.upBytes > 10_000, JSON.stringify(hosts));
  assert.deepEqual(sum([classes.get('tcp')!, classes.get('udp')!]), hosts, 'tcp + udp = every forwarded byte');
  for (const [port, whole] of [['tcp/443', 'tcp'], ['udp/443', 'udp']] as const) {
    const part = classes.get(port)!;
    assert.ok(part.downBytes > 0 && part.upBytes > 0, `${port} counted: ${JSON.stringify(part)}`);
    assert.ok(part.downBytes < classes.get(whole)!.downBytes && part.upBytes < classes.get(whole)!.upBytes, `${port} is a part of ${whole}`);
  }
}

test('emulated iptables (Broadcom): -p tcp -m tcp --sport/--dport and -p udp count the model\'s flows', () => {
  const model = createRouterModel({ seed: 4, churn: false });
  const ipt = (command: string) => {
    const r = runIptables(model.iptables, command.split(' ').slice(1));
    return r.stdout + r.stderr;
  };
  const backend = new IptablesBackend(firmwareForOverride('broadcom-cli'), { wan: model.wanInterface, layout: 'split' });
  const read = () => backend.read(ipt(backend.readCommand.command));
  for (const command of backend.planInstall(read(), model.hosts.map((h) => h.ip), OPTS).commands) assert.equal(ipt(command), '', command);
  const before = read();
  assert.deepEqual(before.installedClasses, CLASSES);
  for (let i = 0; i < 20; i++) advanceModel(model, model.nowMs + 5_000);
  const after = read();
  checkClasses(after.classCounters, sum(after.counters.values()));
  assert.deepEqual(backend.planInstall(after, model.hosts.map((h) => h.ip), { ...OPTS, classes: null }).commands, []);
});

test('emulated nft (OpenWrt fw4): tcp sport/dport and meta l4proto count the model\'s flows, IPv4 and IPv6', () => {
  const model = createRouterModel({ flavour: 'openwrt-fw4', seed: 4, churn: false });
  const nft = (argv: string[], stdin = '') => {
    const r = runNft(model.nft!, argv, stdin, model.nowMs);
    return r.stdout + r.stderr;
  };
  const base = firmwareForOverride('openwrt-fw4');
  const backend = new NftablesBackend({ ...base, capabilities: { ...base.capabilities, hasNftJson: true } }, { wan: model.wanInterface, layout: 'dynamic-sets' });
  const read = () => backend.read(nft(backend.readCommand.command.split(' ').slice(1)));
  const plan = backend.planInstall(read(), model.hosts.map((h) => h.ip), OPTS);
  assert.equal(nft(['-f', '-'], `${plan.commands.join('\n')}\n`), '');
  assert.deepEqual(read().installedClasses, CLASSES);
  for (let i = 0; i < 20; i++) advanceModel(model, model.nowMs + 5_000);
  const after = read();
  assert.ok([...after.counters.keys()].some((a) => a.includes(':')), 'IPv6 hosts counted too');
  checkClasses(after.classCounters, sum(after.counters.values()));
});
