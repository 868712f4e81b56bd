// Blocking with nftables (issue 16): lantop's own table `inet lantop_block`, apart from the
// accounting table (recreating one never touches the other), whose base chain hooks forward at
// priority -10 — before fw4's filter chain (priority 0), so the drop comes before fw4's ESTABLISHED
// accept and running connections stop too (nft(8), "Base chain priority": lower runs first; a drop
// ends evaluation in every base chain). It never hooks input or output: the owner can always log in.
//
//   table inet lantop_block {
//     set macs { type ether_addr; flags timeout; }   set v4 { type ipv4_addr; flags timeout; }   set v6 …
//     chain forward { type filter hook forward priority -10; policy accept;
//       ether saddr @macs drop; ip saddr @v4 drop; ip daddr @v4 drop; ip6 saddr @v6 drop; ip6 daddr @v6 drop } }
//
// A block is set elements with a timeout: the kernel removes them at the expiry itself, also when
// lantop is not running (nft(8), "SETS": flags timeout, element `timeout`). Each element carries
// lantop's tag as its comment. Changes go in one `nft -f -` transaction (apply.ts), read back with
// `nft list table inet lantop_block` (text: some firmware ships nftables without JSON).
import { UsageError } from '../../../errors.js';
import { canonicalAddress } from '../../../domain/address.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../firmware/line-budget.js';
import type { CommandSpec, FirmwareProfile } from '../../firmware/families.js';
import { formatDuration } from '../../parsers/nft-duration.js';
import { parseSetElements } from '../../parsers/nft-set-elements.js';
import { canonicalMac } from '../../tokens.js';
import type { ApplyOutcome, RunCommand } from '../backend.js';
import type { BlockBackend, BlockEntry, BlockPlan, BlockReading, BlockTarget } from '../block.js';
import { blockIdentity, blockTag, checkBlockTarget, parseBlockTag } from '../block-tag.js';
import { applyNftScript } from './apply.js';

export const BLOCK_TABLE = 'inet lantop_block';
const SETS = [
  { name: 'macs', type: 'ether_addr', match: ['ether saddr'] },
  { name: 'v4', type: 'ipv4_addr', match: ['ip saddr', 'ip daddr'] },
  { name: 'v6', type: 'ipv6_addr', match: ['ip6 saddr', 'ip6 daddr'] },
] as const;
type SetName = (typeof SETS)[number]['name'];

interface BlockElement {
  set: SetName;
  value: string;
  untilMs: number | null;
  tag: { identity: string; untilMs: number } | null;
  tagText: string;
}

export interface NftBlockReading extends BlockReading {
  hasTable: boolean;
  elements: BlockElement[];
}

/** The table, its sets and its chain with exactly lantop's rules (idempotent: `add` keeps what exists). */
export function installLines(): string[] {
  return [
    `add table ${BLOCK_TABLE}`,
    ...SETS.map((s) => `add set ${BLOCK_TABLE} ${s.name} { type ${s.type}; flags timeout; }`),
    `add chain ${BLOCK_TABLE} forward { type filter hook forward priority -10; policy accept; }`,
    `flush chain ${BLOCK_TABLE} forward`,
    ...SETS.flatMap((s) => s.match.map((m) => `add rule ${BLOCK_TABLE} forward ${m} @${s.name} drop`)),
  ];
}

function setOf(value: string): SetName {
  return value.includes(':') && canonicalMac(value) === value ? 'macs' : value.includes(':') ? 'v6' : 'v4';
}

export class NftablesBlockBackend implements BlockBackend<NftBlockReading> {
  readonly kind = 'nftables' as const;
  readonly readCommands: CommandSpec[];

  constructor(private readonly firmware: FirmwareProfile) {
    this.readCommands = [{ command: `${this.nft.command} list table ${BLOCK_TABLE} 2>&1`, where: 'shell' }];
  }

  private get nft(): CommandSpec {
    return this.firmware.commands.nft!;
  }

  describe(): string {
    return `nftables: table ${BLOCK_TABLE}, chain forward at priority -10 (before the firewall's filter; forwarding only, never input), drops by MAC (senders) and by address both ways; each block a set element with a timeout the kernel holds`;
  }

  read(answers: readonly string[], nowMs: number): NftBlockReading {
    const text = answers[0] ?? '';
    const hasTable = /^\s*table inet lantop_block\s*\{/m.test(text);
    const report = parseSetElements(hasTable ? text : '');
    const elements: BlockElement[] = [];
    for (const set of SETS) {
      for (const e of report.sets.get(set.name) ?? []) {
        const value = set.name === 'macs' ? canonicalMac(e.value) : canonicalAddress(e.value);
        if (value === null) continue;
        const tag = e.comment === null ? null : parseBlockTag(e.comment);
        const untilMs = e.expiresMs !== null ? nowMs + e.expiresMs : (tag?.untilMs ?? null);
        elements.push({ set: set.name, value, untilMs, tag, tagText: tag === null ? '' : e.comment! });
      }
    }
    const rules = SETS.flatMap((s) => s.match.map((m) => `${m} @${s.name} drop`));
    const isInstalled = hasTable && /hook forward priority filter - 10;|hook forward priority -10;/.test(text) && rules.every((r) => text.includes(r)) && SETS.every((s) => report.sets.has(s.name));
    const notes = report.skipped.length > 0 ? [`${report.skipped.length} element(s) of ${BLOCK_TABLE} not read`] : [];
    return { entries: entriesOf(elements, nowMs), isInstalled, notes, hasTable, elements };
  }

  planBlock(target: BlockTarget, nowMs: number, reading: NftBlockReading): BlockPlan {
    checkBlockTarget(target, nowMs);
    const tag = blockTag(target.identity, target.untilMs)!;
    const timeout = formatDuration(target.untilMs - nowMs);
    const values = [...(target.mac === null ? [] : [canonicalMac(target.mac)]), ...target.addresses.map((a) => canonicalAddress(a))].filter((v): v is string => v !== null);
    if (values.length === 0) throw new UsageError(`Nothing to block for ${target.identity}: no MAC and no address.`, 'Run `lantop hosts` to see the device\'s addresses.');
    const wanted = new Set(values);
    // Elements of the same device (or with the same value) go first, in the same transaction.
    const old = reading.elements.filter((e) => wanted.has(e.value) || (e.tag !== null && e.tag.identity === target.identity));
    return {
      commands: [...(reading.isInstalled ? [] : installLines()), ...old.map(deleteLine), ...values.map((v) => `add element ${BLOCK_TABLE} ${setOf(v)} { ${v} timeout ${timeout} comment "${tag}" }`)],
      notes: [],
    };
  }

  planEndConnections(target: BlockTarget): CommandSpec[] {
    // conntrack-tools where installed (OpenWrt: package conntrack); errors are fine — the drop at
    // priority -10 comes before fw4's ESTABLISHED accept anyway, except for offloaded flows.
    return target.addresses.map((a) => canonicalAddress(a)).filter((a): a is string => a !== null).map((a) => {
      const family = a.includes(':') ? ' -f ipv6' : '';
      return { command: `conntrack -D${family} -s ${a} 2>&1;conntrack -D${family} -d ${a} 2>&1`, where: 'shell' as const };
    });
  }

  planUnblock(which: string | 'all', reading: NftBlockReading): string[] {
    if (!reading.hasTable) return [];
    if (which === 'all') return reading.elements.length === 0 ? [] : SETS.map((s) => `flush set ${BLOCK_TABLE} ${s.name}`);
    const identity = blockIdentity(which);
    if (identity === null) return [];
    return reading.elements.filter((e) => isElementOf(e, identity)).map(deleteLine);
  }

  planRemoveExpired(reading: NftBlockReading, nowMs: number): string[] {
    // The kernel removes timed-out elements itself; only an element without a timeout (added by
    // hand, or by an nft that dropped it) whose tag has expired is lantop's to remove.
    return reading.elements.filter((e) => e.untilMs !== null && e.untilMs <= nowMs).map(deleteLine);
  }

  planTeardown(reading: NftBlockReading): string[] {
    return reading.hasTable ? [`delete table ${BLOCK_TABLE}`] : [];
  }

  apply(run: RunCommand, commands: readonly string[]): Promise<ApplyOutcome> {
    const { shellLineBytes, hasShellBatch } = this.firmware.capabilities;
    return applyNftScript(run, { nft: this.nft.command, maxLineBytes: shellLineBytes ?? DEFAULT_MAX_LINE_BYTES, isShell: this.nft.where === 'shell' && hasShellBatch !== false, table: 'lantop_block' }, commands);
  }

  fallBackAfter(): string | null {
    return null;
  }
}

function deleteLine(e: BlockElement): string {
  return `delete element ${BLOCK_TABLE} ${e.set} { ${e.value} }`;
}

function isElementOf(e: BlockElement, identity: string): boolean {
  if (e.tag !== null) return e.tag.identity === identity;
  return identity.startsWith('ip:') ? e.value === identity.slice(3) : e.value === identity;
}

function entriesOf(elements: readonly BlockElement[], nowMs: number): BlockEntry[] {
  const groups = new Map<string, BlockElement[]>();
  for (const e of elements) {
    const key = e.tagText !== '' ? e.tagText : `untagged:${e.value}`;
    groups.set(key, [...(groups.get(key) ?? []), e]);
  }
  return [...groups.values()].map((group) => {
    const untils = group.map((e) => e.untilMs).filter((u): u is number => u !== null);
    const untilMs = untils.length > 0 ? Math.min(...untils) : null;
    const first = group[0]!;
    const identity = first.tag?.identity ?? (first.set === 'macs' ? first.value : `ip:${first.value}`);
    return { identity, mac: group.find((e) => e.set === 'macs')?.value ?? null, addresses: group.filter((e) => e.set !== 'macs').map((e) => e.value), untilMs, isExpired: untilMs !== null && untilMs <= nowMs };
  });
}
