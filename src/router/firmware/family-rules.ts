// Which family a router is, as data (STYLE.md principle 4, after lazygit's ServiceDefinition): a
// table of {family, matches(signs)}, tried in order; the first rule whose predicate answers gives
// the family and the reason, in words, that detection shows as evidence; when none does, a plain
// Linux shell. A new family is a new row (and its command table in families.ts).
import { sanitizeText } from '../../sanitize.js';
import type { ShellMode } from '../../transport/session.js';
import type { FirmwareFamily } from './families.js';
import { Answers, foundCommands, nvramValue, parseVersion, type IptablesVersion } from './probe-answers.js';
import type { RouterProbes } from './probes.js';

/** What the family rules look at, read once from the probe answers. */
export interface FamilySigns {
  loginMode: ShellMode;
  /** /etc/openwrt_release and /etc/os-release as printed; '' when not probed. */
  release: string;
  /** Basenames `which` found. */
  commands: ReadonlySet<string>;
  /** `iptables -V` in the shell; null: no version answered. */
  iptables: IptablesVersion | null;
  /** `nvram get` values; null: absent (or no nvram). */
  nvram: { ddBoard: string | null; buildno: string | null; osVersion: string | null };
}

export interface FamilyRule {
  family: FirmwareFamily;
  /** Why the signs show this family, in words (display-safe); null when they do not. */
  matches(signs: FamilySigns): string | null;
}

const isOpenWrt = (s: FamilySigns) => /DISTRIB_ID=['"]?OpenWrt/i.test(s.release);
/** firewall4: fw4 itself, or nft alone (no fw3, no iptables binary, no iptables version). */
const isFirewall4 = (s: FamilySigns) => s.commands.has('fw4') || (!s.commands.has('fw3') && s.commands.has('nft') && !s.commands.has('iptables') && s.iptables === null);
const osReleaseId = (s: FamilySigns) => (/^ID=/m.test(s.release) ? sanitizeText(/^ID=(.*)$/m.exec(s.release)?.[1] ?? '?', 40) : null);

/** In order: the first rule that matches decides. */
export const FAMILY_RULES: readonly FamilyRule[] = [
  { family: 'broadcom-cli', matches: (s) => (s.loginMode === 'cli' ? 'login landed in a vendor CLI' : null) },
  { family: 'openwrt-fw4', matches: (s) => (isOpenWrt(s) && isFirewall4(s) ? '/etc/openwrt_release says OpenWrt; fw4/nft found' : null) },
  { family: 'openwrt-fw3', matches: (s) => (isOpenWrt(s) ? '/etc/openwrt_release says OpenWrt; iptables (fw3) found' : null) },
  { family: 'dd-wrt', matches: (s) => (s.nvram.ddBoard !== null ? `nvram DD_BOARD=${sanitizeText(s.nvram.ddBoard, 60)}` : null) },
  { family: 'asuswrt', matches: (s) => (s.nvram.buildno !== null ? `nvram buildno=${sanitizeText(s.nvram.buildno, 60)}` : null) },
  { family: 'tomato', matches: (s) => (s.nvram.osVersion !== null ? `nvram os_version=${sanitizeText(s.nvram.osVersion, 60)}` : null) },
  { family: 'generic-linux', matches: (s) => { const id = osReleaseId(s); return id !== null ? `/etc/os-release: ID=${id}` : null; } },
  { family: 'busybox', matches: (s) => (s.commands.has('busybox') ? 'a BusyBox shell' : null) },
];

/** When no rule matches. */
const FALLBACK: { family: FirmwareFamily; why: string } = { family: 'generic-linux', why: 'a Linux shell without BusyBox, OpenWrt or nvram' };

/** The signs in the answers of a probing (those not probed read as absent). */
function familySigns(probes: Pick<RouterProbes, 'loginMode' | 'answers'>): FamilySigns {
  const a = new Answers(probes.answers);
  return {
    loginMode: probes.loginMode,
    release: a.output('release', 'shell') ?? '',
    commands: foundCommands(a.output('commands', 'shell')),
    iptables: parseVersion(a.output('iptables-version', 'shell')),
    nvram: {
      ddBoard: nvramValue(a.output('nvram-dd-board', 'shell')),
      buildno: nvramValue(a.output('nvram-buildno', 'shell')),
      osVersion: nvramValue(a.output('nvram-os-version', 'shell')),
    },
  };
}

/** The family, and why, from the first rule of FAMILY_RULES that matches (else FALLBACK). */
export function familyOf(probes: Pick<RouterProbes, 'loginMode' | 'answers'>): { family: FirmwareFamily; why: string } {
  const signs = familySigns(probes);
  for (const rule of FAMILY_RULES) {
    const why = rule.matches(signs);
    if (why !== null) return { family: rule.family, why };
  }
  return { ...FALLBACK };
}

/** Lease file a family's firmware is documented to use, tried first. */
const FAMILY_LEASE_FILE: Partial<Record<FirmwareFamily, string>> = {
  'dd-wrt': '/tmp/dnsmasq.leases',
  asuswrt: '/var/lib/misc/dnsmasq.leases',
  tomato: '/var/lib/misc/dnsmasq.leases',
};

/** The lease file to read: the family's own when it exists, else the first that exists. */
export function leaseFileFor(family: FirmwareFamily, existing: readonly string[]): string | null {
  const preferred = FAMILY_LEASE_FILE[family];
  if (preferred !== undefined && existing.includes(preferred)) return preferred;
  return existing[0] ?? null;
}
