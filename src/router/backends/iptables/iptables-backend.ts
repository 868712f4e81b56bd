// The iptables accounting backend: user chain TRAFFIC jumped to from FORWARD at position 1, per-host
// rules in the flat, split or tree layout (layouts.ts), every counter read with one
// `iptables -L -v -x -n --line-numbers`, plans applied by iptables-restore, `&&` shell lines or
// line by line (apply-batch.ts), whichever the router can do.
import { RouterError } from '../../../errors.js';
import { sanitizeBlock } from '../../../sanitize.js';
import type { CounterPair } from '../../../domain/accounting.js';
import type { CommandSpec, FirmwareProfile } from '../../firmware/families.js';
import { applyBatch } from './apply/apply-batch.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import { classifyRouterOutput } from '../../parsers/router-errors.js';
import type { IptablesListing } from '../../parsers/types.js';
import { routerAnswerError, whereName } from '../../router-answer.js';
import type { AccountingBackend, ApplyOutcome, BackendReading, IncrementalRead, InstallOptions, InstallPlan, RunCommand } from '../backend.js';
import { ListingStream } from './listing-stream.js';
import { readHostCounters } from './counters.js';
import { DEFAULT_LAYOUT, LAYOUTS, TRAFFIC_CHAIN, layoutOfListing, type RuleLayout } from './layouts.js';
import { planFlush, planSetup, planTeardown } from './plan.js';
import { describeRule, findChain, LANTOP_COMMENT } from './rule-spec.js';

export interface IptablesReading extends BackendReading {
  listing: IptablesListing;
}

export interface IptablesBackendOptions {
  wan: string;
  /** Asked for explicitly (`setup --layout`); otherwise the layout on the router, else the default. */
  layout?: RuleLayout;
}

/** The one listing a poll reads: the whole filter table with counters and line numbers. */
function listingSpec(iptables: CommandSpec): CommandSpec {
  return { command: `${iptables.command} -L -v -x -n --line-numbers`, where: iptables.where };
}

function hasForwardJump(listing: IptablesListing): boolean {
  return (findChain(listing, 'FORWARD')?.rules ?? []).some((r) => r.target === TRAFFIC_CHAIN);
}

export class IptablesBackend implements AccountingBackend<IptablesReading> {
  readonly kind = 'iptables' as const;
  readonly names = { indefinite: `a ${TRAFFIC_CHAIN} chain`, definite: `the ${TRAFFIC_CHAIN} chain` };
  readonly readCommand: CommandSpec;
  private isTagging: boolean;
  private lastLayout: RuleLayout | null = null;

  constructor(
    private readonly firmware: FirmwareProfile,
    private readonly options: IptablesBackendOptions,
  ) {
    this.readCommand = listingSpec(this.iptables);
    this.isTagging = firmware.capabilities.hasCommentMatch !== false;
  }

  private get iptables(): CommandSpec & { binary: string } {
    return this.firmware.commands.iptables!;
  }

  describe(): string {
    const layout = LAYOUTS[this.lastLayout ?? this.options.layout ?? DEFAULT_LAYOUT];
    return `iptables (${this.iptables.command} in ${whereName(this.iptables)}), ${layout.description}${this.isTagging ? `, rules tagged "-m comment --comment ${LANTOP_COMMENT}"` : ', rules untagged (no comment match)'}`;
  }

  read(text: string): IptablesReading {
    return this.readingOf(parseIptablesListing(text), text);
  }

  readIncrementally(): IncrementalRead<IptablesReading> {
    const stream = new ListingStream();
    return { push: (lines) => stream.push(lines), finish: (text) => this.readingOf(stream.finish(text), text) };
  }

  /** The reading of a parsed listing; `text` is what it was parsed from (for the error). */
  private readingOf(listing: IptablesListing, text: string): IptablesReading {
    if (listing.chains.length === 0 || findChain(listing, 'FORWARD') === undefined) {
      const spec = this.readCommand;
      if (classifyRouterOutput(text) !== null) throw routerAnswerError('list its firewall', spec, text);
      throw new RouterError(`The router printed something that is not an iptables listing to \`${spec.command}\` (in ${whereName(spec)}).`, 'Run `lantop doctor` and attach its transcript to a bug report; see the lines below.', { seen: sanitizeBlock(text, 160, 8) });
    }
    const counters = new Map<string, CounterPair>();
    for (const [ip, c] of readHostCounters(listing, this.options.wan)) counters.set(ip, { downBytes: c.downBytes, upBytes: c.upBytes });
    const hasChain = findChain(listing, TRAFFIC_CHAIN) !== undefined;
    return { counters, installation: !hasChain ? 'missing' : hasForwardJump(listing) ? 'complete' : 'incomplete', listing };
  }

  /** The layout to plan for: the one asked for, else the one already on the router, else the default. */
  private layoutFor(listing: IptablesListing): RuleLayout {
    return this.options.layout ?? layoutOfListing(listing) ?? DEFAULT_LAYOUT;
  }

  planInstall(reading: IptablesReading, hostAddresses: readonly string[], options: InstallOptions): InstallPlan {
    const layout = this.layoutFor(reading.listing);
    this.lastLayout = layout;
    const plan = planSetup(reading.listing, hostAddresses, { wan: this.options.wan, layout, isTagging: this.isTagging, isAdopting: options.isAdopting, isPruning: options.isPruning, iptables: this.iptables.binary });
    return {
      commands: plan.commands,
      foreign: plan.foreignRules.map(describeRule),
      rejectedHosts: plan.rejectedHosts,
      notes: plan.notes,
      caveat: this.isTagging ? null : 'rules untagged: no comment match',
    };
  }

  planFlush(reading: IptablesReading): string[] {
    return planFlush(reading.listing, this.iptables.binary);
  }

  planRemove(reading: IptablesReading): string[] {
    return planTeardown(reading.listing, this.iptables.binary);
  }

  apply(run: RunCommand, commands: readonly string[]): Promise<ApplyOutcome> {
    const { iptablesRestore } = this.firmware.commands;
    const { shellLineBytes, hasShellBatch } = this.firmware.capabilities;
    return applyBatch(run, {
      iptables: { binary: this.iptables.binary, where: this.iptables.where },
      restore: iptablesRestore ? { command: iptablesRestore.command, where: 'shell' } : null,
      // `&&` and printf only where iptables itself runs in the shell; never joined in a vendor CLI.
      isShell: this.iptables.where === 'shell' && hasShellBatch !== false,
      ...(shellLineBytes !== null ? { maxLineBytes: shellLineBytes } : {}),
    }, commands);
  }

  isFreshInstall(before: IptablesReading, applied: readonly string[]): boolean {
    // Created only if the command that creates it went through.
    return before.installation === 'missing' && applied.some((c) => c.startsWith(`${this.iptables.binary} -N ${TRAFFIC_CHAIN}`));
  }

  countedBy(applied: readonly string[], addresses: readonly string[]): string[] {
    const words = new Set<string>();
    for (const c of applied) for (const word of c.split(' ')) words.add(word);
    return addresses.filter((a) => words.has(a));
  }

  describeInstallation(reading: IptablesReading): string[] {
    const chain = findChain(reading.listing, TRAFFIC_CHAIN);
    return [
      chain ? `in place: the ${TRAFFIC_CHAIN} chain with ${chain.rules.length} rule(s)` : `not in place: the ${TRAFFIC_CHAIN} chain`,
      hasForwardJump(reading.listing) ? 'in place: the FORWARD jump' : 'not in place: the FORWARD jump (nothing is counted, and forwarding is untouched)',
    ];
  }

  fallBackAfter(failed: NonNullable<ApplyOutcome['failed']>): string | null {
    const isCommentRefused = this.isTagging && failed.command.includes(`--comment ${LANTOP_COMMENT}`) && (failed.problem?.kind === 'no-extension' || failed.problem?.kind === 'bad-argument');
    if (!isCommentRefused) return null;
    this.isTagging = false;
    return 'the router refused the comment match: lantop set up untagged rules and recognises them by their shape';
  }
}
