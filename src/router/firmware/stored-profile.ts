// Remembering what detection learned (issue 13: "a start must not pay for detection twice"). A
// profile is stored with the router's identity — a hash of what it shows before any probe (the
// telnet banner and prompt, or the SSH host key and prompt) — and reused only while that identity
// is the same. What comes back from the file is checked: every command must be one lantop itself
// can produce, so an edited or corrupted file can never make lantop send something else.
import { createHash } from 'node:crypto';
import { SHELL_ENTRY_CANDIDATES, type ShellMode } from '../../transport/session.js';
import { LEASE_FILES } from './probes.js';
import { isProducedLineBudget } from './line-budget.js';
import { FIRMWARE_COMMANDS, isFirmwareFamily, type CommandSpec, type FirmwareProfile } from './families.js';

/** The key a router's detection is stored under: where and how lantop logs in. */
export function routerKey(target: { host: string | null; port: number; protocol: string; user: string }): string {
  return `${target.protocol}://${target.user}@${target.host ?? '?'}:${target.port}`;
}

/** A short stable hash of the router's outside identity (raw router text never goes to the file). */
export function identityHash(identity: string): string {
  return createHash('sha256').update(identity, 'utf8').digest('hex').slice(0, 32);
}

const ARP_COMMANDS = new Set(['cat /proc/net/arp', 'ip -4 neigh show', 'arp show', ...Object.values(FIRMWARE_COMMANDS).map((c) => c.listArp.command)]);
const NAME_COMMANDS = new Set([
  'lanhosts show all',
  ...LEASE_FILES.map((f) => `cat ${f}`),
  ...Object.values(FIRMWARE_COMMANDS).flatMap((c) => (c.listNames ? [c.listNames.command] : [])),
]);

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isWhere = (v: unknown): v is ShellMode => v === 'cli' || v === 'shell';

function spec(v: unknown, allowed: ReadonlySet<string>): CommandSpec | null {
  if (!isRecord(v) || typeof v['command'] !== 'string' || !isWhere(v['where']) || !allowed.has(v['command'])) return null;
  return { command: v['command'], where: v['where'] };
}

/** The stored profile, or null when it is missing, of another shape, or names a command lantop would not send. */
export function storedFirmware(raw: unknown): FirmwareProfile | null {
  if (!isRecord(raw) || typeof raw['family'] !== 'string' || !isFirmwareFamily(raw['family'])) return null;
  const commands = raw['commands'];
  const capabilities = raw['capabilities'];
  if (!isRecord(commands) || !isRecord(capabilities)) return null;
  const listArp = spec(commands['listArp'], ARP_COMMANDS);
  if (listArp === null) return null;
  let listNames: FirmwareProfile['commands']['listNames'] = null;
  if (commands['listNames'] !== null) {
    const names = commands['listNames'];
    const base = spec(names, NAME_COMMANDS);
    if (base === null || !isRecord(names) || (names['parser'] !== 'lan-hosts' && names['parser'] !== 'dhcp-leases')) return null;
    listNames = { ...base, parser: names['parser'] };
  }
  let iptables: FirmwareProfile['commands']['iptables'] = null;
  if (commands['iptables'] !== null) {
    const base = spec(commands['iptables'], new Set(['iptables']));
    if (base === null) return null;
    iptables = { ...base, binary: 'iptables' };
  }
  const iptablesRestore = commands['iptablesRestore'] === null || commands['iptablesRestore'] === undefined ? null : spec(commands['iptablesRestore'], new Set(['iptables-restore']));
  if (commands['iptablesRestore'] && iptablesRestore === null) return null;
  // Written before issue 15 (no IPv6 or nft fields): probe again, once, to learn them.
  if (!('nft' in commands) || !('ip6tables' in commands) || !('listNeighbours6' in commands)) return null;
  let ip6tables: FirmwareProfile['commands']['ip6tables'] = null;
  if (commands['ip6tables'] !== null) {
    const base = spec(commands['ip6tables'], new Set(['ip6tables']));
    if (base === null) return null;
    ip6tables = { ...base, binary: 'ip6tables' };
  }
  const optional = (v: unknown, allowed: string, where?: ShellMode): CommandSpec | null | undefined => {
    if (v === null || v === undefined) return null;
    const s = spec(v, new Set([allowed]));
    return s === null || (where !== undefined && s.where !== where) ? undefined : s;
  };
  const ip6tablesRestore = optional(commands['ip6tablesRestore'], 'ip6tables-restore', 'shell');
  const nft = optional(commands['nft'], 'nft', 'shell');
  const listNeighbours6 = optional(commands['listNeighbours6'], 'ip -6 neigh show', 'shell');
  if (ip6tablesRestore === undefined || nft === undefined || listNeighbours6 === undefined) return null;
  let shellRoute: FirmwareProfile['commands']['shellRoute'] = null;
  const route = commands['shellRoute'];
  if (route !== null) {
    if (!isRecord(route) || typeof route['enter'] !== 'string' || !SHELL_ENTRY_CANDIDATES.includes(route['enter']) || route['exit'] !== 'exit') return null;
    shellRoute = { enter: route['enter'], exit: 'exit' };
  }
  const bool = (v: unknown): boolean | null => (typeof v === 'boolean' ? v : null);
  const version = typeof capabilities['iptablesVersion'] === 'string' && /^\d+\.\d+\.\d+$/.test(capabilities['iptablesVersion']) ? capabilities['iptablesVersion'] : null;
  const backend = capabilities['backend'] === 'legacy' || capabilities['backend'] === 'nft' ? capabilities['backend'] : null;
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string').slice(0, 40) : []);
  return {
    family: raw['family'],
    commands: { shellRoute, listArp, listNames, iptables, iptablesRestore, ip6tables, ip6tablesRestore, nft, listNeighbours6 },
    capabilities: {
      hasCommentMatch: bool(capabilities['hasCommentMatch']),
      hasCheck: bool(capabilities['hasCheck']),
      iptablesVersion: version,
      backend,
      shellLineBytes: isProducedLineBudget(capabilities['shellLineBytes']) ? capabilities['shellLineBytes'] : null,
      hasShellBatch: bool(capabilities['hasShellBatch']),
      nftOnly: capabilities['nftOnly'] === true,
      nftVersion: typeof capabilities['nftVersion'] === 'string' && /^\d+\.\d+(\.\d+)?$/.test(capabilities['nftVersion']) ? capabilities['nftVersion'] : null,
      hasNftJson: bool(capabilities['hasNftJson']),
    },
    evidence: strings(raw['evidence']),
    // Decisions are display text of the probing run; kept as they were (already sanitised).
    decisions: Array.isArray(raw['decisions']) ? (raw['decisions'] as FirmwareProfile['decisions']).slice(0, 20) : [],
    source: 'stored',
  };
}
