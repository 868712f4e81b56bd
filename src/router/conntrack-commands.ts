// The read-only commands the drill-down (issue 19) sends to a router shell, and how to read their
// answers. Every command is built only from addresses re-validated here (canonicalAddress): a caller
// bug must not smuggle router text into a command line. POSIX sh only (BusyBox ash on OpenWrt,
// DD-WRT, Asuswrt, Tomato).
//
// The connection table is filtered ON THE ROUTER: reading all of /proc/net/nf_conntrack costs the
// router's CPU and the link (LuCI stopped doing it, openwrt/luci#1114). One `src=ADDR ` pattern per
// address is enough: a connection the device opened has it in the original tuple, one opened to it
// (a port forward: DNAT rewrites only the original tuple's destination) in the reply tuple — exactly
// the entries domain/connections.ts connectionsOf keeps. The trailing space keeps 198.51.100.1 from
// matching 198.51.100.10. /proc prints IPv6 fully expanded, `conntrack -L` compressed, so each
// branch gets its own patterns.
//
// The answer starts with a marker naming the source that answered, so "no table" (none: procfs
// compiled out, CONFIG_NF_CONNTRACK_PROCFS, and no conntrack tool) differs from "no connections"
// (a source and no lines), and ends with an end marker (a reply cut short is not complete):
//   @@lantop-ct:nf_conntrack
//   ipv4     2 tcp      6 7208 ESTABLISHED src=198.51.100.10 … use=2
//   @@lantop-ct:end

import type { ConntrackFormat, ConntrackReport } from '../domain/connection-model.js';
import { canonicalAddress } from '../domain/address.js';
import { expandIpv6, parseConntrack } from './parsers/conntrack.js';

export const CONNECTION_TABLE_MARKER = '@@lantop-ct:';
/**
 * The longest command line built here. BusyBox ash keeps at most 510 bytes of an interactive line
 * on OpenWrt's build; a device with many addresses gets several commands (connectionTableCommands).
 */
export const MAX_COMMAND_BYTES = 500;

export type ConnectionTableSource = 'nf_conntrack' | 'ip_conntrack' | 'conntrack';

const SOURCE_LABELS: Record<ConnectionTableSource, string> = {
  nf_conntrack: '/proc/net/nf_conntrack',
  ip_conntrack: '/proc/net/ip_conntrack',
  conntrack: 'conntrack -L',
};
const SOURCE_FORMATS: Record<ConnectionTableSource, ConntrackFormat> = {
  nf_conntrack: 'nf_conntrack',
  ip_conntrack: 'ip_conntrack',
  conntrack: 'conntrack-tools',
};

function validated(addresses: readonly string[]): string[] {
  if (!Array.isArray(addresses) || addresses.length === 0) throw new TypeError('connection table command: no addresses');
  const out: string[] = [];
  for (const address of addresses) {
    const canonical = typeof address === 'string' ? canonicalAddress(address) : null;
    if (canonical === null) throw new TypeError(`connection table command: not an address: ${JSON.stringify(String(address)).slice(0, 80)}`);
    if (!out.includes(canonical)) out.push(canonical);
  }
  return out;
}

function patterns(addresses: readonly string[]): string {
  // Addresses are canonical here: only [0-9a-f:.], safe inside single quotes.
  return addresses.map((a) => `-e 'src=${a} '`).join(' ');
}

function buildLine(addresses: readonly string[]): string {
  const m = CONNECTION_TABLE_MARKER;
  const listings = [
    ...(addresses.some((a) => !a.includes(':')) ? ['conntrack -L -f ipv4'] : []),
    ...(addresses.some((a) => a.includes(':')) ? ['conntrack -L -f ipv6'] : []),
  ].join(';');
  // In a subshell: p and s stay out of the session's shell. ip_conntrack holds only IPv4, where the
  // expanded patterns are the plain ones. `-f` per family: older conntrack-tools list only IPv4
  // without it (projectcalico/felix#622); its summary and its errors come on stderr and start
  // "conntrack v": kept, so a refusal shows.
  return (
    `(p=/proc/net/;if [ -r \${p}nf_conntrack ];then s=nf_conntrack;elif [ -r \${p}ip_conntrack ];then s=ip_conntrack;` +
    `elif command -v conntrack >/dev/null;then s=conntrack;else s=none;fi;echo ${m}$s;` +
    `case $s in *_*)grep -F ${patterns(addresses.map((a) => expandIpv6(a)!))} $p$s;;` +
    `c*)(${listings})2>&1|grep -F ${patterns(addresses)} -e 'conntrack v';;esac;echo ${m}end)`
  );
}

/**
 * The command listing the connections of one device (all its addresses, IPv4 and IPv6), for a
 * router shell. Throws TypeError on anything that is not an address, RangeError when the line
 * would pass MAX_COMMAND_BYTES (use connectionTableCommands, which splits).
 */
export function connectionTableCommand(addresses: readonly string[]): string {
  const line = buildLine(validated(addresses));
  if (line.length > MAX_COMMAND_BYTES) throw new RangeError(`connection table command: ${addresses.length} addresses do not fit in ${MAX_COMMAND_BYTES} bytes`);
  return line;
}

/**
 * The same as one or more commands, each within maxBytes (at most MAX_COMMAND_BYTES: the router
 * shell's line budget, FirmwareCapabilities.shellLineBytes) (addresses in order, as many per
 * command as fit: about 5 IPv4 or 2 IPv6 addresses). Parse each answer with
 * parseConnectionTableAnswer and join them with mergeConnectionTableAnswers.
 */
export function connectionTableCommands(addresses: readonly string[], maxBytes: number = MAX_COMMAND_BYTES): string[] {
  const all = validated(addresses);
  const limit = Math.min(maxBytes, MAX_COMMAND_BYTES);
  const commands: string[] = [];
  let chunk: string[] = [];
  for (const address of all) {
    const next = [...chunk, address];
    if (chunk.length > 0 && buildLine(next).length > limit) {
      commands.push(buildLine(chunk));
      chunk = [address];
    } else chunk = next;
  }
  if (chunk.length > 0) commands.push(buildLine(chunk));
  // A shell whose lines are shorter than one address's command: none (the caller reads the whole table).
  if (commands.some((c) => c.length > limit)) throw new RangeError(`connection table command: one address does not fit in ${limit} bytes`);
  return commands;
}

export interface ConnectionTableAnswer {
  /** Where the table came from ("/proc/net/nf_conntrack", "/proc/net/ip_conntrack", "conntrack -L"); null: none. */
  source: string | null;
  /** False when the router has no readable table and no conntrack tool, or the command did not run. */
  hasTable: boolean;
  /** The end marker arrived: the listing was not cut short. */
  isComplete: boolean;
  report: ConntrackReport;
}

/** Reads the answer of a connectionTableCommand. Text before the first marker (an echo, a banner) is ignored. */
export function parseConnectionTableAnswer(text: string): ConnectionTableAnswer {
  const input = typeof text === 'string' ? text : '';
  const lines = input.split(/\r?\n|\r/);
  let source: ConnectionTableSource | 'none' | null = null;
  let isComplete = false;
  const body: string[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    if (line.startsWith(CONNECTION_TABLE_MARKER)) {
      const word = line.slice(CONNECTION_TABLE_MARKER.length);
      if (word === 'end') {
        if (source !== null) isComplete = true;
        continue;
      }
      if (source === null && (word === 'nf_conntrack' || word === 'ip_conntrack' || word === 'conntrack' || word === 'none')) {
        source = word;
        continue;
      }
    }
    if (source !== null && !isComplete) body.push(raw);
  }
  const known = source !== null && source !== 'none' ? source : null;
  const report = parseConntrack(body.join('\n'), known !== null ? SOURCE_FORMATS[known] : undefined);
  return { source: known !== null ? SOURCE_LABELS[known] : null, hasTable: known !== null, isComplete, report };
}

/** Joins the answers of connectionTableCommands (entries in order; the first source that answered). */
export function mergeConnectionTableAnswers(answers: readonly ConnectionTableAnswer[]): ConnectionTableAnswer {
  const entries = answers.flatMap((a) => a.report.entries);
  const accounting = answers.map((a) => a.report.hasAccounting).filter((h): h is boolean => h !== null);
  const first = answers.find((a) => a.hasTable);
  return {
    source: first?.source ?? null,
    hasTable: first !== undefined,
    isComplete: answers.length > 0 && answers.every((a) => a.isComplete),
    report: {
      entries,
      skipped: answers.flatMap((a) => a.report.skipped),
      format: first?.report.format ?? null,
      hasAccounting: accounting.length === 0 ? null : accounting.some(Boolean),
    },
  };
}

/** Reads the accounting switch. */
export const ACCOUNTING_SWITCH_COMMAND = 'cat /proc/sys/net/netfilter/nf_conntrack_acct';

/**
 * Turns per-connection byte counting on (sent only with the user's consent). The counters are a
 * conntrack extension attached when a connection is created (nf_ct_acct_ext_add,
 * include/net/netfilter/nf_conntrack_acct.h), so only connections opened afterwards get bytes;
 * open ones stay without. Not persistent: OpenWrt keeps it in /etc/sysctl.d.
 */
export const ENABLE_ACCOUNTING_COMMAND = 'echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct';

/** true/false from the switch's file; null when the answer is not a number (no such file, refused). */
export function parseAccountingSwitch(text: string): boolean | null {
  if (typeof text !== 'string') return null;
  const lines = text.split(/\r?\n|\r/).map((l) => l.trim()).filter((l) => l !== '');
  // One line: a number (the kernel's proc_dointvec). Anything else is an error message.
  if (lines.length !== 1 || !/^-?\d{1,10}$/.test(lines[0]!)) return null;
  return Number(lines[0]) !== 0; // Documentation/networking/nf_conntrack-sysctl: "not 0 - enabled"
}

/**
 * Asks the router's resolver for the address's name (BusyBox nslookup). `timeout` bounds a resolver
 * that never answers: BusyBox before 1.30 spells it `timeout -t SECS`, newer and coreutils `timeout
 * SECS`, so the second form runs only when the first fails.
 */
export function reverseLookupCommand(address: string): string {
  const canonical = typeof address === 'string' ? canonicalAddress(address) : null;
  if (canonical === null) throw new TypeError(`reverse lookup: not an address: ${JSON.stringify(String(address)).slice(0, 80)}`);
  const q = `nslookup ${canonical} 2>/dev/null`;
  return `if command -v timeout >/dev/null 2>&1;then timeout 2 ${q}||timeout -t 2 ${q};else ${q};fi`;
}

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62})(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,62}))*$/;
const ARPA_ANSWER = /^(\S+\.(?:in-addr|ip6)\.arpa)\.?\s+name\s*=\s*(\S+)$/i;
const OLD_ADDRESS = /^Address(?:\s+\d+)?:\s+(\S+)(?:\s+(\S+))?$/;

function cleanName(name: string): string | null {
  const trimmed = name.endsWith('.') ? name.slice(0, -1) : name;
  return HOST_NAME.test(trimmed) ? trimmed.toLowerCase() : null;
}

function arpaName(address: string): string | null {
  const canonical = canonicalAddress(address);
  if (canonical === null) return null;
  if (!canonical.includes(':')) return `${canonical.split('.').reverse().join('.')}.in-addr.arpa`;
  const hex = expandIpv6(canonical)!.replace(/:/g, '');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

/**
 * The name in a BusyBox nslookup reverse answer, or null (no name, NXDOMAIN, timeout, or a name
 * that is not a plain host name). Both formats of networking/nslookup.c:
 *   1.28+ (own resolver, OpenWrt):  10.100.51.198.in-addr.arpa	name = laptop.lan
 *   older (libc resolver):          Name:      198.51.100.10
 *                                   Address 1: 198.51.100.10 laptop.lan
 * The older form's "Server:" block has Address lines too; only those after "Name:" count. With
 * `address`, an answer for another address is refused.
 */
export function parseReverseLookup(text: string, address?: string): string | null {
  if (typeof text !== 'string') return null;
  const wantArpa = address !== undefined ? arpaName(address) : null;
  const wantAddress = address !== undefined ? canonicalAddress(address) : null;
  if (address !== undefined && wantArpa === null) return null;
  let inNameBlock = false;
  for (const raw of text.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === '') continue;
    const arpa = ARPA_ANSWER.exec(line);
    if (arpa !== null) {
      if (wantArpa !== null && arpa[1]!.toLowerCase() !== wantArpa) continue;
      const name = cleanName(arpa[2]!);
      if (name !== null) return name;
      continue;
    }
    if (/^Name:/.test(line)) {
      inNameBlock = true;
      continue;
    }
    if (/^Server:/.test(line)) {
      inNameBlock = false;
      continue;
    }
    const old = inNameBlock ? OLD_ADDRESS.exec(line) : null;
    if (old !== null && old[2] !== undefined) {
      if (wantAddress !== null && canonicalAddress(old[1]!) !== wantAddress) continue;
      const name = cleanName(old[2]);
      if (name !== null) return name;
    }
  }
  return null;
}
