import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  OFFLOAD_LINE_MAX_BYTES,
  OFFLOAD_MARKER_PREFIX,
  OFFLOAD_PROBE_MAX_BYTES,
  OFFLOAD_PROBES,
  type OffloadProbe,
  offloadProbeScript,
  parseOffloadAnswers,
  splitOffloadAnswers,
} from './offload-probes.js';

const fixture = (path: string): string => readFileSync(new URL(`../../fixtures/offload/${path}`, import.meta.url), 'utf8');
const bytes = (s: string): number => Buffer.byteLength(s, 'utf8');

function runs(command: string, args: string[]): boolean {
  return spawnSync(command, args, { stdio: 'ignore' }).status === 0;
}
const hasDash = runs('dash', ['-c', 'true']);
const hasBusybox = runs('busybox', ['ash', '-c', 'true']);

test('every probe is fixed, read-only text within the byte budget, ids unique', () => {
  const ids = new Set<string>();
  for (const probe of OFFLOAD_PROBES) {
    assert.equal(typeof probe.command, 'string');
    assert.equal(probe.where, 'shell');
    assert.equal(typeof probe.parse, 'function');
    assert.ok(bytes(probe.command) < OFFLOAD_PROBE_MAX_BYTES, `${probe.id} is ${bytes(probe.command)} bytes`);
    assert.match(probe.id, /^[a-z0-9-]{1,40}$/);
    assert.ok(!ids.has(probe.id), `duplicate id ${probe.id}`);
    ids.add(probe.id);
    // Errors are silenced, so a missing tool or file answers with nothing.
    assert.match(probe.command, /2>\/dev\/null/, probe.id);
    // Nothing writes: no redirection into a file other than /dev/null, no tee, no set/commit.
    assert.doesNotMatch(probe.command.replace(/[12]?>\s*\/dev\/null|2>&1/g, ''), />/, `${probe.id} redirects output`);
    assert.doesNotMatch(probe.command, /\b(?:tee|rm|nvram set|uci set|commit|echo [01] >|insmod|rmmod|modprobe)\b/, probe.id);
    // Only ASCII, no template holes, no newlines: the text is sent as is.
    assert.match(probe.command, /^[\x20-\x7e]+$/, probe.id);
  }
  // The table is frozen data: commands cannot be built from input at run time.
  const commandsBefore = OFFLOAD_PROBES.map((p) => p.command);
  assert.deepEqual(offloadProbeScript().join('\n').length > 0, true);
  assert.deepEqual(OFFLOAD_PROBES.map((p) => p.command), commandsBefore);
});

test('the brief’s fast paths are all covered', () => {
  const all = OFFLOAD_PROBES.map((p) => p.command).join('\n');
  for (const needle of [
    'fcctl status',
    '/proc/ctf',
    'nvram get ctf_disable',
    'nvram get sfe',
    'iptables -S FORWARD',
    'flow_offloading',
    'flow_offloading_hw',
    'nft list flowtables',
    "'[OFFLOAD]' /proc/net/nf_conntrack",
    "'[HW_OFFLOAD]' /proc/net/nf_conntrack",
    '/sys/kernel/debug/ecm/front_end_ipv4_stop',
    'ecm_nss_ipv4/accelerated_count',
    'ecm_sfe_ipv4',
    '/sys/fast_classifier',
    '/sys/sfe_ipv4',
    '/sys/kernel/debug/ppe0/bind',
    'mtk_ppe/bind',
    '/sys/kernel/debug/hnat/hook_toggle',
    'grep -c state=BIND /sys/kernel/debug/hnat/all_entry',
  ]) {
    assert.ok(all.includes(needle), needle);
  }
});

test('offloadProbeScript packs lines within the budget, every probe once, in order, behind its marker', () => {
  const script = offloadProbeScript();
  assert.ok(script.length < OFFLOAD_PROBES.length, 'probes share lines');
  for (const line of script) assert.ok(bytes(line) <= OFFLOAD_LINE_MAX_BYTES, `${bytes(line)} bytes: ${line}`);
  const joined = script.join('; ');
  let at = 0;
  for (const probe of OFFLOAD_PROBES) {
    const marker = `echo ${OFFLOAD_MARKER_PREFIX}${probe.id}; ${probe.command}`;
    const found = joined.indexOf(marker, at);
    assert.ok(found >= at, `${probe.id} missing or out of order`);
    at = found + marker.length;
  }
  // A probe too long for this shell's lines is left out (never sent cut short); the others still go.
  const huge: OffloadProbe = { id: 'x', kind: 'flowtable', command: 'true'.padEnd(600, ' '), where: 'shell', parse: () => null };
  assert.deepEqual(offloadProbeScript([huge]), []);
  const small = OFFLOAD_PROBES[0]!;
  assert.deepEqual(offloadProbeScript([huge, small]).join('').includes(small.command), true);
  // A shorter budget (a shell that keeps fewer bytes of a line) packs into more, shorter lines.
  const tight = offloadProbeScript(OFFLOAD_PROBES, 300);
  assert.ok(tight.length > offloadProbeScript().length);
  assert.ok(tight.every((line) => Buffer.byteLength(line) <= 300));
});

test('the generated lines parse in dash and BusyBox ash', { skip: !hasDash && !hasBusybox }, () => {
  for (const line of offloadProbeScript()) {
    if (hasDash) {
      const r = spawnSync('dash', ['-n', '-c', line], { encoding: 'utf8' });
      assert.equal(r.status, 0, `dash: ${r.stderr} in ${line}`);
    }
    if (hasBusybox) {
      const r = spawnSync('busybox', ['ash', '-n', '-c', line], { encoding: 'utf8' });
      assert.equal(r.status, 0, `ash: ${r.stderr} in ${line}`);
    }
  }
});

test('run for real in BusyBox ash here (no such tools or files): only markers and empty values come back, nothing is on', { skip: !hasBusybox }, () => {
  let out = '';
  for (const line of offloadProbeScript()) {
    const r = spawnSync('busybox', ['ash', '-c', line], { encoding: 'utf8', timeout: 20_000, cwd: '/tmp' });
    assert.equal(r.error, undefined);
    assert.equal(r.stderr, '', `stderr from: ${line}`);
    out += r.stdout;
  }
  const answers = splitOffloadAnswers(out);
  assert.deepEqual([...answers.keys()], OFFLOAD_PROBES.map((p) => p.id));
  const report = parseOffloadAnswers(out, 42);
  // This Linux host has a conntrack table but nothing offloaded: that is a true 'off', not a find.
  const expected = existsSync('/proc/net/nf_conntrack')
    ? [{ kind: 'conntrack-offload', state: 'off' }]
    : [];
  assert.deepEqual(report.findings.map((f) => ({ kind: f.kind, state: f.state })), expected, out);
  assert.equal(report.isOn, false);
  assert.equal(report.warning, null);
});

test('parseOffloadAnswers reads a recorded fw4 hardware router and a Broadcom one', () => {
  const fw4 = [
    'root@OpenWrt:~# (echoed command line, which the marker match ignores: echo @@lantop-offload:openwrt-uci; …)',
    '@@lantop-offload:broadcom-fcache',
    '@@lantop-offload:openwrt-uci',
    fixture('openwrt-fw4/uci-hw-openwrt-24178.txt').trimEnd(),
    '@@lantop-offload:nft-flowtables',
    fixture('openwrt-fw4/nft-flowtable-hw-openwrt-24178.txt').trimEnd(),
    '@@lantop-offload:conntrack-offload',
    'sw=0',
    'hw=41',
    '@@lantop-offload:mediatek-ppe',
    fixture('mediatek/ppe-bind-grep-c.txt').trimEnd(),
  ].join('\r\n');
  const report = parseOffloadAnswers(fw4, 7);
  assert.equal(report.isOn, true);
  assert.deepEqual(report.findings.map((f) => f.kind), ['openwrt-fw4-flowtable', 'conntrack-offload', 'mediatek-ppe']);
  assert.equal(report.findings[0]!.isHardware, true);
  assert.match(report.warning!, /^Hardware offload is on/);

  const broadcom = `@@lantop-offload:broadcom-fcache\n${fixture('broadcom-fcctl/fcctl-status-502L04-enabled.txt')}@@lantop-offload:broadcom-ctf\nctf_disable=\n`;
  const b = parseOffloadAnswers(broadcom, 7);
  assert.deepEqual(b.findings.map((f) => [f.kind, f.state]), [['broadcom-fcache', 'on']]);
  assert.match(b.warning!, /per-device counters read low/);
});

test('a marker counts once: router text cannot open a second section for a probe', () => {
  const text = '@@lantop-offload:conntrack-offload\nsw=0\nhw=0\n@@lantop-offload:conntrack-offload\nsw=999\n';
  const answers = splitOffloadAnswers(text);
  assert.equal(answers.get('conntrack-offload'), 'sw=0\nhw=0\n@@lantop-offload:conntrack-offload\nsw=999\n');
  // first key=value wins, so the forged block does not change the count
  assert.equal(parseOffloadAnswers(text, 0).isOn, false);
  assert.equal(splitOffloadAnswers('no markers at all').size, 0);
});
