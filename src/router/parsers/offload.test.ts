import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ConntrackEntry } from '../../domain/connection-model.js';
import {
  mergeFindings,
  offloadFromConntrack,
  offloadReport,
  parseBroadcomCtf,
  parseConntrackOffloadCounts,
  parseDdwrtSfe,
  parseEcmState,
  parseFcctlStatus,
  parseFw3FlowOffload,
  parseMediatekHnat,
  parseMediatekPpeBind,
  parseNftFlowtables,
  parseOpenwrtOffloadConfig,
  parseSfeSysfs,
} from './offload.js';

const fixture = (path: string): string => readFileSync(new URL(`../../../fixtures/offload/${path}`, import.meta.url), 'utf8');

const ALL_PARSERS = [
  parseFcctlStatus,
  parseBroadcomCtf,
  parseDdwrtSfe,
  parseFw3FlowOffload,
  parseOpenwrtOffloadConfig,
  parseNftFlowtables,
  parseConntrackOffloadCounts,
  parseEcmState,
  parseSfeSysfs,
  parseMediatekPpeBind,
  parseMediatekHnat,
];

test('Broadcom fcctl status: learning enabled is on, disabled is off, with the active count', () => {
  const on = parseFcctlStatus(fixture('broadcom-fcctl/fcctl-status-502L04-enabled.txt'));
  assert.equal(on?.kind, 'broadcom-fcache');
  assert.equal(on?.state, 'on');
  assert.equal(on?.isHardware, null);
  assert.match(on!.evidence, /Flow Learning Enabled Active<12>/);
  assert.match(on!.howToDisable!, /fcctl disable/);
  const off = parseFcctlStatus(fixture('broadcom-fcctl/fcctl-status-502L04-disabled.txt'));
  assert.equal(off?.state, 'off');
});

test('Broadcom newer SDK lines: HW Acceleration decides isHardware', () => {
  const f = parseFcctlStatus('Acceleration Mode: <L2 & L3>   HW Acceleration <Enabled>\nFlow Ucast Learning: Max<16383> Active<4> Cumulative[972-968]\n');
  assert.equal(f?.isHardware, true);
  assert.equal(f?.state, 'on');
  assert.match(f!.evidence, /Active<4>/);
  assert.equal(parseFcctlStatus('sh: fcctl: not found\n'), null);
  assert.equal(parseFcctlStatus(''), null);
});

test('Broadcom CTF from nvram ctf_disable and /proc/ctf', () => {
  assert.equal(parseBroadcomCtf('ctf_disable=0\n/proc/ctf\n')?.state, 'on');
  assert.equal(parseBroadcomCtf('ctf_disable=1\n')?.state, 'off');
  assert.equal(parseBroadcomCtf('ctf_disable=\n/proc/ctf\n')?.state, 'unknown');
  assert.equal(parseBroadcomCtf('ctf_disable=\n'), null);
  assert.match(parseBroadcomCtf('ctf_disable=0\n')!.howToDisable!, /nvram set ctf_disable=1; nvram commit/);
});

test("DD-WRT's nvram sfe picks the engine", () => {
  const sfe = parseDdwrtSfe(fixture('ddwrt/nvram-sfe-1.txt'));
  assert.deepEqual([sfe?.kind, sfe?.state, sfe?.isHardware], ['qualcomm-sfe', 'on', false]);
  const ctf = parseDdwrtSfe(fixture('ddwrt/nvram-sfe-2.txt'));
  assert.deepEqual([ctf?.kind, ctf?.state], ['broadcom-ctf', 'on']);
  assert.match(ctf!.howToDisable!, /nvram set sfe=0; nvram commit/);
  assert.equal(parseDdwrtSfe(fixture('ddwrt/nvram-sfe-0.txt'))?.state, 'off');
  assert.equal(parseDdwrtSfe('sfe=3')?.isHardware, true);
  assert.equal(parseDdwrtSfe('sfe=\n'), null);
});

test('fw3: the published FORWARD listing has software FLOWOFFLOAD', () => {
  const f = parseFw3FlowOffload(fixture('openwrt-fw3/iptables-L-FORWARD-published.txt'));
  assert.equal(f?.kind, 'openwrt-fw3-flowoffload');
  assert.equal(f?.state, 'on');
  assert.equal(f?.isHardware, false);
  assert.match(f!.evidence, /Traffic offloading/);
  assert.match(f!.howToDisable!, /flow_offloading=0.*uci commit firewall; \/etc\/init\.d\/firewall restart/);
});

test('fw3: -S lines, with and without --hw; -L with a trailing hw', () => {
  assert.equal(parseFw3FlowOffload(fixture('openwrt-fw3/iptables-S-FORWARD-grep-sw.txt'))?.isHardware, false);
  assert.equal(parseFw3FlowOffload(fixture('openwrt-fw3/iptables-S-FORWARD-grep-hw.txt'))?.isHardware, true);
  const hwListing = '2  439 22919 FLOWOFFLOAD all -- * * 0.0.0.0/0 0.0.0.0/0 /* !fw3: Traffic offloading */ ctstate RELATED,ESTABLISHED FLOWOFFLOAD hw';
  assert.equal(parseFw3FlowOffload(hwListing)?.isHardware, true);
  // A rule merely mentioning the word (a comment) is not the target.
  assert.equal(parseFw3FlowOffload('-A FORWARD -m comment --comment "FLOWOFFLOAD later" -j ACCEPT'), null);
  assert.equal(parseFw3FlowOffload(''), null);
});

test('fw4 uci settings: published hw values; unset options are off; no uci is null', () => {
  const hw = parseOpenwrtOffloadConfig(fixture('openwrt-fw4/uci-hw-openwrt-24178.txt'));
  assert.deepEqual([hw?.kind, hw?.state, hw?.isHardware], ['openwrt-fw4-flowtable', 'on', true]);
  assert.match(hw!.howToDisable!, /flow_offloading=0; uci set firewall\.@defaults\[0\]\.flow_offloading_hw=0; uci commit firewall; fw4 reload$/);
  const unset = parseOpenwrtOffloadConfig(fixture('openwrt-fw4/uci-unset.txt'));
  assert.equal(unset?.state, 'off');
  assert.equal(unset?.howToDisable, null);
  const fw3 = parseOpenwrtOffloadConfig('sw=1\nhw=0\nfw4=\n');
  assert.deepEqual([fw3?.kind, fw3?.isHardware], ['openwrt-fw3-flowoffload', false]);
  assert.match(fw3!.howToDisable!, /\/etc\/init\.d\/firewall restart/);
  // _hw without flow_offloading does nothing in fw3/fw4.
  assert.equal(parseOpenwrtOffloadConfig('sw=0\nhw=1\nfw4=/sbin/fw4\n')?.state, 'off');
  assert.equal(parseOpenwrtOffloadConfig('sw=\nhw=\nfw4=\n'), null);
});

test('nft flowtables: fw4 software (firewall4#100) and hardware (openwrt#24178)', () => {
  const sw = parseNftFlowtables(fixture('openwrt-fw4/nft-flowtable-sw-firewall4-100.txt'));
  assert.deepEqual([sw?.kind, sw?.state, sw?.isHardware], ['openwrt-fw4-flowtable', 'on', false]);
  assert.match(sw!.evidence, /flowtable inet fw4 ft, devices \{ "br-lan", "eth1" \}, counter/);
  const hw = parseNftFlowtables(fixture('openwrt-fw4/nft-flowtable-hw-openwrt-24178.txt'));
  assert.equal(hw?.isHardware, true);
  assert.match(hw!.evidence, /flags offload, counter/);
  const other = parseNftFlowtables('table inet filter {\n\tflowtable f {\n\t\thook ingress priority filter\n\t\tdevices = { lan, wan }\n\t}\n}\n');
  assert.deepEqual([other?.kind, other?.howToDisable], ['flowtable', "see the firmware's settings"]);
  assert.match(other!.evidence, /no counter/);
  assert.equal(parseNftFlowtables(''), null);
});

test('conntrack counts: [OFFLOAD] and [HW_OFFLOAD] from grep -c', () => {
  assert.deepEqual(pick(parseConntrackOffloadCounts('sw=12\nhw=0\n')), ['on', false]);
  assert.deepEqual(pick(parseConntrackOffloadCounts('sw=0\nhw=3\n')), ['on', true]);
  assert.deepEqual(pick(parseConntrackOffloadCounts('sw=0\nhw=0\n')), ['off', null]);
  assert.equal(parseConntrackOffloadCounts('sw=\nhw=\n'), null);
});

test('offloadFromConntrack: any offloaded entry is a finding', () => {
  const entry = (isOffloaded: boolean, isHardwareOffloaded: boolean): ConntrackEntry => ({
    family: 4,
    protocol: 'tcp',
    protocolNumber: 6,
    timeoutS: null,
    state: null,
    original: { src: '198.51.100.10', dst: '203.0.113.1', sport: 42984, dport: 5201, packets: 2, bytes: 112 },
    reply: { src: '203.0.113.1', dst: '203.0.113.2', sport: 5201, dport: 42984, packets: 1, bytes: 60 },
    isOffloaded,
    isHardwareOffloaded,
    isAssured: false,
    isUnreplied: false,
  });
  assert.equal(offloadFromConntrack([entry(false, false)]), null);
  assert.equal(offloadFromConntrack([]), null);
  const sw = offloadFromConntrack([entry(true, false), entry(false, false)]);
  assert.deepEqual([sw?.kind, sw?.state, sw?.isHardware], ['conntrack-offload', 'on', false]);
  assert.match(sw!.evidence, /1 of 2 entries \[OFFLOAD\]/);
  assert.equal(offloadFromConntrack([entry(true, true)])?.isHardware, true);
});

test('Qualcomm ECM: accelerating, stopped, and stopped with flows still accelerated', () => {
  const on = parseEcmState(fixture('qualcomm-ecm/ecm-nss-on.txt'));
  assert.deepEqual([on?.state, on?.isHardware], ['on', true]);
  assert.match(on!.evidence, /ecm_nss_ipv4\/accelerated_count=17/);
  assert.match(on!.howToDisable!, /^echo 1 > \/sys\/kernel\/debug\/ecm\/front_end_ipv4_stop/);
  assert.equal(parseEcmState(fixture('qualcomm-ecm/ecm-stopped.txt'))?.state, 'off');
  assert.equal(parseEcmState('/sys/kernel/debug/ecm/front_end_ipv4_stop=1\n/sys/kernel/debug/ecm/ecm_sfe_ipv4/accelerated_count=2\n')?.state, 'on');
  assert.equal(parseEcmState('/sys/kernel/debug/ecm/ecm_sfe_ipv4/accelerated_count=2\n')?.isHardware, false);
  assert.equal(parseEcmState('/proc/sys/net/ecm/front_end_ipv4_stop=0\n')?.state, 'on');
  assert.equal(parseEcmState(''), null);
});

test('SFE sysfs directories', () => {
  assert.deepEqual(pick(parseSfeSysfs('/sys/fast_classifier\n/sys/sfe_ipv4\n')), ['on', false]);
  assert.equal(parseSfeSysfs('ls: /sys/sfe_ipv4: No such file or directory\n'), null);
});

test('MediaTek PPE: grep -c per bind file', () => {
  const f = parseMediatekPpeBind(fixture('mediatek/ppe-bind-grep-c.txt'));
  assert.deepEqual(pick(f), ['on', true]);
  assert.match(f!.evidence, /ppe0\/bind: 3 bound/);
  assert.match(f!.howToDisable!, /^uci set firewall\.@defaults\[0\]\.flow_offloading_hw=0; uci commit firewall; fw4 reload$/);
  // The sample bind line is what grep -c BND counts.
  assert.equal(fixture('mediatek/ppe0-bind-sample.txt').split('\n').filter((l) => l.includes('BND')).length, 1);
  assert.equal(parseMediatekPpeBind('/sys/kernel/debug/ppe0/bind:0\n')?.state, 'off');
  assert.equal(parseMediatekPpeBind('0\n')?.state, 'off');
  assert.equal(parseMediatekPpeBind(''), null);
});

test('MediaTek HNAT: hook state from the kernel log, BIND count from all_entry', () => {
  const on = parseMediatekHnat(fixture('mediatek/hnat-probe-on.txt'));
  assert.deepEqual(pick(on), ['on', true]);
  assert.match(on!.evidence, /hook is enabled/);
  assert.equal(on!.howToDisable, 'echo 0 > /sys/kernel/debug/hnat/hook_toggle');
  assert.equal(parseMediatekHnat(fixture('mediatek/hnat-probe-off.txt'))?.state, 'off');
  assert.equal(parseMediatekHnat('hnat=present\nbind=\n')?.state, 'unknown');
  assert.equal(parseMediatekHnat(''), null);
  // grep -c state=BIND counts the BIND entry, not the UNBIND one.
  const sample = fixture('mediatek/hnat-all-entry-sample.txt').split('\n').filter((l) => l.includes('state=BIND'));
  assert.equal(sample.length, 1);
});

test('mergeFindings joins uci settings with the live flowtable; on wins and hardware sticks', () => {
  const uci = parseOpenwrtOffloadConfig('sw=1\nhw=0\nfw4=/sbin/fw4\n')!;
  const live = parseNftFlowtables(fixture('openwrt-fw4/nft-flowtable-hw-openwrt-24178.txt'))!;
  const merged = mergeFindings([uci, live]);
  assert.equal(merged.length, 1);
  assert.equal(merged[0]!.isHardware, true);
  assert.match(merged[0]!.evidence, /uci flow_offloading=1.*; flowtable inet fw4 ft/);
  const off = parseConntrackOffloadCounts('sw=0\nhw=0')!;
  const on = parseConntrackOffloadCounts('sw=4\nhw=0')!;
  assert.equal(mergeFindings([off, on])[0]!.state, 'on');
});

test('offloadReport: the warning says what it means for the numbers', () => {
  const sw = offloadReport([parseNftFlowtables(fixture('openwrt-fw4/nft-flowtable-sw-firewall4-100.txt'))!], 1000);
  assert.equal(sw.isOn, true);
  assert.equal(sw.checkedAtMs, 1000);
  assert.match(sw.warning!, /per-device counters read low; conntrack bytes stay right under OpenWrt's software offload \(23\.05\+/);
  const hw = offloadReport([parseMediatekHnat(fixture('mediatek/hnat-probe-on.txt'))!], 1000);
  assert.match(hw.warning!, /^Hardware offload is on \(MediaTek HNAT hardware offload\).*conntrack bytes and even the WAN interface counters may read low/);
  const none = offloadReport([parseFcctlStatus(fixture('broadcom-fcctl/fcctl-status-502L04-disabled.txt'))!], 1000);
  assert.equal(none.isOn, false);
  assert.equal(none.warning, null);
  assert.deepEqual(offloadReport([], 5), { findings: [], isOn: false, warning: null, checkedAtMs: 5 });
});

test('hostile text reaches evidence only sanitised, on one line', () => {
  const hostile = 'table inet fw4 {\n\tflowtable ft {\n\t\tdevices = { "br-lan\u001b[31m\u202e", "x\u0007" }\n\t}\n}\n';
  const f = parseNftFlowtables(hostile)!;
  assert.doesNotMatch(f.evidence, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/);
  const long = parseFw3FlowOffload(`-A FORWARD ${'x'.repeat(100_000)} -j FLOWOFFLOAD`)!;
  assert.ok(long.evidence.length <= 240);
});

test('property: no parser throws, and evidence is always display-safe', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 400 }), fc.constantFrom(...ALL_PARSERS), (text, parse) => {
      const f = parse(text);
      if (f !== null) {
        assert.doesNotMatch(f.evidence, /[\u0000-\u001f\u007f-\u009f]/);
        assert.ok(['on', 'off', 'unknown'].includes(f.state));
      }
    }),
    { numRuns: 300 },
  );
  // Lines the parsers look for, shuffled with junk.
  const pieces = ['sw=1', 'hw=7', 'fw4=/sbin/fw4', 'Flow Learning Enabled : Max<1>, Active<2>', 'flowtable ft {', 'flags offload', '}', '/sys/sfe_ipv4', 'hnat=present', 'bind=x', '-j FLOWOFFLOAD --hw', '\u0000', ''];
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 12 }), fc.constantFrom(...ALL_PARSERS), (parts, parse) => {
      parse(parts.join('\n'));
    }),
    { numRuns: 300 },
  );
});

function pick(f: ReturnType<typeof parseConntrackOffloadCounts>): [string | undefined, boolean | null | undefined] {
  return [f?.state, f?.isHardware];
}

describe('a shell that printed the probe instead of running it', () => {
  test('unexpanded $(…) values are no answer: no finding', async () => {
    const { parseDdwrtSfe, parseOpenwrtOffloadConfig, parseBroadcomCtf } = await import('./offload.js');
    assert.equal(parseDdwrtSfe('sfe=$(nvram get sfe 2>/dev/null)'), null);
    assert.equal(parseBroadcomCtf('ctf_disable=$(nvram get ctf_disable 2>/dev/null)'), null);
    assert.equal(parseOpenwrtOffloadConfig("sw=$(uci -q get 'firewall.@defaults[0].flow_offloading' 2>/dev/null)\nhw=`uci -q get x`\nfw4=$(command -v fw4)"), null);
  });
});
