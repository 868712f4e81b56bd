// The iptables accounting backend: user chain TRAFFIC jumped to from FORWARD at position 1, per-host
// rules in the flat, split or tree layout (layouts.ts), every counter read with one
// `iptables -L -v -x -n --line-numbers`, plans applied by iptables-restore, `&&` shell lines or
// line by line (apply-batch.ts), whichever the router can do.
//
// IPv6 (issue 15): where the firmware table names ip6tables, the same chains, layouts, tags and
// safety in ip6tables, for the IPv6 host addresses; read in the same round trip where both run in
// the shell (dual-stack-read.ts). An ip6tables that does not answer a listing ("not found",
// "can't initialize ip6tables table") turns IPv6 counting off for that read, with a note; IPv4 is
// counted as before. Without ip6tables in the table, everything is exactly the IPv4-only backend.
import { RouterError } from '../../../errors.js';
import { sanitizeBlock, sanitizeText } from '../../../sanitize.js';
import type { CounterPair } from '../../../domain/accounting.js';
import type { InstallationState } from '../../../domain/poller.js';
import type { CommandSpec, FirmwareProfile } from '../../firmware/families.js';
import { applyBatch, type BatchTarget } from './apply/apply-batch.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import { classifyRouterOutput } from '../../parsers/router-errors.js';
import type { IptablesListing } from '../../parsers/types.js';
import { routerAnswerError, whereName } from '../../router-answer.js';
import type { AccountingBackend, ApplyOutcome, BackendReading, IncrementalRead, InstallOptions, InstallPlan, ReadFollowUp, RunCommand } from '../backend.js';
import { ListingStream } from './listing-stream.js';
import { readHostCounters } from './counters.js';
import { DualListingStream, dualReadPlan, listingCommand, splitDualRead } from './dual-stack-read.js';
import { DEFAULT_LAYOUT, LAYOUTS, TRAFFIC_CHAIN, TREE_FROM_HOSTS, defaultLayoutFor, layoutOfListing, type RuleLayout } from './layouts.js';
import { planFlush, planSetup, planTeardown } from './plan.js';
import { jumpPositions, planRouterCounters, readRouterCounters, ROUTER_CHAINS, ROUTER_IN_CHAIN, ROUTER_OUT_CHAIN } from './router-chains.js';
import { describeRule, findChain, LANTOP_COMMENT } from './rule-spec.js';
import { CLASS_CHAIN, classJumpPositions, installedClasses, planClassCounters, readClassCounters } from './class-chain.js';
import { classKey, compareClasses, type TrafficClass } from '../../../domain/traffic-class.js';
import type { CustomCounter } from '../../../domain/custom-counter.js';
import type { CustomCounterReading } from '../backend.js';
import { replayHookJumps } from './counter-replay.js';
import { COUNTER_CHAIN_NAMES, planCustomCounterRemoval, planCustomCounters, readCustomCounters } from './counter-chain.js';

export interface IptablesReading extends BackendReading {
  listing: IptablesListing;
  /** The ip6tables listing; null when IPv6 is not counted here (no ip6tables, or it did not list: see notes). */
  listing6: IptablesListing | null;
  notes: string[];
  /** TRAFFIC_IN/TRAFFIC_OUT's counters, both counted families summed; null: not in place in one of them. */
  routerCounters: CounterPair | null;
  isRouterCounterMissing: boolean;
  /** TRAFFIC_CLASS's counters per class key, both counted families summed. */
  classCounters: Map<string, CounterPair>;
  /** The classes counted now (in either family), in classKey order. */
  installedClasses: TrafficClass[];
}

export interface IptablesBackendOptions {
  wan: string;
  /** Asked for explicitly (`setup --layout`); otherwise the layout on the router, else the default. */
  layout?: RuleLayout;
}

type Tool = CommandSpec & { binary: string };

function hasForwardJump(listing: IptablesListing): boolean {
  return (findChain(listing, 'FORWARD')?.rules ?? []).some((r) => r.target === TRAFFIC_CHAIN);
}

function installationOf(listing: IptablesListing): InstallationState {
  return findChain(listing, TRAFFIC_CHAIN) === undefined ? 'missing' : hasForwardJump(listing) ? 'complete' : 'incomplete';
}

/** Both families: missing or complete only when both are; anything else is incomplete. */
function bothFamilies(a: InstallationState, b: InstallationState | null): InstallationState {
  return b === null || a === b ? a : 'incomplete';
}

export class IptablesBackend implements AccountingBackend<IptablesReading> {
  readonly kind = 'iptables' as const;
  readonly names = { indefinite: `a ${TRAFFIC_CHAIN} chain`, definite: `the ${TRAFFIC_CHAIN} chain` };
  readonly readCommand: CommandSpec;
  readonly readFollowUp: ReadFollowUp | null;
  private readonly ip6tables: Tool | null;
  private isTagging: boolean;
  private lastLayout: RuleLayout | null = null;
  /** The classes the last read or plan saw (describe() names them); null: not known yet. */
  private lastClasses: TrafficClass[] | null = null;

  constructor(
    private readonly firmware: FirmwareProfile,
    private readonly options: IptablesBackendOptions,
  ) {
    this.ip6tables = firmware.commands.ip6tables ?? null;
    const plan = this.ip6tables === null ? { readCommand: listingCommand(this.iptables), followUp: null } : dualReadPlan(this.iptables, this.ip6tables);
    this.readCommand = plan.readCommand;
    this.readFollowUp = plan.followUp;
    this.isTagging = firmware.capabilities.hasCommentMatch !== false;
  }

  private get iptables(): Tool {
    return this.firmware.commands.iptables!;
  }

  describe(): string {
    const chosen = this.lastLayout ?? this.options.layout ?? null;
    const layout = chosen === null ? `${LAYOUTS[DEFAULT_LAYOUT].description} (from ${TREE_FROM_HOSTS} hosts of a family on: the tree layout, a chain per address group)` : LAYOUTS[chosen].description;
    const ipv6 = this.ip6tables === null ? '' : `, IPv6 hosts in ip6tables (${this.ip6tables.command} in ${whereName(this.ip6tables)}) alike`;
    const router = `; the router's own WAN traffic counted in ${ROUTER_IN_CHAIN} (jumped to from INPUT) and ${ROUTER_OUT_CHAIN} (from OUTPUT); custom counters (lantop counter add) in ${COUNTER_CHAIN_NAMES.join(', ')} (jumped to from INPUT, OUTPUT, FORWARD), one rule per counter tagged by its id; traffic classes (setup --ports/--protocols) in ${CLASS_CHAIN} (jumped to from FORWARD after ${TRAFFIC_CHAIN}), two counting rules per class${this.lastClasses === null ? '' : this.lastClasses.length === 0 ? ', none now' : `, now ${this.lastClasses.map(classKey).join(', ')}`}`;
    return `iptables (${this.iptables.command} in ${whereName(this.iptables)}), ${layout}${router}${this.isTagging ? `, rules tagged "-m comment --comment ${LANTOP_COMMENT}"` : ', rules untagged (no comment match)'}${ipv6}`;
  }

  read(text: string): IptablesReading {
    if (this.ip6tables === null) return this.readingOf(parseIptablesListing(text), text, null, null);
    const { text4, text6 } = splitDualRead(text);
    return this.readingOf(parseIptablesListing(text4), text4, text6 === null ? null : parseIptablesListing(text6), text6);
  }

  readIncrementally(): IncrementalRead<IptablesReading> {
    if (this.ip6tables === null) {
      const stream = new ListingStream();
      return { push: (lines) => stream.push(lines), finish: (text) => this.readingOf(stream.finish(text), text, null, null) };
    }
    const dual = new DualListingStream();
    return {
      push: (lines) => dual.push(lines),
      finish: (text) => {
        const { listing4, listing6, text4, text6 } = dual.finish(text);
        return this.readingOf(listing4, text4, listing6, text6);
      },
    };
  }

  /** The reading of parsed listings; `text4`/`text6` are what they were parsed from (for errors and notes). */
  private readingOf(listing: IptablesListing, text4: string, parsed6: IptablesListing | null, text6: string | null): IptablesReading {
    if (listing.chains.length === 0 || findChain(listing, 'FORWARD') === undefined) {
      const spec = this.readCommand;
      if (classifyRouterOutput(text4) !== null) throw routerAnswerError('list its firewall', spec, text4);
      throw new RouterError(`The router printed something that is not an iptables listing to \`${spec.command}\` (in ${whereName(spec)}).`, 'Run `lantop doctor` and attach its transcript to a bug report; see the lines below.', { seen: sanitizeBlock(text4, 160, 8) });
    }
    const counters = new Map<string, CounterPair>();
    for (const [ip, c] of readHostCounters(listing, this.options.wan)) counters.set(ip, { downBytes: c.downBytes, upBytes: c.upBytes });
    const notes: string[] = [];
    const listing6 = this.ip6tables === null ? null : this.usableListing6(parsed6, text6, notes);
    if (listing6 !== null) {
      for (const [ip, c] of readHostCounters(listing6, this.options.wan, 6)) counters.set(ip, { downBytes: c.downBytes, upBytes: c.upBytes });
    }
    const installation = bothFamilies(installationOf(listing), listing6 === null ? null : installationOf(listing6));
    // describe() names the layout the router has once a read has seen it (doctor, dry-run).
    this.lastLayout = layoutOfListing(listing) ?? (listing6 === null ? null : layoutOfListing(listing6)) ?? this.lastLayout;
    const routerCounters = this.routerCountersOf(listing, listing6);
    const classCounters = readClassCounters(listing, this.options.wan);
    if (listing6 !== null) {
      for (const [key, c] of readClassCounters(listing6, this.options.wan, 6)) {
        const sum = classCounters.get(key) ?? { downBytes: 0, upBytes: 0 };
        classCounters.set(key, { downBytes: sum.downBytes + c.downBytes, upBytes: sum.upBytes + c.upBytes });
      }
    }
    const classes = unionOfClasses(installedClasses(listing, this.options.wan), listing6 === null ? [] : installedClasses(listing6, this.options.wan, 6));
    this.lastClasses = classes;
    return { counters, installation, listing, listing6, notes, routerCounters, isRouterCounterMissing: installation === 'complete' && routerCounters === null, classCounters, installedClasses: classes };
  }

  /** The router's own WAN traffic, both counted families summed; null when one lacks its chains. */
  private routerCountersOf(listing: IptablesListing, listing6: IptablesListing | null): CounterPair | null {
    const v4 = readRouterCounters(listing, this.options.wan);
    if (v4 === null || listing6 === null) return v4;
    const v6 = readRouterCounters(listing6, this.options.wan, 6);
    return v6 === null ? null : { downBytes: v4.downBytes + v6.downBytes, upBytes: v4.upBytes + v6.upBytes };
  }

  /** The ip6tables listing when it is one; otherwise null and a note with what the router said. */
  private usableListing6(listing6: IptablesListing | null, text6: string | null, notes: string[]): IptablesListing | null {
    if (listing6 !== null && listing6.chains.length > 0 && findChain(listing6, 'FORWARD') !== undefined) return listing6;
    const command = listingCommand(this.ip6tables!).command;
    const said = text6 === null ? 'no answer lantop could tell apart' : text6.trim() === '' ? 'nothing' : `"${sanitizeText(text6.trim().split('\n')[0]!, 120)}"`;
    notes.push(`IPv6 is not counted: \`${command}\` answered ${said}; IPv4 is counted as before`);
    return null;
  }

  /**
   * The layout to plan for: the one asked for, else the one already on the router, else the
   * default for the LAN's size (the larger family's host count: one layout serves both).
   */
  private layoutFor(reading: IptablesReading, hostAddresses: readonly string[]): RuleLayout {
    const onRouter = layoutOfListing(reading.listing) ?? (reading.listing6 ? layoutOfListing(reading.listing6) : null);
    if (this.options.layout ?? onRouter) return (this.options.layout ?? onRouter)!;
    const v6 = hostAddresses.reduce((n, a) => n + (a.includes(':') ? 1 : 0), 0);
    return defaultLayoutFor(Math.max(v6, hostAddresses.length - v6));
  }

  planInstall(reading: IptablesReading, hostAddresses: readonly string[], options: InstallOptions): InstallPlan {
    const layout = this.layoutFor(reading, hostAddresses);
    this.lastLayout = layout;
    const base = { wan: this.options.wan, layout, isTagging: this.isTagging, isAdopting: options.isAdopting, isPruning: options.isPruning };
    const caveat = this.isTagging ? null : 'rules untagged: no comment match';
    const listing6 = reading.listing6 ?? null;
    // null or absent: each family keeps the classes it counts (only their jump is repaired).
    const classes = options.classes ?? null;
    if (listing6 === null || this.ip6tables === null) {
      // IPv4 only: IPv6 hosts are rejected by the IPv4 plan, as before IPv6 counting existed.
      const plan = planSetup(reading.listing, hostAddresses, { ...base, iptables: this.iptables.binary });
      const router = planRouterCounters(reading.listing, { ...base, iptables: this.iptables.binary });
      const classPlan = planClassCounters(reading.listing, { ...base, iptables: this.iptables.binary, classes, before: plan.commands });
      const uncounted = (classes ?? []).filter((c) => c.protocol === 'icmpv6');
      this.lastClasses = classes === null ? this.lastClasses : classPlan.classes;
      // Custom counters (issue 18) last, after every other plan of the family.
      const counters = planCounters(reading.listing, this.iptables.binary, 4, options.counters, [...plan.commands, ...router.commands, ...classPlan.commands]);
      const ipv6Only = (options.counters ?? []).filter((c) => c.family === 'ipv6');
      return {
        commands: [...plan.commands, ...router.commands, ...classPlan.commands, ...counters.commands],
        foreign: [...plan.foreignRules, ...router.foreignRules, ...classPlan.foreignRules, ...counters.foreignRules].map(describeRule),
        rejectedHosts: plan.rejectedHosts,
        notes: [...plan.notes, ...router.notes, ...classPlan.notes, ...counters.notes, ...uncounted.map((c) => `traffic class ${classKey(c)} is not counted: it is IPv6 only, and IPv6 is not counted here`), ...ipv6Only.map((c) => `counter ${c.name} is not counted: it is IPv6 only, and IPv6 is not counted here`), ...(reading.notes ?? [])],
        caveat,
      };
    }
    const plan4 = planSetup(reading.listing, hostAddresses.filter((a) => !a.includes(':')), { ...base, iptables: this.iptables.binary });
    const router4 = planRouterCounters(reading.listing, { ...base, iptables: this.iptables.binary });
    const class4 = planClassCounters(reading.listing, { ...base, iptables: this.iptables.binary, classes, before: plan4.commands });
    const plan6 = planSetup(listing6, hostAddresses.filter((a) => a.includes(':')), { ...base, iptables: this.ip6tables.binary, family: 6 });
    const router6 = planRouterCounters(listing6, { ...base, iptables: this.ip6tables.binary, family: 6 });
    const class6 = planClassCounters(listing6, { ...base, iptables: this.ip6tables.binary, family: 6, classes, before: plan6.commands });
    if (classes !== null) this.lastClasses = unionOfClasses(class4.classes, class6.classes);
    const counters4 = planCounters(reading.listing, this.iptables.binary, 4, options.counters, [...plan4.commands, ...router4.commands, ...class4.commands]);
    const counters6 = planCounters(listing6, this.ip6tables.binary, 6, options.counters, [...plan6.commands, ...router6.commands, ...class6.commands]);
    return {
      commands: [...plan4.commands, ...router4.commands, ...class4.commands, ...counters4.commands, ...plan6.commands, ...router6.commands, ...class6.commands, ...counters6.commands],
      foreign: [...plan4.foreignRules, ...router4.foreignRules, ...class4.foreignRules, ...counters4.foreignRules].map(describeRule).concat([...plan6.foreignRules, ...router6.foreignRules, ...class6.foreignRules, ...counters6.foreignRules].map((r) => `ip6tables: ${describeRule(r)}`)),
      rejectedHosts: [...plan4.rejectedHosts, ...plan6.rejectedHosts],
      notes: [...plan4.notes, ...router4.notes, ...class4.notes, ...counters4.notes, ...[...plan6.notes, ...router6.notes, ...class6.notes, ...counters6.notes].map((n) => `IPv6: ${n}`)],
      caveat,
    };
  }

  planFlush(reading: IptablesReading): string[] {
    const v6 = reading.listing6 && this.ip6tables ? planFlush(reading.listing6, this.ip6tables.binary) : [];
    return [...planFlush(reading.listing, this.iptables.binary), ...v6];
  }

  planRemove(reading: IptablesReading): string[] {
    // The custom counters' jumps go by spec, after the jumps deleted by position (issue 18).
    const v6 = reading.listing6 && this.ip6tables ? [...planTeardown(reading.listing6, this.ip6tables.binary), ...planCustomCounterRemoval(reading.listing6, this.ip6tables.binary, 6)] : [];
    return [...planTeardown(reading.listing, this.iptables.binary), ...planCustomCounterRemoval(reading.listing, this.iptables.binary, 4), ...v6];
  }

  /** Custom counters (issue 18): counts by name, both counted families summed; in place when a plan of them alone sends nothing. */
  readCustomCounters(reading: IptablesReading, counters: readonly CustomCounter[]): CustomCounterReading {
    const counts = readCustomCounters(reading.listing, counters, 4);
    let isInPlace = planCounters(reading.listing, this.iptables.binary, 4, counters).commands.length === 0;
    const listing6 = reading.listing6 ?? null;
    if (listing6 !== null && this.ip6tables !== null) {
      for (const [name, c] of readCustomCounters(listing6, counters, 6)) {
        const sum = counts.get(name);
        counts.set(name, sum === undefined ? c : { bytes: sum.bytes + c.bytes, packets: sum.packets + c.packets });
      }
      isInPlace &&= planCounters(listing6, this.ip6tables.binary, 6, counters).commands.length === 0;
    }
    return { counts, isInPlace };
  }

  private target(tool: Tool, restore: CommandSpec | null, family: 4 | 6): BatchTarget {
    const { shellLineBytes, hasShellBatch } = this.firmware.capabilities;
    return {
      iptables: { binary: tool.binary, where: tool.where },
      restore: restore ? { command: restore.command, where: 'shell' } : null,
      // `&&` and printf only where iptables itself runs in the shell; never joined in a vendor CLI.
      isShell: tool.where === 'shell' && hasShellBatch !== false,
      ...(shellLineBytes !== null ? { maxLineBytes: shellLineBytes } : {}),
      ...(family === 6 ? { family } : {}),
    };
  }

  async apply(run: RunCommand, commands: readonly string[]): Promise<ApplyOutcome> {
    const target4 = this.target(this.iptables, this.firmware.commands.iptablesRestore, 4);
    if (this.ip6tables === null) return applyBatch(run, target4, commands);
    // Each family in its own batch (iptables first), each with its own tool: a plan never mixes
    // them in one transaction, and an ip6tables line never reaches iptables.
    const binary6 = this.ip6tables.binary;
    const commands6 = commands.filter((c) => c.split(' ', 1)[0] === binary6);
    const commands4 = commands.filter((c) => c.split(' ', 1)[0] !== binary6);
    if (commands6.length === 0) return applyBatch(run, target4, commands4);
    const first = commands4.length > 0 ? await applyBatch(run, target4, commands4) : null;
    if (first !== null && first.failed !== null) return first;
    const second = await applyBatch(run, this.target(this.ip6tables, this.firmware.commands.ip6tablesRestore, 6), commands6);
    return {
      applied: [...(first?.applied ?? []), ...second.applied],
      failed: second.failed,
      isVerified: (first?.isVerified ?? true) && second.isVerified,
      notes: [...(first?.notes ?? []), ...second.notes.map((n) => `IPv6: ${n}`)],
    };
  }

  isFreshInstall(before: IptablesReading, applied: readonly string[]): boolean {
    // Created only if the command that creates it went through; with IPv6, in both families.
    const created = (binary: string) => applied.some((c) => c.startsWith(`${binary} -N ${TRAFFIC_CHAIN}`));
    if (before.installation !== 'missing' || !created(this.iptables.binary)) return false;
    return (before.listing6 ?? null) === null || this.ip6tables === null || created(this.ip6tables.binary);
  }

  countedBy(applied: readonly string[], addresses: readonly string[]): string[] {
    const words = new Set<string>();
    for (const c of applied) for (const word of c.split(' ')) words.add(word);
    return addresses.filter((a) => words.has(a));
  }

  describeInstallation(reading: IptablesReading): string[] {
    const lines = describeFamily(reading.listing, '', this.options.wan, 4);
    if (this.ip6tables === null) return lines;
    if ((reading.listing6 ?? null) === null) return [...lines, ...(reading.notes ?? [])];
    return [...lines, ...describeFamily(reading.listing6!, 'IPv6 (ip6tables): ', this.options.wan, 6)];
  }

  fallBackAfter(failed: NonNullable<ApplyOutcome['failed']>): string | null {
    const isCommentRefused = this.isTagging && failed.command.includes(`--comment ${LANTOP_COMMENT}`) && (failed.problem?.kind === 'no-extension' || failed.problem?.kind === 'bad-argument');
    if (!isCommentRefused) return null;
    this.isTagging = false;
    return 'the router refused the comment match: lantop set up untagged rules and recognises them by their shape';
  }
}

function describeFamily(listing: IptablesListing, prefix: string, wan: string, family: 4 | 6): string[] {
  const chain = findChain(listing, TRAFFIC_CHAIN);
  const routerParts = ROUTER_CHAINS.map((c) => `${c.name} ${findChain(listing, c.name) === undefined ? 'absent' : jumpPositions(findChain(listing, c.hook), c.name).length === 0 ? `without its ${c.hook} jump` : 'there'}`);
  const isRouterInPlace = readRouterCounters(listing, wan, family) !== null;
  return [
    `${prefix}${chain ? `in place: the ${TRAFFIC_CHAIN} chain with ${chain.rules.length} rule(s)` : `not in place: the ${TRAFFIC_CHAIN} chain`}`,
    `${prefix}${hasForwardJump(listing) ? 'in place: the FORWARD jump' : 'not in place: the FORWARD jump (nothing is counted, and forwarding is untouched)'}`,
    isRouterInPlace ? `${prefix}in place: the router's own WAN counters (${ROUTER_IN_CHAIN} from INPUT, ${ROUTER_OUT_CHAIN} from OUTPUT)` : `${prefix}not in place: the router's own WAN counters (${routerParts.join(', ')}; hosts are counted without them, the next sync adds them)`,
    ...describeClasses(listing, prefix, wan, family),
  ];
}

/** The class chain in words: absent (no classes asked for), or the classes it counts and whether FORWARD jumps to it. */
function describeClasses(listing: IptablesListing, prefix: string, wan: string, family: 4 | 6): string[] {
  if (findChain(listing, CLASS_CHAIN) === undefined) return [];
  const classes = installedClasses(listing, wan, family).map(classKey);
  const what = classes.length === 0 ? 'no class' : `class(es) ${classes.join(', ')}`;
  return [classJumpPositions(listing).length > 0 ? `${prefix}in place: traffic classes in ${CLASS_CHAIN}, counting ${what}` : `${prefix}not in place: the FORWARD jump to ${CLASS_CHAIN} (${what}; the next sync or setup adds it)`];
}

/** A family's custom-counter plan after `before` (the family's other plans); counters null: the counter chains stay as they are. */
function planCounters(listing: IptablesListing, iptables: string, family: 4 | 6, counters: readonly CustomCounter[] | null | undefined, before: readonly string[] = []): ReturnType<typeof planCustomCounters> {
  if (counters === null || counters === undefined) return { commands: [], foreignRules: [], notes: [] };
  return planCustomCounters(replayHookJumps(listing, before, iptables), { iptables, family, counters });
}

/** Classes of both families, once each, in classKey order. */
function unionOfClasses(a: readonly TrafficClass[], b: readonly TrafficClass[]): TrafficClass[] {
  const out = new Map<string, TrafficClass>();
  for (const c of [...a, ...b]) out.set(classKey(c), c);
  return [...out.values()].sort(compareClasses);
}
