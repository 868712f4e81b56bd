// Can this machine run the lab (root, tools, namespaces, both iptables backends), and a variant of
// it (inetutils telnetd)? Tests skip with one loud line when not, and fail under LANTOP_REQUIRE_LAB=1.
import { existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { resolveProfile, type LabVariantName, type RouterProfile } from './lab-variants.js';
import { INETUTILS_INETD, INETUTILS_TELNETD } from './lab-settings.js';
import { LabError, runSyncQuiet } from './run-command.js';


export type LabCheck = { ok: true } | { ok: false; why: string };
let cachedCheck: LabCheck | undefined;

const REQUIRED_PROGRAMS = [
  'ip', 'nft', 'iptables-legacy', 'iptables-nft', 'iptables-legacy-save', 'iptables-nft-save',
  'iptables-legacy-restore', 'iptables-nft-restore', 'ip6tables-legacy', 'ip6tables-nft', 'ip6tables-legacy-save',
  'ip6tables-nft-save', 'ip6tables-legacy-restore', 'ip6tables-nft-restore', 'busybox', 'dropbear', 'dropbearkey', 'openssl',
  'setpriv', 'nsenter', 'unshare', 'mount', 'bash', 'sleep',
];

function findProgram(name: string): string | undefined {
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/sbin', '/sbin', '/usr/bin', '/bin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Whether the lab can run here (root, tools, namespaces, both iptables backends). Cached; synchronous. */
export function canRunLab(): LabCheck {
  cachedCheck ??= checkLab();
  return cachedCheck;
}

function checkLab(): LabCheck {
  if (process.platform !== 'linux') return { ok: false, why: `needs Linux, this is ${process.platform}` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (network namespaces, iptables, daemons on ports 22/23)' };
  const missing = REQUIRED_PROGRAMS.filter((name) => !findProgram(name));
  if (missing.length > 0) {
    return { ok: false, why: `missing programs: ${missing.join(', ')} (Debian: iproute2 iptables nftables busybox-static dropbear-bin openssl util-linux)` };
  }
  const applets = runSyncQuiet(['busybox', '--list']).stdout.split('\n');
  if (!applets.includes('telnetd')) return { ok: false, why: 'this busybox has no telnetd applet (install busybox-static)' };
  const probe = `ltprobe${process.pid % 100000}`;
  try {
    if (runSyncQuiet(['ip', 'netns', 'add', probe]).code !== 0) return { ok: false, why: 'cannot create a network namespace (ip netns add failed)' };
    for (const argv of [['iptables-legacy', '-t', 'nat', '-S'], ['iptables-nft', '-t', 'nat', '-S'], ['nft', 'list', 'tables']]) {
      if (runSyncQuiet(['ip', 'netns', 'exec', probe, ...argv]).code !== 0) {
        return { ok: false, why: `\`${argv.join(' ')}\` fails inside a namespace (kernel modules?)` };
      }
    }
  } finally {
    runSyncQuiet(['ip', 'netns', 'del', probe]);
  }
  return { ok: true };
}

/**
 * For `describe(..., { skip: labSkipReason() })`: false when the lab can run; otherwise prints ONE
 * loud line and returns the reason. With LANTOP_REQUIRE_LAB=1 (CI) a lab that cannot run is an error.
 */
export function labSkipReason(): false | string {
  const check = canRunLab();
  if (check.ok) return false;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new LabError(`LANTOP_REQUIRE_LAB=1 but the lab cannot run: ${check.why}`);
  process.stderr.write(`\n*** LAB TESTS SKIPPED: ${check.why} ***\n\n`);
  return `lab cannot run: ${check.why}`;
}

/** What a variant needs beyond REQUIRED_PROGRAMS; { ok: true } when this machine has it. */
export function canRunVariant(variant: LabVariantName = 'cms', overrides: Partial<RouterProfile> = {}): LabCheck {
  const base = canRunLab();
  if (!base.ok) return base;
  const profile = resolveProfile(variant, overrides);
  if (profile.telnetd === 'inetutils') {
    for (const path of [INETUTILS_TELNETD, INETUTILS_INETD]) {
      if (!existsSync(path)) return { ok: false, why: `variant ${variant} needs ${path} (Debian: inetutils-telnetd)` };
    }
    const version = runSyncQuiet([INETUTILS_TELNETD, '--version']).stdout;
    if (!/inetutils/i.test(version)) return { ok: false, why: `${INETUTILS_TELNETD} is not GNU inetutils' telnetd (Debian: inetutils-telnetd)` };
  }
  if (profile.firmware === 'openwrt') {
    // The OpenWrt router's /etc is an overlay; its shell and login are BusyBox's; fw4 locks with flock.
    let filesystems = '';
    try { filesystems = readFileSync('/proc/filesystems', 'utf8'); } catch { /* not Linux */ }
    if (!/\toverlay$/m.test(filesystems)) return { ok: false, why: `variant ${variant} needs overlayfs (modprobe overlay)` };
    const applets = runSyncQuiet(['busybox', '--list']).stdout.split('\n');
    const missing = ['login', 'ash', 'ip', 'which'].filter((a) => !applets.includes(a));
    if (missing.length > 0) return { ok: false, why: `variant ${variant} needs busybox applets ${missing.join(', ')} (busybox-static)` };
    if (!findProgram('flock') || !findProgram('hostname')) return { ok: false, why: `variant ${variant} needs flock and hostname (util-linux, hostname)` };
  }
  return { ok: true };
}

/** Like labSkipReason(), for one variant: one loud line and the reason, or an error under LANTOP_REQUIRE_LAB=1. */
export function variantSkipReason(variant: LabVariantName = 'cms', overrides: Partial<RouterProfile> = {}): false | string {
  const base = labSkipReason();
  if (base) return base;
  const check = canRunVariant(variant, overrides);
  if (check.ok) return false;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new LabError(`LANTOP_REQUIRE_LAB=1 but lab variant ${variant} cannot run: ${check.why}`);
  process.stderr.write(`\n*** LAB VARIANT ${variant} SKIPPED: ${check.why} ***\n\n`);
  return `lab variant ${variant} cannot run: ${check.why}`;
}

