// Pure parts of the gateway lab (README.md "The gateway lab"): addresses, users, the Debian config
// texts the gateway's sshd and rsyslog run with, the per-session oracle's table and its readings.
// No I/O here; gateway-lab.ts and its parts do the effects.

/** The clients' side: the gateway's address there, and one address per client. */
export const GW_CLIENT_IP = '203.0.113.1';
export const CLIENT_PREFIX_LENGTH = 24;
export const FIRST_CLIENT_OCTET = 10;
export const MAX_CLIENTS = 8;
/**
 * The IPv6 path (`ipv6: true`): the client link's /64 from the documentation prefix 2001:db8::/32
 * (RFC 3849), the gateway at ::1 and each client at ::10, ::11, … (the IPv4 host octet's digits).
 */
export const GW_CLIENT_IP6 = '2001:db8:ff::1';
export const CLIENT_PREFIX6_LENGTH = 64;
/** The server's side (198.51.100.0/25): the gateway's address there and the byte server behind it. */
export const GW_SERVER_IP = '198.51.100.1';
export const SERVER_IP = '198.51.100.20';
export const SERVER_PREFIX_LENGTH = 25;
/**
 * The console (root namespace) ↔ gateway link, 198.51.100.128/25, where lantop reaches the
 * gateway's sshd from. Not 192.0.2.0/24: machines (this project's included) may sit on TEST-NET-1
 * themselves. The root namespace's route is the /25; the router lab's /24 cannot coexist, and the
 * shared lab lock keeps the two labs apart.
 */
export const GW_CONSOLE_IP = '198.51.100.129';
export const CONSOLE_IP = '198.51.100.254';
export const CONSOLE_PREFIX = '198.51.100.128/25';
export const GATEWAY_HOSTNAME = 'lantop-gw';
export const SSH_PORT = 22;
/** The oracle's table, in each client's namespace. */
export const GW_ORACLE_TABLE = 'lantop_gw_oracle';

export function clientIp(index: number): string {
  if (!Number.isInteger(index) || index < 1 || index > MAX_CLIENTS) throw new RangeError(`gateway client index must be 1..${MAX_CLIENTS}`);
  return `203.0.113.${FIRST_CLIENT_OCTET + index - 1}`;
}

export function clientIp6(index: number): string {
  clientIp(index);
  return `2001:db8:ff::${FIRST_CLIENT_OCTET + index - 1}`;
}

export type AddressFamily = 4 | 6;

export interface GatewayUser {
  name: string;
  uid: number;
  password: string;
}

/**
 * Valid under useradd's rule (`^[a-z_][a-z0-9_-]*[$]?$`, shadow-utils' is_valid_user_name) but it
 * looks like shell, an option and a regex at once: a leading `_-`, a `-` inside and the trailing
 * `$` of Samba machine accounts. sshd and pam_unix take it as it is; a rule comment or a shell
 * command built by string interpolation would not.
 */
export const HOSTILE_USER = '_-odd-name$';
export const USER_NAME_PATTERN = /^[a-z_][a-z0-9_-]*[$]?$/;

export function defaultGatewayUsers(): GatewayUser[] {
  return [
    { name: 'alice', uid: 1001, password: 'alice-lab-pw' },
    { name: 'bob', uid: 1002, password: 'bob-lab-pw' },
    { name: HOSTILE_USER, uid: 1003, password: 'odd-lab-pw' },
  ];
}

/** `/etc/passwd`, `/etc/group` of the gateway: root (lantop's login), the sshd privsep user, the lab users. */
export function passwdFile(users: readonly GatewayUser[]): string {
  return [
    'root:x:0:0:root:/root:/bin/bash',
    'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin',
    'sshd:x:100:65534::/run/sshd:/usr/sbin/nologin',
    ...users.map((u) => `${u.name}:x:${u.uid}:${u.uid}:lab user:/home/${u.name}:/bin/bash`),
    '',
  ].join('\n');
}

export function groupFile(users: readonly GatewayUser[]): string {
  return [
    'root:x:0:', 'daemon:x:1:', 'adm:x:4:', 'nogroup:x:65534:',
    ...users.map((u) => `${u.name}:x:${u.uid}:`),
    '',
  ].join('\n');
}

/** `/etc/shadow` from name → crypt hash (`openssl passwd -6`). */
export function shadowFile(hashes: ReadonlyArray<{ name: string; hash: string }>): string {
  return [
    ...hashes.map((h) => `${h.name}:${h.hash}:20000:0:99999:7:::`),
    'daemon:*:20000:0:99999:7:::', 'nobody:*:20000:0:99999:7:::', 'sshd:!:20000::::::',
    '',
  ].join('\n');
}

/**
 * Debian 12's `/etc/ssh/sshd_config` (openssh-server 1:9.2p1-2, its non-comment lines, in order:
 * the Include first, so drop-ins such as a DenyUsers file win) plus what the lab sets: one ed25519
 * host key, IPv4 (`ipv6`: both families, Debian's default `#AddressFamily any`), root may log in with
 * a password (lantop's own login), passwords and TCP forwarding on (both are Debian's compiled-in
 * defaults as well; written out so a test can rely on them).
 */
export function sshdConfig(options: { ipv6?: boolean } = {}): string {
  return [
    'Include /etc/ssh/sshd_config.d/*.conf',
    `# lab: one host key, ${options.ipv6 === true ? 'IPv4 and IPv6' : 'IPv4 only'}, root with a password (lantop logs in as root)`,
    'Port 22',
    `AddressFamily ${options.ipv6 === true ? 'any' : 'inet'}`,
    'HostKey /etc/ssh/ssh_host_ed25519_key',
    'PermitRootLogin yes',
    'PasswordAuthentication yes',
    'AllowTcpForwarding yes',
    '# Debian 12 defaults',
    'KbdInteractiveAuthentication no',
    'UsePAM yes',
    'X11Forwarding yes',
    'PrintMotd no',
    'AcceptEnv LANG LC_*',
    'Subsystem\tsftp\t/usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/** 'debian12': rsyslog's built-in RSYSLOG_FileFormat, as Debian 12 ships it (RFC 3339 timestamps with
 * microseconds); 'traditional': `$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat`
 * (`Dec  4 18:40:00 host …`), as Debian ≤ 11 and Ubuntu ship it. */
export type SyslogTemplate = 'debian12' | 'traditional';

/**
 * Debian 12's `/etc/rsyslog.conf` (rsyslog 8.2302.0-1) without imklog (the kernel log is the
 * machine's, not the gateway's), without the rsyslog.d include and the `*.emerg :omusrmsg:*` wall,
 * and with a work directory of the lab's. The rules, owner, group and modes are Debian's.
 */
export function rsyslogConfig(workDirectory: string, template: SyslogTemplate): string {
  if (/["\n]/.test(workDirectory)) throw new Error('bad rsyslog work directory');
  return [
    'module(load="imuxsock")',
    ...(template === 'traditional' ? ['$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat'] : []),
    '$FileOwner root',
    '$FileGroup adm',
    '$FileCreateMode 0640',
    '$DirCreateMode 0755',
    '$Umask 0022',
    `$WorkDirectory ${workDirectory}`,
    '*.*;auth,authpriv.none\t\t-/var/log/syslog',
    'auth,authpriv.*\t\t\t/var/log/auth.log',
    'cron.*\t\t\t\t-/var/log/cron.log',
    'kern.*\t\t\t\t-/var/log/kern.log',
    'mail.*\t\t\t\t-/var/log/mail.log',
    'user.*\t\t\t\t-/var/log/user.log',
    '',
  ].join('\n');
}

/**
 * The oracle's table in a client's namespace: per local TCP port (one per SSH connection of that
 * client), the bytes that leave eth0 for the gateway's port 22 (up) and arrive from it (down).
 * The same packets, with the same length, as the gateway's INPUT and OUTPUT see for that session
 * (a veth pair between them, nothing forwards, merges or splits; gateway-lab.test.ts proves it
 * against counters in the gateway); nothing in the gateway — lantop's rules, a flush, a restart of
 * sshd — can touch it. IPv6 connections (to 2001:db8:ff::1) count in sets of their own (`up6`,
 * `down6`): a v4 and a v6 connection of one client may share a local port (the kernel hands out
 * ephemeral ports per 4-tuple), so one set per family keeps them apart. Without IPv6 they stay empty.
 */
export function clientOracleRuleset(): string {
  return [
    `table inet ${GW_ORACLE_TABLE} {`,
    '  set up { type inet_service; size 4096; flags dynamic; }',
    '  set down { type inet_service; size 4096; flags dynamic; }',
    '  set up6 { type inet_service; size 4096; flags dynamic; }',
    '  set down6 { type inet_service; size 4096; flags dynamic; }',
    '  chain up {',
    '    type filter hook postrouting priority 0; policy accept;',
    `    oifname "eth0" ip daddr ${GW_CLIENT_IP} tcp dport ${SSH_PORT} update @up { tcp sport counter }`,
    `    oifname "eth0" ip6 daddr ${GW_CLIENT_IP6} tcp dport ${SSH_PORT} update @up6 { tcp sport counter }`,
    '  }',
    '  chain down {',
    '    type filter hook prerouting priority 0; policy accept;',
    `    iifname "eth0" ip saddr ${GW_CLIENT_IP} tcp sport ${SSH_PORT} update @down { tcp dport counter }`,
    `    iifname "eth0" ip6 saddr ${GW_CLIENT_IP6} tcp sport ${SSH_PORT} update @down6 { tcp dport counter }`,
    '  }',
    '}',
    '',
  ].join('\n');
}

export interface PortCounts {
  downBytes: number;
  upBytes: number;
  downPackets: number;
  upPackets: number;
}

export const zeroPortCounts = (): PortCounts => ({ downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0 });

/** The oracle's set names for one family. */
export function oracleSets(family: AddressFamily): { up: string; down: string } {
  return family === 6 ? { up: 'up6', down: 'down6' } : { up: 'up', down: 'down' };
}

/** `nft -j list table inet lantop_gw_oracle` → counts per client-side port of one family (default
 * IPv4). Missing sets: an error. */
export function parseClientOracle(json: string, family: AddressFamily = 4): Map<number, PortCounts> {
  const parsed = JSON.parse(json) as { nftables?: Array<Record<string, unknown>> };
  const result = new Map<number, PortCounts>();
  const seen = new Set<string>();
  const names = oracleSets(family);
  for (const item of parsed.nftables ?? []) {
    const set = item['set'] as { name?: string; table?: string; elem?: unknown[] } | undefined;
    if (!set || set.table !== GW_ORACLE_TABLE || (set.name !== names.up && set.name !== names.down)) continue;
    seen.add(set.name);
    for (const entry of set.elem ?? []) {
      const elem = (typeof entry === 'object' && entry !== null ? (entry as { elem?: { val?: unknown; counter?: { packets?: number; bytes?: number } } }).elem : undefined) ?? {};
      const port = typeof elem.val === 'number' ? elem.val : typeof entry === 'number' ? entry : undefined;
      if (port === undefined) continue;
      let counts = result.get(port);
      if (!counts) result.set(port, (counts = zeroPortCounts()));
      const bytes = Number(elem.counter?.bytes ?? 0);
      const packets = Number(elem.counter?.packets ?? 0);
      if (set.name === names.up) { counts.upBytes += bytes; counts.upPackets += packets; } else { counts.downBytes += bytes; counts.downPackets += packets; }
    }
  }
  if (seen.size !== 2) throw new Error(`gateway oracle sets missing from nft output (saw ${[...seen].join(', ') || 'none'})`);
  return result;
}

export function addCounts(into: PortCounts, from: PortCounts, sign = 1): void {
  into.downBytes += sign * from.downBytes;
  into.upBytes += sign * from.upBytes;
  into.downPackets += sign * from.downPackets;
  into.upPackets += sign * from.upPackets;
}

/** One TCP socket of `ss -tanpH` (state, local and peer address:port, owning processes). */
export interface SocketLine {
  state: string;
  local: { ip: string; port: number };
  peer: { ip: string; port: number };
  pids: number[];
}

function endpoint(text: string): { ip: string; port: number } {
  const at = text.lastIndexOf(':');
  return { ip: text.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(text.slice(at + 1)) };
}

/** Parses `ss -tanpH` (IPv4 lines; `users:(("ssh",pid=N,fd=M),…)` when -p sees the owner). */
export function parseSs(text: string): SocketLine[] {
  const lines: SocketLine[] = [];
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 5 || !/^\d+$/.test(fields[1] ?? '')) continue;
    const pids = [...line.matchAll(/pid=(\d+)/g)].map((m) => Number(m[1]));
    lines.push({ state: fields[0]!, local: endpoint(fields[3]!), peer: endpoint(fields[4]!), pids });
  }
  return lines;
}
