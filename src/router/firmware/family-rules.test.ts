import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FAMILY_RULES, familyOf } from './family-rules.js';
import { FIRMWARE_FAMILIES } from './families.js';
import type { ProbeAnswer } from './probes.js';

const shell = (outputs: Partial<Record<ProbeAnswer['id'], string>>) => ({
  loginMode: 'shell' as const,
  answers: Object.entries(outputs).map(([id, output]) => ({ id: id as ProbeAnswer['id'], command: id, where: 'shell' as const, output: output! })),
});

test('every family has a rule that names it', () => {
  assert.deepEqual([...new Set(FAMILY_RULES.map((r) => r.family))].sort(), [...FIRMWARE_FAMILIES].sort());
});

test('the first rule that matches decides: an OpenWrt release wins over nvram and BusyBox', () => {
  const probes = shell({ release: "DISTRIB_ID='OpenWrt'\n", commands: '/bin/busybox\n/usr/sbin/nvram\n/usr/sbin/iptables\n', 'nvram-dd-board': 'Linksys\n' });
  assert.deepEqual(familyOf(probes), { family: 'openwrt-fw3', why: '/etc/openwrt_release says OpenWrt; iptables (fw3) found' });
  assert.deepEqual(familyOf(shell({ commands: '/bin/busybox\n', 'nvram-dd-board': 'Linksys\n' })).family, 'dd-wrt');
});

test('no sign at all: a plain Linux shell', () => {
  assert.deepEqual(familyOf(shell({})), { family: 'generic-linux', why: 'a Linux shell without BusyBox, OpenWrt or nvram' });
  assert.deepEqual(familyOf({ loginMode: 'cli', answers: [] }), { family: 'broadcom-cli', why: 'login landed in a vendor CLI' });
});
