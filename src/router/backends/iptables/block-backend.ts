// Blocking with iptables (and ip6tables where the firmware table names it): the objects and plans
// of block-rules.ts behind the BlockBackend seam. Read: `-S FORWARD` and `-S LANTOP_BLOCK` per
// family. Apply: one command per round trip (a block is a handful of rules), each re-checked against
// the grammar block-rules.ts writes, stopping at the first answer that is not silence.
import { UsageError } from '../../../errors.js';
import { sanitizeBlock } from '../../../sanitize.js';
import { canonicalAddress } from '../../../domain/address.js';
import type { CommandSpec, FirmwareProfile } from '../../firmware/families.js';
import { parseRuleSpecs } from '../../parsers/iptables-rule-specs.js';
import { classifyRouterOutput } from '../../parsers/router-errors.js';
import type { ApplyOutcome, RunCommand } from '../backend.js';
import { type BlockBackend, type BlockPlan, type BlockReading, type BlockTarget } from '../block.js';
import { blockIdentity, checkBlockTarget } from '../block-tag.js';
import {
  BLOCK_CHAIN, blockEntries, blockRuleLines, deleteRules, ensureInstalled, isBlockLine, isRuleExpired, isRuleOf, teardownFamily,
  type BlockMatches, type FamilyBlockState,
} from './block-rules.js';
import { familyState } from './block-rules.js';

export interface IptablesBlockReading extends BlockReading {
  families: FamilyBlockState[];
}

type Tool = CommandSpec & { family: 4 | 6 };

export class IptablesBlockBackend implements BlockBackend<IptablesBlockReading> {
  readonly kind = 'iptables' as const;
  readonly readCommands: CommandSpec[];
  private readonly tools: Tool[];
  private readonly matches: BlockMatches = { time: true, mac: true, comment: true };

  constructor(private readonly firmware: FirmwareProfile) {
    const { iptables, ip6tables } = firmware.commands;
    this.tools = [iptables && { command: iptables.command, where: iptables.where, family: 4 as const }, ip6tables && { command: ip6tables.command, where: ip6tables.where, family: 6 as const }].filter((t): t is Tool => t !== null);
    if (firmware.capabilities.hasCommentMatch === false) this.matches.comment = false;
    const redirect = (t: Tool) => (t.where === 'shell' ? ' 2>&1' : '');
    this.readCommands = this.tools.flatMap((t) => [
      { command: `${t.command} -S FORWARD${redirect(t)}`, where: t.where },
      { command: `${t.command} -S ${BLOCK_CHAIN}${redirect(t)}`, where: t.where },
    ]);
  }

  describe(): string {
    const tools = this.tools.map((t) => t.command).join(' and ');
    const parts = [this.matches.mac ? 'by MAC (senders) and by address both ways' : 'by address both ways (no mac match)', this.matches.time ? 'expiry held by the kernel (-m time --datestop, UTC)' : 'no time match: lantop removes a block at its expiry', this.matches.comment ? `rules tagged lantop-block:` : 'rules untagged'];
    return `${tools}: chain ${BLOCK_CHAIN} jumped from FORWARD at position 1 (forwarding only, never INPUT), DROP ${parts.join(', ')}`;
  }

  read(answers: readonly string[], nowMs: number): IptablesBlockReading {
    const notes: string[] = [];
    const families = this.tools.map((t, i) => {
      const forward = parseRuleSpecs(answers[2 * i] ?? '');
      const chain = parseRuleSpecs(answers[2 * i + 1] ?? '');
      const state = familyState(t.family, t.command, forward.lines, chain.lines, chain.isMissingChain);
      if (state.skipped + chain.skipped.length > 0) notes.push(`${t.command}: ${state.skipped + chain.skipped.length} line(s) of ${BLOCK_CHAIN} not read as lantop's blocks`);
      return state;
    });
    const isInstalled = families.length > 0 && families.every((f) => f.hasChain && f.jumps.length === 1 && f.jumps[0] === 1);
    return { entries: blockEntries(families, nowMs), isInstalled, notes, families };
  }

  planBlock(target: BlockTarget, nowMs: number, reading: IptablesBlockReading): BlockPlan {
    checkBlockTarget(target, nowMs);
    const commands: string[] = [];
    const notes: string[] = [];
    let rules = 0;
    for (const state of reading.families) {
      const lines = blockRuleLines(state, target, this.matches);
      if (lines.length === 0) continue;
      rules += lines.length;
      // New rules first, then the old ones of the same device: no moment without a block.
      commands.push(...ensureInstalled(state), ...lines, ...deleteRules(state, (r) => isRuleOf(r, target.identity)));
    }
    const v6 = target.addresses.filter((a) => a.includes(':'));
    if (v6.length > 0 && !this.tools.some((t) => t.family === 6)) notes.push(`${v6.length} IPv6 address(es) not blocked: no ip6tables on this router`);
    if (target.mac !== null && !this.matches.mac) notes.push('no mac match on this router: blocked by address only (re-block when the address changes)');
    if (!this.matches.time) notes.push('no time match on this router: the block holds until lantop removes it at its expiry (at its next start if it is not running then)');
    if (rules === 0) throw new UsageError(`Nothing to block for ${target.identity}: no MAC this router can match and no address.`, 'Run `lantop hosts` to see the device\'s addresses.');
    return { commands, notes };
  }

  planEndConnections(target: BlockTarget): CommandSpec[] {
    // conntrack-tools where installed; an error answer ("not found", "0 flow entries") is fine:
    // without it the DROP before the router's ESTABLISHED accept stops those connections anyway.
    const hasShell = this.firmware.commands.shellRoute !== null || this.tools.some((t) => t.where === 'shell');
    if (!hasShell) return [];
    return target.addresses.map((a) => canonicalAddress(a)).filter((a): a is string => a !== null).map((a) => {
      const family = a.includes(':') ? ' -f ipv6' : '';
      return { command: `conntrack -D${family} -s ${a} 2>&1;conntrack -D${family} -d ${a} 2>&1`, where: 'shell' as const };
    });
  }

  planUnblock(which: string | 'all', reading: IptablesBlockReading): string[] {
    if (which === 'all') return reading.families.filter((f) => f.hasChain && f.rules.length > 0).map((f) => `${f.tool} -F ${BLOCK_CHAIN}`);
    const identity = blockIdentity(which);
    if (identity === null) return [];
    return reading.families.flatMap((f) => deleteRules(f, (r) => isRuleOf(r, identity)));
  }

  planRemoveExpired(reading: IptablesBlockReading, nowMs: number): string[] {
    return reading.families.flatMap((f) => deleteRules(f, (r) => isRuleExpired(r, nowMs)));
  }

  planTeardown(reading: IptablesBlockReading): string[] {
    return reading.families.flatMap(teardownFamily);
  }

  async apply(run: RunCommand, commands: readonly string[]): Promise<ApplyOutcome> {
    const applied: string[] = [];
    for (const command of commands) {
      const tool = this.tools.find((t) => command.startsWith(`${t.command} `));
      if (tool === undefined || !isBlockLine(command)) return { applied, failed: { command, output: 'not a command lantop writes: nothing more was sent', problem: null }, isVerified: false, notes: [] };
      const output = await run({ command: tool.where === 'shell' ? `${command} 2>&1` : command, where: tool.where });
      if (output.trim() !== '') return { applied, failed: { command, output: sanitizeBlock(output, 200, 6), problem: classifyRouterOutput(output) }, isVerified: false, notes: [] };
      applied.push(command);
    }
    return { applied, failed: null, isVerified: true, notes: [] };
  }

  fallBackAfter(failed: NonNullable<ApplyOutcome['failed']>): string | null {
    const kind = failed.problem?.kind;
    if (!failed.command.includes(` -A ${BLOCK_CHAIN} `) || (kind !== 'no-extension' && kind !== 'bad-argument' && kind !== 'iptables-error')) return null;
    const named = /[`'"](time|mac|comment)['`"]/.exec(failed.output)?.[1] as keyof BlockMatches | undefined;
    const order: Array<keyof BlockMatches> = ['time', 'comment', 'mac'];
    const which = named !== undefined && this.matches[named] ? named : order.find((m) => this.matches[m] && failed.command.includes(`-m ${m} `));
    if (which === undefined) return null;
    this.matches[which] = false;
    const why = { time: 'no time match: the block holds until lantop removes it at its expiry', comment: 'no comment match: block rules are untagged', mac: 'no mac match: blocked by address only' }[which];
    return `the router refused -m ${which} (${why})`;
  }
}
