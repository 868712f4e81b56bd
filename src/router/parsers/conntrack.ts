// The router's connection table (issue 19 drill-down), in the three forms routers print it.
//
// /proc/net/nf_conntrack (ct_seq_show, net/netfilter/nf_conntrack_standalone.c; openwrt/luci#5909):
//   ipv4     2 tcp      6 7208 ESTABLISHED src=192.168.1.10 dst=10.0.1.1 sport=42978 dport=5201 packets=2 bytes=112 src=10.0.1.1 dst=10.0.1.2 sport=5201 dport=42978 packets=1 bytes=60 [ASSURED] mark=0 zone=0 use=2
//   ipv6     10 tcp      6 86392 ESTABLISHED src=2001:0db8:ffff:0021:0000:0000:0000:0002 dst=… [ASSURED] mark=0 zone=0 use=3
// `conntrack -L` (conntrack-tools; no l3 prefix, compressed IPv6, a summary line on stderr):
//   tcp      6 src=192.168.1.10 dst=10.0.1.1 sport=42984 dport=5201 packets=2 bytes=112 src=10.0.1.1 dst=10.0.1.2 sport=5201 dport=42984 packets=1 bytes=60 [OFFLOAD] mark=0 use=2
//   conntrack v1.4.6 (conntrack-tools): 3 flow entries have been shown.
// /proc/net/ip_conntrack (2.6 kernels, ip_conntrack_standalone.c; counters only with CONFIG_IP_NF_CT_ACCT):
//   tcp      6 431999 ESTABLISHED src=192.168.1.2 dst=192.168.1.16 sport=51359 dport=22 packets=80969 bytes=7950474 src=… [ASSURED] mark=0 use=1
//
// Read by key=value, never by column: offloaded entries omit the timeout and the state
// ([OFFLOAD], [HW_OFFLOAD]), nf_conntrack_acct=0 omits packets=/bytes=, ICMP has type=/code=/id=
// instead of ports, kernels add mark=/secmark=/zone=/secctx=. The first src= opens the original
// tuple, the second the reply tuple; dst/ports/counters belong to the tuple last opened. /proc prints
// IPv6 fully expanded (%pI6): addresses come out canonical (domain/address.ts). Never throws.

import type { ConntrackEntry, ConntrackFormat, ConntrackReport, ConntrackTuple } from '../../domain/connection-model.js';
import { canonicalAddress, parseAddress } from '../../domain/address.js';

const MAX_LINE_LENGTH = 4096;
const MAX_TOKENS = 64;
const MAX_SKIPPED = 200;
const L4_NAME = /^[a-z][a-z0-9-]{0,15}$/;
const SMALL_INT = /^\d{1,3}$/;
const TIMEOUT = /^-?\d{1,12}$/;
const STATE = /^[A-Z][A-Z0-9_]{0,23}$/;
const COUNTER = /^\d{1,16}$/;
const PORT = /^\d{1,5}$/;
const SUMMARY = /^conntrack v[\d.]+ \(conntrack-tools\): \d+ flow entries have been shown\.?$/;

interface TupleDraft {
  src: string | null;
  dst: string | null;
  sport: number | null;
  dport: number | null;
  packets: number | null;
  bytes: number | null;
  type: number | null;
  code: number | null;
  id: number | null;
}

function emptyTuple(): TupleDraft {
  return { src: null, dst: null, sport: null, dport: null, packets: null, bytes: null, type: null, code: null, id: null };
}

function parseCounter(text: string): number | null {
  if (!COUNTER.test(text)) return null;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : null;
}

function parsePort(text: string): number | null {
  if (!PORT.test(text)) return null;
  const value = Number(text);
  return value <= 65535 ? value : null;
}

function parseByte(text: string): number | null {
  if (!SMALL_INT.test(text)) return null;
  const value = Number(text);
  return value <= 255 ? value : null;
}

/** Sets a field of the open tuple; false when it was already set (a malformed line). */
function setField(t: TupleDraft, key: string, value: string): boolean {
  switch (key) {
    case 'dst': {
      if (t.dst !== null) return false;
      t.dst = value;
      return true;
    }
    case 'sport':
    case 'dport':
    case 'packets':
    case 'bytes':
    case 'type':
    case 'code':
    case 'id': {
      if (t[key] !== null) return false;
      const n = key === 'sport' || key === 'dport' ? parsePort(value) : key === 'type' || key === 'code' ? parseByte(value) : parseCounter(value);
      if (n === null) return false;
      t[key] = n;
      return true;
    }
    default:
      return true; // mark=, secmark=, zone=, use=, secctx=, delta-time=, srckey=… : not needed
  }
}

function finishTuple(t: TupleDraft, family: 4 | 6 | null): ConntrackTuple | null {
  if (t.src === null || t.dst === null) return null;
  const src = parseAddress(t.src);
  const dst = parseAddress(t.dst);
  if (src === null || dst === null || src.family !== dst.family) return null;
  if (family !== null && src.family !== family) return null;
  return { src: src.text, dst: dst.text, sport: t.sport, dport: t.dport, packets: t.packets, bytes: t.bytes };
}

type LineResult = { entry: ConntrackEntry; hasPrefix: boolean } | 'summary' | null;

function parseLine(line: string): LineResult {
  if (SUMMARY.test(line)) return 'summary';
  const tokens = line.split(/\s+/);
  if (tokens.length > MAX_TOKENS) return null;
  let i = 0;
  let family: 4 | 6 | null = null;
  const first = tokens[0]!;
  if (first === 'ipv4' || first === 'ipv6') {
    if (tokens[1] !== (first === 'ipv4' ? '2' : '10')) return null;
    family = first === 'ipv4' ? 4 : 6;
    i = 2;
  }
  const protocol = tokens[i];
  const protocolText = tokens[i + 1];
  if (protocol === undefined || protocolText === undefined || !L4_NAME.test(protocol)) return null;
  const protocolNumber = parseByte(protocolText);
  if (protocolNumber === null) return null;
  i += 2;
  let timeoutS: number | null = null;
  if (i < tokens.length && TIMEOUT.test(tokens[i]!)) {
    timeoutS = Math.max(0, Number(tokens[i]));
    i++;
  }
  let state: string | null = null;
  if (i < tokens.length && STATE.test(tokens[i]!)) {
    state = tokens[i]!;
    i++;
  }
  const tuples = [emptyTuple(), emptyTuple()];
  let open = -1;
  let isOffloaded = false;
  let isHardwareOffloaded = false;
  let isAssured = false;
  let isUnreplied = false;
  for (; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.charCodeAt(0) === 91 /* [ */) {
      if (token === '[ASSURED]') isAssured = true;
      else if (token === '[UNREPLIED]') isUnreplied = true;
      else if (token === '[OFFLOAD]') isOffloaded = true;
      // The kernel sets IPS_OFFLOAD with IPS_HW_OFFLOAD and prints only the stronger flag.
      else if (token === '[HW_OFFLOAD]') isHardwareOffloaded = isOffloaded = true;
      continue; // other flags ([UNTRACKED], …) say nothing we show
    }
    const eq = token.indexOf('=');
    if (eq <= 0) continue; // a stray word: the named fields decide whether the line is an entry
    const key = token.slice(0, eq);
    const value = token.slice(eq + 1);
    if (key === 'src') {
      if (++open > 1) return null;
      tuples[open]!.src = value;
      continue;
    }
    if (open < 0) {
      if (key === 'dst' || key === 'sport' || key === 'dport' || key === 'packets' || key === 'bytes') return null;
      continue;
    }
    if (!setField(tuples[open]!, key, value)) return null;
  }
  if (open !== 1) return null;
  const original = finishTuple(tuples[0]!, family);
  if (original === null) return null;
  const entryFamily = family ?? (original.src.includes(':') ? 6 : 4);
  const reply = finishTuple(tuples[1]!, entryFamily);
  if (reply === null) return null;
  const o = tuples[0]!;
  const icmp = o.type !== null && o.code !== null && o.id !== null ? { type: o.type, code: o.code, id: o.id } : null;
  const entry: ConntrackEntry = {
    family: entryFamily,
    protocol,
    protocolNumber,
    timeoutS,
    state,
    original,
    reply,
    isOffloaded,
    isHardwareOffloaded,
    isAssured,
    isUnreplied,
    icmp,
  };
  return { entry, hasPrefix: family !== null };
}

/**
 * Parses a connection table listing. `format` names where the text came from when the caller knows
 * (the command's marker); without it the lines decide: an `ipv4 2` prefix is nf_conntrack, the
 * summary line or an unprefixed IPv6 entry is conntrack-tools, other unprefixed lines ip_conntrack.
 */
export function parseConntrack(text: string, format?: ConntrackFormat): ConntrackReport {
  const entries: ConntrackEntry[] = [];
  const skipped: string[] = [];
  let sawPrefix = false;
  let sawSummary = false;
  let sawUnprefixedIpv6 = false;
  let sawUnprefixed = false;
  let hasAccounting = false;
  const input = typeof text === 'string' ? text : '';
  for (const raw of input.split(/\r?\n|\r/)) {
    const line = raw.trim();
    if (line === '') continue;
    const result = line.length > MAX_LINE_LENGTH ? null : parseLine(line);
    if (result === null) {
      if (skipped.length < MAX_SKIPPED) skipped.push(raw.length > MAX_LINE_LENGTH ? raw.slice(0, MAX_LINE_LENGTH) : raw);
      continue;
    }
    if (result === 'summary') {
      sawSummary = true;
      continue;
    }
    const { entry, hasPrefix } = result;
    entries.push(entry);
    if (hasPrefix) sawPrefix = true;
    else {
      sawUnprefixed = true;
      if (entry.family === 6) sawUnprefixedIpv6 = true;
    }
    if (entry.original.bytes !== null || entry.reply.bytes !== null || entry.original.packets !== null || entry.reply.packets !== null) hasAccounting = true;
  }
  let detected: ConntrackFormat | null = null;
  if (format !== undefined) detected = format;
  else if (sawPrefix) detected = 'nf_conntrack';
  else if (sawSummary || sawUnprefixedIpv6) detected = 'conntrack-tools';
  else if (sawUnprefixed) detected = 'ip_conntrack';
  return { entries, skipped, format: detected, hasAccounting: entries.length === 0 ? null : hasAccounting };
}

/**
 * The full form /proc/net/nf_conntrack prints (%pI6: eight four-digit groups, lower case), e.g.
 * 2001:db8::10 → 2001:0db8:0000:0000:0000:0000:0000:0010. IPv4 text comes back canonical; null
 * when `address` is no address.
 */
export function expandIpv6(address: string): string | null {
  const parsed = parseAddress(address);
  if (parsed === null) return null;
  if (parsed.family === 4) return parsed.text;
  let text = parsed.text;
  // ::ffff:a.b.c.d keeps a dotted tail in canonical text: turn it into two groups first.
  const dotted = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (dotted !== null) {
    const [a, b, c, d] = [dotted[2], dotted[3], dotted[4], dotted[5]].map(Number) as [number, number, number, number];
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  const head = halves[0] === '' ? [] : halves[0]!.split(':');
  const tail = halves.length === 2 ? (halves[1] === '' ? [] : halves[1]!.split(':')) : [];
  const groups = halves.length === 2 ? [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail] : head;
  return groups.map((g) => g.padStart(4, '0')).join(':');
}

/**
 * One entry as the router would print it (the emulator and the round-trip test use this): the
 * nf_conntrack layout with the l3 prefix and expanded IPv6, or the ip_conntrack / conntrack -L
 * layout without (conntrack -L prints IPv6 compressed, ip_conntrack knows only IPv4).
 */
export function formatConntrackEntry(entry: ConntrackEntry, format: ConntrackFormat): string {
  const address = (text: string): string => (format === 'nf_conntrack' ? (expandIpv6(text) ?? text) : (canonicalAddress(text) ?? text));
  const tuple = (t: ConntrackTuple, isOriginal: boolean): string => {
    let s = `src=${address(t.src)} dst=${address(t.dst)} `;
    if (entry.icmp != null && t.sport === null) {
      // The reply of an echo request is an echo reply (type 8 → 0, 128 → 129): print what we hold.
      s += `type=${entry.icmp.type} code=${entry.icmp.code} id=${entry.icmp.id} `;
    } else if (t.sport !== null && t.dport !== null) {
      s += `sport=${t.sport} dport=${t.dport} `;
    }
    if (t.packets !== null && t.bytes !== null) s += `packets=${t.packets} bytes=${t.bytes} `;
    if (isOriginal && entry.isUnreplied) s += '[UNREPLIED] ';
    return s;
  };
  let line = '';
  if (format === 'nf_conntrack') line += entry.family === 4 ? 'ipv4     2 ' : 'ipv6     10 ';
  line += `${entry.protocol.padEnd(8)} ${entry.protocolNumber ?? 0} `;
  if (entry.timeoutS !== null) line += `${entry.timeoutS} `;
  if (entry.state !== null) line += `${entry.state} `;
  line += tuple(entry.original, true) + tuple(entry.reply, false);
  if (entry.isHardwareOffloaded) line += '[HW_OFFLOAD] ';
  else if (entry.isOffloaded) line += '[OFFLOAD] ';
  else if (entry.isAssured) line += '[ASSURED] ';
  line += format === 'nf_conntrack' ? 'mark=0 zone=0 use=2' : 'mark=0 use=1';
  return line;
}
