// Broadcom vendor CLI `lanhosts show all`, in the layouts seen in the wild:
//   Bridge br0
//      MAC Addr          IP Addr     Lease Time Remaining    Hostname
//   02:00:00:00:00:10  198.51.100.10        86123              laptop-h1
//   02:00:00:00:00:11  198.51.100.11        3600                          (no name: 3 fields)
// and (MitraStar/Movistar HGU) without names or lease times:
//   Active   MAC Addr           IP Addr          ETH port  VLAN ID
//    [v]     12:34:56:78:9a:bc  192.168.0.10     unknown   0        DHCP
//
// The header says whether a lease column and a hostname column exist; the hostname is the rest
// of the line after the lease time (names may contain spaces). Names stay raw: they are hostile
// data, sanitised only at display time.

import type { LeaseEntry } from './types.js';
import { canonicalIpv4 } from '../../domain/address.js';
import { canonicalMac } from '../tokens.js';

const MAX_LINE_LENGTH = 4096;

export interface LanHostsReport {
  entries: LeaseEntry[];
  skipped: string[];
}

const HEADER = /^\s*(Active\s+)?MAC\s*Addr(?:ess)?\s+IP\s*Addr(?:ess)?\b(.*)$/i;
const ROW = /^\s*(?:\[(.)\]\s+)?([0-9A-Fa-f]{1,2}(?:[:-][0-9A-Fa-f]{1,2}){5})\s+(\d{1,3}(?:\.\d{1,3}){3})(?:\s+(.*))?$/;
const NOISE = /^\s*(?:Bridge\s+\S+|lanhosts\b.*|Usage: lanhosts.*|>\s*)$/i;

interface Layout {
  hasLease: boolean;
  hasHostname: boolean;
}

/** Parses `lanhosts show all` and reports unreadable lines. Never throws. */
export function parseLanHostsReport(text: string): LanHostsReport {
  const entries: LeaseEntry[] = [];
  const skipped: string[] = [];
  if (typeof text !== 'string') return { entries, skipped };
  // Without a header, assume the common Broadcom layout (lease then name).
  let layout: Layout = { hasLease: true, hasHostname: true };
  for (const rawLine of text.split(/\r?\n|\r/)) {
    const line = rawLine.trimEnd();
    if (line.trim() === '' || NOISE.test(line)) continue;
    // No real line is this long; refusing it keeps every regex below linear on hostile input.
    if (line.length > MAX_LINE_LENGTH) {
      skipped.push(rawLine.slice(0, 200));
      continue;
    }
    const header = HEADER.exec(line);
    if (header) {
      const rest = header[2] ?? '';
      layout = { hasLease: /Lease/i.test(rest), hasHostname: /Host\s*Name/i.test(rest) };
      continue;
    }
    const m = ROW.exec(line);
    const mac = m ? canonicalMac(m[2]!) : null;
    const ip = m ? canonicalIpv4(m[3]!) : null;
    if (!m || mac === null || ip === null) {
      skipped.push(rawLine);
      continue;
    }
    let rest = (m[4] ?? '').trim();
    let leaseSeconds: number | null = null;
    if (layout.hasLease) {
      const lease = /^(-?\d+)(?:\s+(.*))?$/.exec(rest);
      if (lease) {
        const seconds = Number(lease[1]);
        leaseSeconds = Number.isSafeInteger(seconds) && seconds >= 0 ? seconds : null;
        rest = (lease[2] ?? '').trim();
      }
    }
    const hostname = layout.hasHostname && rest !== '' ? rest : null;
    entries.push({ mac, ip, hostname, leaseSeconds });
  }
  return { entries, skipped };
}

/** Host names and leases from Broadcom `lanhosts show all`, in the order printed. */
export function parseLanHosts(text: string): LeaseEntry[] {
  return parseLanHostsReport(text).entries;
}
