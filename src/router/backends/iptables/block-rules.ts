// The iptables block objects (issue 16), pure: the chain LANTOP_BLOCK in the filter table, jumped
// to from FORWARD at position 1 — before the accounting jump and before the router's ESTABLISHED
// accept, so running connections stop too — and per block, in each family's tool:
//
//   iptables -A LANTOP_BLOCK -m mac --mac-source MAC -m time --datestop 2026-12-02T21:30:00 -m comment --comment lantop-block:MAC@1796247000 -j DROP
//   iptables -A LANTOP_BLOCK -s ADDR …same matches… -j DROP          (upload, by address)
//   iptables -A LANTOP_BLOCK -d ADDR …same matches… -j DROP          (download: a MAC matches senders only)
//
// `--datestop` is read in UTC unless `--kerneltz` is given (iptables-extensions(8), "time"), so the
// kernel stops matching at the expiry by itself: the block lifts even when lantop is not running.
// The rule stays until lantop removes it (planRemoveExpired). Without the time match the rule drops
// until lantop removes it at its expiry (the tag carries it). Rules are read back with `-S`
// (parsers/iptables-rule-specs.ts) and deleted by their number, never by router text.
import { canonicalAddress } from '../../../domain/address.js';
import { canonicalMac } from '../../tokens.js';
import type { RuleSpecLine } from '../../parsers/iptables-rule-specs.js';
import type { BlockEntry, BlockTarget } from '../block.js';
import { blockTag, parseBlockTag } from '../block-tag.js';

export const BLOCK_CHAIN = 'LANTOP_BLOCK';

/** The optional matches a block uses; each can be switched off after the router refused it. */
export interface BlockMatches {
  time: boolean;
  mac: boolean;
  comment: boolean;
}

/** One DROP rule of the chain, as read back; number = its 1-based position (what `-D CHAIN N` takes). */
export interface BlockRule {
  number: number;
  mac: string | null;
  source: string | null;
  destination: string | null;
  /** --datestop, in ms (UTC); null: no time match, or --kerneltz (the kernel's zone is unknown here). */
  datestopMs: number | null;
  tag: { identity: string; untilMs: number } | null;
  /** The tag's text, for grouping; '' untagged. */
  tagText: string;
}

/** One family's block objects: the chain, its rules, where FORWARD jumps to it. */
export interface FamilyBlockState {
  family: 4 | 6;
  tool: string;
  hasChain: boolean;
  rules: BlockRule[];
  /** 1-based positions of `-j LANTOP_BLOCK` among FORWARD's rules. */
  jumps: number[];
  skipped: number;
}

function hostOf(text: string | undefined): string | null {
  if (text === undefined) return null;
  const m = /^([^/]+)(?:\/(32|128))?$/.exec(text);
  return m ? canonicalAddress(m[1]!) : null;
}

/** `YYYY-MM-DDThh:mm:ss` (UTC) → ms; null when it is not one. */
export function parseDatestop(text: string | undefined): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text ?? '');
  if (!m) return null;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isFinite(ms) ? ms : null;
}

/** ms → `YYYY-MM-DDThh:mm:ss` in UTC, rounded up to the second. */
export function formatDatestop(ms: number): string {
  return new Date(Math.ceil(ms / 1000) * 1000).toISOString().slice(0, 19);
}

/** A family's state from its `-S FORWARD` and `-S LANTOP_BLOCK` lines. */
export function familyState(family: 4 | 6, tool: string, forward: readonly RuleSpecLine[], chain: readonly RuleSpecLine[], isMissingChain: boolean): FamilyBlockState {
  const jumps: number[] = [];
  let n = 0;
  for (const line of forward) {
    if (line.kind !== '-A' || line.chain !== 'FORWARD') continue;
    n++;
    const j = line.args.indexOf('-j');
    if (j >= 0 && line.args[j + 1] === BLOCK_CHAIN) jumps.push(n);
  }
  const rules: BlockRule[] = [];
  let skipped = 0;
  let number = 0;
  for (const line of chain) {
    if (line.chain !== BLOCK_CHAIN || line.kind !== '-A') continue;
    number++;
    const rule = readRule(number, line.args);
    if (rule === null) skipped++;
    else rules.push(rule);
  }
  const hasChain = !isMissingChain && chain.some((l) => l.chain === BLOCK_CHAIN);
  return { family, tool, hasChain, rules, jumps, skipped };
}

function valueAfter(args: readonly string[], option: string): string | undefined {
  const i = args.indexOf(option);
  return i >= 0 ? args[i + 1] : undefined;
}

function readRule(number: number, args: readonly string[]): BlockRule | null {
  if (valueAfter(args, '-j') !== 'DROP') return null;
  const macText = valueAfter(args, '--mac-source');
  const mac = macText === undefined ? null : canonicalMac(macText);
  const source = hostOf(valueAfter(args, '-s'));
  const destination = hostOf(valueAfter(args, '-d'));
  if ((macText !== undefined && mac === null) || (mac === null && source === null && destination === null)) return null;
  const datestopMs = args.includes('--kerneltz') ? null : parseDatestop(valueAfter(args, '--datestop'));
  const comment = valueAfter(args, '--comment') ?? '';
  const tag = parseBlockTag(comment);
  return { number, mac, source, destination, datestopMs, tag, tagText: tag === null ? '' : comment };
}

function untilOf(rule: BlockRule): number | null {
  return rule.datestopMs ?? rule.tag?.untilMs ?? null;
}

/** The blocks of every family, one entry per tag (untagged rules: one per expiry). */
export function blockEntries(states: readonly FamilyBlockState[], nowMs: number): BlockEntry[] {
  const groups = new Map<string, BlockRule[]>();
  for (const state of states) {
    for (const rule of state.rules) {
      const key = rule.tagText !== '' ? rule.tagText : `untagged@${untilOf(rule) ?? 'none'}`;
      const group = groups.get(key) ?? [];
      group.push(rule);
      groups.set(key, group);
    }
  }
  const entries: BlockEntry[] = [];
  for (const rules of groups.values()) {
    const mac = rules.find((r) => r.mac !== null)?.mac ?? null;
    const addresses = [...new Set(rules.flatMap((r) => [r.source, r.destination]).filter((a): a is string => a !== null))];
    const untils = rules.map(untilOf).filter((u): u is number => u !== null);
    const untilMs = untils.length > 0 ? Math.min(...untils) : null;
    const identity = rules[0]!.tag?.identity ?? null;
    entries.push({ identity, mac, addresses, untilMs, isExpired: untilMs !== null && untilMs <= nowMs });
  }
  return entries;
}

/** Does this rule belong to `identity` (its tag, else its MAC or address)? */
export function isRuleOf(rule: BlockRule, identity: string): boolean {
  if (rule.tag !== null) return rule.tag.identity === identity;
  if (identity.startsWith('ip:')) return rule.source === identity.slice(3) || rule.destination === identity.slice(3);
  return rule.mac === identity;
}

export function isRuleExpired(rule: BlockRule, nowMs: number): boolean {
  const until = untilOf(rule);
  return until !== null && until <= nowMs;
}

/** `-D LANTOP_BLOCK N` for the rules chosen, highest number first (numbers stay valid). */
export function deleteRules(state: FamilyBlockState, chosen: (rule: BlockRule) => boolean): string[] {
  return state.rules.filter(chosen).map((r) => r.number).sort((a, b) => b - a).map((n) => `${state.tool} -D ${BLOCK_CHAIN} ${n}`);
}

/** The chain and a FORWARD jump at position 1 (other jumps to it removed first). */
export function ensureInstalled(state: FamilyBlockState): string[] {
  const out: string[] = [];
  if (!state.hasChain) out.push(`${state.tool} -N ${BLOCK_CHAIN}`);
  if (state.jumps.length === 1 && state.jumps[0] === 1) return out;
  for (let i = 0; i < state.jumps.length; i++) out.push(`${state.tool} -D FORWARD -j ${BLOCK_CHAIN}`);
  out.push(`${state.tool} -I FORWARD 1 -j ${BLOCK_CHAIN}`);
  return out;
}

/** The `-A` lines of one block in one family (validated tokens only); [] when it has nothing here. */
export function blockRuleLines(state: FamilyBlockState, target: BlockTarget, matches: BlockMatches): string[] {
  const mac = target.mac === null ? null : canonicalMac(target.mac);
  const addresses = target.addresses.map((a) => canonicalAddress(a)).filter((a): a is string => a !== null && (a.includes(':') ? 6 : 4) === state.family);
  const tag = matches.comment ? blockTag(target.identity, target.untilMs) : null;
  const suffix = `${matches.time ? ` -m time --datestop ${formatDatestop(target.untilMs)}` : ''}${tag !== null ? ` -m comment --comment ${tag}` : ''} -j DROP`;
  const lines: string[] = [];
  if (mac !== null && matches.mac) lines.push(`${state.tool} -A ${BLOCK_CHAIN} -m mac --mac-source ${mac}${suffix}`);
  for (const a of addresses) {
    lines.push(`${state.tool} -A ${BLOCK_CHAIN} -s ${a}${suffix}`);
    lines.push(`${state.tool} -A ${BLOCK_CHAIN} -d ${a}${suffix}`);
  }
  return lines;
}

/** Every block object of a family, gone. */
export function teardownFamily(state: FamilyBlockState): string[] {
  const out = state.jumps.map(() => `${state.tool} -D FORWARD -j ${BLOCK_CHAIN}`);
  if (state.hasChain) out.push(`${state.tool} -F ${BLOCK_CHAIN}`, `${state.tool} -X ${BLOCK_CHAIN}`);
  return out;
}

const LINE = new RegExp(`^[A-Za-z0-9_./-]{1,64} (?:-[NFX] ${BLOCK_CHAIN}|-I FORWARD 1 -j ${BLOCK_CHAIN}|-D FORWARD -j ${BLOCK_CHAIN}|-D ${BLOCK_CHAIN} [1-9][0-9]{0,5}|-A ${BLOCK_CHAIN}(?: [A-Za-z0-9_.:@/-]+)+ -j DROP)$`);

/** A line these functions write; anything else is refused before it reaches the router. */
export function isBlockLine(line: string): boolean {
  return typeof line === 'string' && line.length <= 300 && LINE.test(line);
}
