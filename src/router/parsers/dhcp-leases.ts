// DHCP lease tables, whichever server the router runs. The format is recognised per line/block:
//
// dnsmasq `cat /tmp/dhcp.leases` (expiry epoch, MAC, IP, name or `*`, client-id; a `duid` line
// and IPv6 leases when DHCPv6 is on):
//   1795335776 02:00:00:00:00:10 198.51.100.139 laptop-h1 01:02:00:00:00:00:10
//   1795335779 02:00:00:00:00:11 198.51.100.140 * 01:02:00:00:00:00:11
// BusyBox udhcpd `dumpleases` (relative "Expires in", or absolute with -a):
//   Mac Address       IP Address      Host Name           Expires in
//   02:00:00:00:00:10 198.51.100.118  laptop-h1           23:59:57
// ISC dhcpd `cat /var/lib/dhcp/dhcpd.leases` (blocks; the last block for an address wins):
//   lease 198.51.100.20 { … binding state active; hardware ethernet 02:…; client-hostname "x"; }
//
// Remaining lease time needs the current time: pass `nowSeconds` (Unix seconds) — time is
// injected, never read here. Without it, sources that print absolute expiries give null.

import type { LeaseEntry } from './types.js';
import { canonicalIpv4 } from '../../domain/address.js';
import { canonicalMac } from '../tokens.js';

const MAX_LINE_LENGTH = 4096;

export type LeaseFormat = 'dnsmasq' | 'udhcpd' | 'isc-dhcpd';

export interface DhcpLeasesOptions {
  /** Current Unix time in seconds, to turn absolute expiries into seconds left. */
  nowSeconds?: number;
}

export interface DhcpLeasesReport {
  entries: LeaseEntry[];
  skipped: string[];
  formats: LeaseFormat[];
}

const DNSMASQ = /^\s*(\d+)\s+(\S+)\s+(\d{1,3}(?:\.\d{1,3}){3})\s+(\S+)(?:\s+(\S+))?\s*$/;
const DNSMASQ_V6 = /^\s*\d+\s+\S+\s+[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*\s+\S+/;
const DUMPLEASES_HEADER = /^\s*Mac Address\s+IP Address\s+Host Name\s+Expires (in|at)\s*$/i;
const DUMPLEASES_ROW =
  /^\s*([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})\s+(\d{1,3}(?:\.\d{1,3}){3})\s+(.*?)\s*(expired|(?:(\d+) days? )?(\d+):(\d\d):(\d\d)|\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4})\s*$/;

function remaining(expiry: number, nowSeconds: number | undefined): number | null {
  if (nowSeconds === undefined || !Number.isFinite(nowSeconds)) return null;
  return Math.max(0, Math.round(expiry - nowSeconds));
}

function unescapeIsc(text: string): string {
  return text.replace(/\\([0-7]{3}|.)/g, (_all, seq: string) => (seq.length === 3 ? String.fromCharCode(Number.parseInt(seq, 8)) : seq));
}

/** ISC dhcpd.leases: `lease IP { statements }` blocks. Returns the entries and consumed length. */
function parseIscBlocks(text: string, options: DhcpLeasesOptions, skipped: string[]): LeaseEntry[] {
  const byIp = new Map<string, LeaseEntry | null>();
  const block = /lease\s+(\S+)\s*\{([^}]*)\}/g;
  let m: RegExpExecArray | null;
  while ((m = block.exec(text)) !== null) {
    const ip = canonicalIpv4(m[1]!);
    const body = m[2]!;
    const mac = canonicalMac(/hardware\s+ethernet\s+([^;\s]+)\s*;/.exec(body)?.[1] ?? '');
    if (ip === null || mac === null) {
      skipped.push(m[0]);
      continue;
    }
    const state = /(?:^|\n|;)\s*binding\s+state\s+(\w+)\s*;/.exec(body)?.[1];
    if (state !== undefined && state !== 'active') {
      byIp.set(ip, null); // a later free/expired block ends an earlier active one
      continue;
    }
    const nameMatch = /client-hostname\s+"((?:[^"\\]|\\.)*)"\s*;/.exec(body);
    const hostname = nameMatch ? unescapeIsc(nameMatch[1]!) : null;
    let leaseSeconds: number | null = null;
    const ends = /\bends\s+(?:\d\s+(\d{4})\/(\d\d)\/(\d\d)\s+(\d\d):(\d\d):(\d\d)|epoch\s+(\d+)|never)\s*;/.exec(body);
    if (ends) {
      const epoch = ends[7] !== undefined
        ? Number(ends[7])
        : ends[1] !== undefined
          ? Date.UTC(Number(ends[1]), Number(ends[2]) - 1, Number(ends[3]), Number(ends[4]), Number(ends[5]), Number(ends[6])) / 1000
          : null;
      leaseSeconds = epoch === null ? null : remaining(epoch, options.nowSeconds);
    }
    byIp.delete(ip); // keep file order of the latest block
    byIp.set(ip, { mac, ip, hostname: hostname === '' ? null : hostname, leaseSeconds });
  }
  return [...byIp.values()].filter((e): e is LeaseEntry => e !== null);
}

/** Parses any supported lease table and reports what it could not read. Never throws. */
export function parseDhcpLeasesReport(text: string, options: DhcpLeasesOptions = {}): DhcpLeasesReport {
  const entries: LeaseEntry[] = [];
  const skipped: string[] = [];
  const formats: LeaseFormat[] = [];
  if (typeof text !== 'string') return { entries, skipped, formats };
  const note = (format: LeaseFormat) => {
    if (!formats.includes(format)) formats.push(format);
  };
  if (/^\s*lease\s+\S+\s*\{/m.test(text)) {
    entries.push(...parseIscBlocks(text, options, skipped));
    note('isc-dhcpd');
    return { entries, skipped, formats };
  }
  let absoluteDumpleases = false;
  for (const rawLine of text.split(/\r?\n|\r/)) {
    const line = rawLine.trimEnd();
    if (line.trim() === '' || /^\s*duid\s/.test(line)) continue;
    // No real line is this long; refusing it keeps every regex below linear on hostile input.
    if (line.length > MAX_LINE_LENGTH) {
      skipped.push(rawLine.slice(0, 200));
      continue;
    }
    const header = DUMPLEASES_HEADER.exec(line);
    if (header) {
      absoluteDumpleases = header[1]!.toLowerCase() === 'at';
      continue;
    }
    const d = DUMPLEASES_ROW.exec(line);
    if (d) {
      const mac = canonicalMac(d[1]!);
      const ip = canonicalIpv4(d[2]!);
      if (mac === null || ip === null) {
        skipped.push(rawLine);
        continue;
      }
      let leaseSeconds: number | null = null;
      if (d[4] === 'expired') leaseSeconds = 0;
      else if (d[6] !== undefined && !absoluteDumpleases) {
        leaseSeconds = Number(d[5] ?? 0) * 86400 + Number(d[6]) * 3600 + Number(d[7]) * 60 + Number(d[8]);
      }
      const hostname = d[3]!.trim();
      entries.push({ mac, ip, hostname: hostname === '' ? null : hostname, leaseSeconds });
      note('udhcpd');
      continue;
    }
    const m = DNSMASQ.exec(line);
    if (m) {
      const mac = canonicalMac(m[2]!);
      const ip = canonicalIpv4(m[3]!);
      if (mac === null || ip === null) {
        skipped.push(rawLine);
        continue;
      }
      const expiry = Number(m[1]);
      // dnsmasq writes 0 for an infinite lease; `*` means the client sent no name.
      const leaseSeconds = expiry === 0 ? null : remaining(expiry, options.nowSeconds);
      const name = m[4]!;
      entries.push({ mac, ip, hostname: name === '*' ? null : name, leaseSeconds });
      note('dnsmasq');
      continue;
    }
    if (DNSMASQ_V6.test(line)) continue; // DHCPv6 lease: IPv4 only here
    skipped.push(rawLine);
  }
  return { entries, skipped, formats };
}

/** Leases from dnsmasq, udhcpd `dumpleases` or ISC dhcpd.leases, in the order printed. */
export function parseDhcpLeases(text: string, options: DhcpLeasesOptions = {}): LeaseEntry[] {
  return parseDhcpLeasesReport(text, options).entries;
}
