// Pure readers of probe answers: each turns one probe's text into the fact it shows (a version, the
// commands `which` found, an nvram value, a table or an error). Used by the probes themselves (to
// skip probes that cannot help) and by the decision.
import type { ShellMode } from '../../transport/session.js';
import { classifyRouterOutput } from '../parsers/router-errors.js';
import { parseArpTableReport } from '../parsers/arp-table.js';
import { parseLanHostsReport } from '../parsers/lan-hosts.js';
import { LEASE_FILES, type ProbeAnswer, type ProbeId } from './probes.js';

const IPTABLES_VERSION = /\bip(?:6)?tables v(\d+)\.(\d+)\.(\d+)(?:\.\d+)?(?:\s+\(([\w_]+)\))?/;

export interface IptablesVersion {
  version: string;
  parts: [number, number, number];
  backend: 'legacy' | 'nft';
}

export function parseVersion(text: string | undefined): IptablesVersion | null {
  if (text === undefined) return null;
  const m = IPTABLES_VERSION.exec(text);
  if (!m) return null;
  const parts: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Before 1.8 there was only the legacy backend; 1.8.x says which one in parentheses.
  const backend = m[4] === 'nf_tables' ? 'nft' : 'legacy';
  return { version: parts.join('.'), parts, backend };
}

/** `nft -v`: "nftables v1.0.6 (Lester Gooch #5)" → "1.0.6"; null for anything else. */
export function parseNftVersion(text: string | undefined): string | null {
  if (text === undefined) return null;
  const m = /^\s*nftables v(\d+\.\d+(?:\.\d+)?)\b/m.exec(text);
  return m ? m[1]! : null;
}

/** `nft -j list tables`: JSON output (true), a refusal of -j (false: nftables-nojson), or silence (null). */
export function nftJsonCapability(text: string | undefined): boolean | null {
  if (text === undefined) return null;
  const t = text.trim();
  if (t === '') return null;
  if (t.startsWith('{') && t.includes('"nftables"')) return true;
  return false;
}

/**
 * `ip -6 neigh show`: the command works here (a neighbour table, possibly empty); false for an
 * error answer (no `ip`, IPv6 disabled: "RTNETLINK answers: Address family not supported…").
 */
export function isNeighbourCommandAccepted(text: string | undefined): boolean {
  if (text === undefined) return false;
  if (classifyRouterOutput(text) !== null) return false;
  return !/RTNETLINK answers|not supported|Usage: ip|Object "neigh" is unknown/i.test(text);
}

export function atLeast(parts: [number, number, number], min: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    if (parts[i]! !== min[i]!) return parts[i]! > min[i]!;
  }
  return true;
}

/** Basenames printed by `which a b c` (one path per line). */
export function foundCommands(text: string | undefined): Set<string> {
  const found = new Set<string>();
  if (text === undefined) return found;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || classifyRouterOutput(t) !== null || /\s/.test(t)) continue;
    found.add(t.slice(t.lastIndexOf('/') + 1));
  }
  return found;
}

/** The words of a vendor CLI's `help` (one command per line, or several per line): a hint only. */
export function cliHelpWords(text: string | undefined): Set<string> {
  const words = new Set<string>();
  if (text === undefined) return words;
  for (const line of text.split(/\r?\n/)) {
    if (classifyRouterOutput(line) !== null) continue;
    for (const word of line.trim().split(/\s+/)) if (/^[A-Za-z?][\w-]*$/.test(word)) words.add(word);
  }
  return words;
}

/** A value from `nvram get KEY`: empty, or an error ("nvram: not found"), means absent. */
export function nvramValue(text: string | undefined): string | null {
  if (text === undefined) return null;
  const t = text.trim();
  if (t === '' || classifyRouterOutput(t) !== null) return null;
  return t.split(/\r?\n/)[0]!.trim() || null;
}

export function commentCapability(text: string | undefined): boolean | null {
  if (text === undefined) return null;
  if (/comment match options/i.test(text) || /--comment COMMENT/.test(text)) return true;
  const problem = classifyRouterOutput(text);
  if (problem && (problem.kind === 'no-extension' || problem.kind === 'bad-argument' || problem.kind === 'not-found' || problem.kind === 'unknown-command')) return false;
  return null;
}

export function isArpTable(text: string | undefined): boolean {
  if (text === undefined || classifyRouterOutput(text) !== null) return false;
  return parseArpTableReport(text).entries.length > 0 || /^IP address\s+HW type/im.test(text);
}

export function isLanHostsTable(text: string | undefined): boolean {
  if (text === undefined || classifyRouterOutput(text) !== null) return false;
  return parseLanHostsReport(text).entries.length > 0 || /^\s*(?:Active\s+)?MAC\s*Addr/im.test(text);
}

/** Lease files the `lease-files` probe listed, in LEASE_FILES order (only our own fixed paths). */
export function existingLeaseFiles(text: string | undefined): string[] {
  if (text === undefined) return [];
  const listed = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  return LEASE_FILES.filter((f) => listed.has(f));
}

/** The answers of one probing, looked up by probe and mode. */
export class Answers {
  private readonly answers: readonly ProbeAnswer[];
  constructor(answers: readonly ProbeAnswer[]) {
    // Total on odd input: an answer that is not text counts as silence.
    this.answers = answers.map((x) => (typeof x.output === 'string' ? x : { ...x, output: '' }));
  }
  get(id: ProbeId, where: ShellMode): ProbeAnswer | undefined {
    return this.answers.find((a) => a.id === id && a.where === where);
  }
  output(id: ProbeId, where: ShellMode): string | undefined {
    return this.get(id, where)?.output;
  }
}
