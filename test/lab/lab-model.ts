// Pure parts of the router lab: addresses, names, rule sets and file formats. No I/O here, so the
// lab's own bookkeeping is unit-tested without root (lab-model.test.ts); router-lab.ts and its
// parts do the effects.

export type IptablesBackend = 'legacy' | 'nft';

export const LAN_PREFIX = '198.51.100';
export const ROUTER_LAN_IP = '198.51.100.1';
export const CONSOLE_IP = '198.51.100.254';
export const ROUTER_WAN_IP = '203.0.113.2';
export const ISP_IP = '203.0.113.1';
export const WAN_PREFIX_LENGTH = 30;
export const FIRST_HOST_OCTET = 10;
export const MAX_HOSTS = 32;
/** Locally administered (02:…) MACs; the last byte of a LAN MAC is the last octet of its IP. */
const MAC_BASE = '02:1a:b0:00';
export const ROUTER_LAN_MAC = `${MAC_BASE}:00:01`;
export const CONSOLE_MAC = `${MAC_BASE}:00:fe`;
export const ROUTER_WAN_MAC = `${MAC_BASE}:ff:02`;
export const ISP_MAC = `${MAC_BASE}:ff:01`;

// Dual stack (profile.ipv6), documentation prefixes only (RFC 3849): a /64 on the LAN, a /64 on the
// WAN link, and the ISP routes the LAN /64 to the router (no NAT66).
export const LAN6_PREFIX = '2001:db8:1::/64';
export const ROUTER_LAN_IP6 = '2001:db8:1::1';
export const WAN6_PREFIX = '2001:db8:ff::/64';
export const ROUTER_WAN_IP6 = '2001:db8:ff::2';
export const ISP_IP6 = '2001:db8:ff::1';

export function hostIp(index: number): string {
  checkHostIndex(index);
  return `${LAN_PREFIX}.${FIRST_HOST_OCTET + index - 1}`;
}

/** A host's stable IPv6 address: the IPv4 host octet's digits as the last group (h1: 2001:db8:1::10). */
export function hostIp6(index: number): string {
  checkHostIndex(index);
  return `2001:db8:1::${FIRST_HOST_OCTET + index - 1}`;
}

export function hostMac(index: number): string {
  checkHostIndex(index);
  return `${MAC_BASE}:00:${(FIRST_HOST_OCTET + index - 1).toString(16).padStart(2, '0')}`;
}

function checkHostIndex(index: number): void {
  if (!Number.isInteger(index) || index < 1 || index > MAX_HOSTS) {
    throw new RangeError(`lab host index must be 1..${MAX_HOSTS}, got ${index}`);
  }
}

/** Names of everything one lab creates; `prefix` is unique per lab (e.g. `lt4711a`). */
export interface LabNames {
  prefix: string;
  routerNs: string;
  ispNs: string;
  hostNs: (index: number) => string;
  /** The console veth in the root namespace (its peer `con0` is a port of the router's br0). */
  consoleIf: string;
}

/** `lt<pid mod 10000><letter>`: short enough that `<prefix>c` fits IFNAMSIZ (15). */
export function labPrefix(pid: number, serial: number): string {
  if (serial < 0 || serial > 25) throw new RangeError('at most 26 labs per process');
  return `lt${pid % 10000}${String.fromCharCode(97 + serial)}`;
}

export const LAB_NAMESPACE_PATTERN = /^(lt\d{1,4}[a-z])-(r|isp|h\d{1,2})$/;

export function labNames(prefix: string): LabNames {
  if (!/^lt\d{1,4}[a-z]$/.test(prefix)) throw new Error(`bad lab prefix ${JSON.stringify(prefix)}`);
  return {
    prefix,
    routerNs: `${prefix}-r`,
    ispNs: `${prefix}-isp`,
    hostNs: (index) => `${prefix}-h${index}`,
    consoleIf: `${prefix}c`,
  };
}

/** Default LAN hostnames: ordinary ones, and host 3 sends no name (the "empty hostname" case). */
export function defaultHostname(index: number): string {
  const names = ['alice-laptop', 'bobs-phone', ''];
  return names[index - 1] ?? `host-${index}`;
}

const BUILTIN_CHAINS: Record<string, string[]> = {
  filter: ['INPUT', 'FORWARD', 'OUTPUT'],
  nat: ['PREROUTING', 'INPUT', 'OUTPUT', 'POSTROUTING'],
  mangle: ['PREROUTING', 'INPUT', 'FORWARD', 'OUTPUT', 'POSTROUTING'],
  raw: ['PREROUTING', 'OUTPUT'],
  security: ['INPUT', 'FORWARD', 'OUTPUT'],
};

/** The consumer router's boot rules per family: IPv4 with NAT; IPv6 the same filter rules, routed
 * (no nat table: no NAT66), plus ICMPv6, which neighbour discovery and path MTU need (RFC 4890). */
const BOOT_RULES: Record<4 | 6, Record<string, string[]>> = {
  4: {
    filter: [
      '-A INPUT -i lo -j ACCEPT',
      '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
      '-A INPUT -i ppp0 -m state --state NEW -j DROP',
      '-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -i br0 -o ppp0 -j ACCEPT',
      '-A FORWARD -i ppp0 -m state --state NEW -j DROP',
    ],
    nat: ['-A POSTROUTING -o ppp0 -j MASQUERADE'],
  },
  6: {
    filter: [
      '-A INPUT -i lo -j ACCEPT',
      '-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT',
      '-A INPUT -p ipv6-icmp -j ACCEPT',
      '-A INPUT -i ppp0 -m state --state NEW -j DROP',
      '-A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT',
      '-A FORWARD -p ipv6-icmp -j ACCEPT',
      '-A FORWARD -i br0 -o ppp0 -j ACCEPT',
      '-A FORWARD -i ppp0 -m state --state NEW -j DROP',
    ],
  },
};

/**
 * The boot firewall of a consumer router, as `iptables-restore` input (family 4) or
 * `ip6tables-restore` input (family 6). Every table named here is flushed by the restore, so it
 * doubles as the "reboot" reset. `extraTables` (e.g. raw, security when some test created them) are
 * reset to empty built-in chains.
 */
export function bootRuleset(extraTables: readonly string[] = [], family: 4 | 6 = 4): string {
  const out: string[] = [];
  const rules = BOOT_RULES[family];
  const tables = [...Object.keys(rules), ...extraTables.filter((t) => !(t in rules))];
  for (const table of tables) {
    const chains = BUILTIN_CHAINS[table];
    if (!chains) throw new Error(`unknown iptables table ${table}`);
    out.push(`*${table}`);
    for (const chain of chains) out.push(`:${chain} ACCEPT [0:0]`);
    out.push(...(rules[table] ?? []));
    out.push('COMMIT');
  }
  return out.join('\n') + '\n';
}

export interface LabLease {
  mac: string;
  ip: string;
  /** Raw bytes are kept as given: a Buffer may hold non-UTF-8. Empty = the client sent no name. */
  hostname: string | Buffer;
  /** Seconds until the lease expires (default 86400). */
  leaseSeconds?: number;
}

function hostnameBytes(hostname: string | Buffer): Buffer {
  const bytes = typeof hostname === 'string' ? Buffer.from(hostname, 'utf8') : hostname;
  // NUL cannot be stored; newline and TAB would break the line formats below.
  if (bytes.includes(0) || bytes.includes(0x0a) || bytes.includes(0x09)) {
    throw new Error('lab hostnames may not contain NUL, newline or TAB bytes');
  }
  return bytes;
}

/** dnsmasq's lease file (`/tmp/dhcp.leases`): `expiry mac ip hostname|* clientid|*`. */
export function formatDnsmasqLeases(leases: readonly LabLease[], nowSeconds: number): Buffer {
  const lines = leases.map((lease) => {
    const name = hostnameBytes(lease.hostname);
    const expiry = nowSeconds + (lease.leaseSeconds ?? 86400);
    return Buffer.concat([
      Buffer.from(`${expiry} ${lease.mac} ${lease.ip} `),
      name.length > 0 ? name : Buffer.from('*'),
      Buffer.from(` 01:${lease.mac}\n`),
    ]);
  });
  return Buffer.concat(lines);
}

/** The table broadcom-cli.sh renders for `lanhosts show all`: `mac\tip\texpiry\thostname` lines. */
export function formatLanhostsTable(leases: readonly LabLease[], nowSeconds: number): Buffer {
  return Buffer.concat(
    leases.map((lease) =>
      Buffer.concat([
        Buffer.from(`${lease.mac}\t${lease.ip}\t${nowSeconds + (lease.leaseSeconds ?? 86400)}\t`),
        hostnameBytes(lease.hostname),
        Buffer.from('\n'),
      ]),
    ),
  );
}

/**
 * Hostile DHCP hostnames for the injection tests. Each one that would run a command touches
 * `/tmp/<marker>`; the lab checks for that file where the router's shell sees /tmp and in the
 * test machine's /tmp (in case lantop itself ran one locally).
 */
export function hostileHostnames(marker: string): Array<string | Buffer> {
  if (!/^[A-Za-z0-9_.-]+$/.test(marker)) throw new Error('marker must be a plain file name');
  const path = `/tmp/${marker}`;
  return [
    `;touch${'${IFS}'}${path};reboot`,
    `$(touch ${path})`,
    `\`touch ${path}\``,
    `|touch ${path}`,
    '\u001b[2J\u001b[31mred\u001b]0;owned\u0007\u001b[0m',
    'x'.repeat(5000),
    Buffer.from([0x66, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x6f]),
  ];
}

/** Normalises `iptables-save` output for comparison: drops `#` lines (timestamps), zeroes `[p:b]`. */
export function normalizeIptablesSave(text: string): string {
  return text
    .split('\n')
    .filter((line) => !line.startsWith('#'))
    .map((line) => line.replace(/^(:\S+ \S+) \[\d+:\d+\]$/, '$1 [0:0]'))
    .join('\n');
}
