// Loaders (after lazygit's): build a command from the firmware table, run it through the one
// Session, hand the text to a pure parser. Also applies rule plans and verifies them. This is the
// only place that decides *what* to send; transport/ decides *how*.
import { RouterError, UsageError } from '../errors.js';
import { sanitizeBlock, sanitizeText } from '../sanitize.js';
import type { Session } from '../transport/session.js';
import type { CounterPair, PollHost } from '../domain/accounting.js';
import type { PollPort, SyncOutcome, TrafficReading } from '../domain/poller.js';
import type { CommandSpec, FirmwareProfile } from './firmware/families.js';
import { discoverHosts, type DiscoveredHost } from './discovery.js';
import { parseArpTable } from './parsers/arp-table.js';
import { parseLanHosts } from './parsers/lan-hosts.js';
import { parseDhcpLeases } from './parsers/dhcp-leases.js';
import { parseIptablesListing } from './parsers/iptables-listing.js';
import { classifyRouterOutput, type RouterOutputProblem } from './parsers/router-errors.js';
import type { IptablesListing, LeaseEntry } from './parsers/types.js';
import { findChain, planFlush, planSetup, planTeardown, readHostCounters, DEFAULT_LAYOUT, DOWN_CHAIN, UP_CHAIN, LANTOP_COMMENT, TRAFFIC_CHAIN, type RuleLayout, type TrafficPlan } from './rules.js';

/** A session that may switch between the vendor CLI and the BusyBox shell. */
export type ModalSession = Session & { enterShell?(): Promise<void>; exitShell?(): Promise<void> };

export interface RouterClientOptions {
  wan: string;
  /** Asked for explicitly (`setup --layout`); otherwise the layout on the router, else the default. */
  layout?: RuleLayout;
  /** lantop set up this router's rules: keep them in sync and repair them (issue 6, "Sync while running"). */
  isManaged: boolean;
  /** Remove rules of hosts that left (off by default: their counters are history). */
  isPruning?: boolean;
}

export interface ApplyOutcome {
  applied: string[];
  failed: { command: string; output: string; problem: RouterOutputProblem | null } | null;
  isVerified: boolean;
  notes: string[];
}

export type SetupPlan = TrafficPlan & { isTagging: boolean };

function nextStepFor(problem: RouterOutputProblem): string {
  switch (problem.kind) {
    case 'permission-denied':
      return 'Log in as the router\'s admin/root user: iptables needs root.';
    case 'not-found':
      return 'This router has no iptables in its shell; try --firmware with another family, or see docs/routers.md.';
    case 'incompatible-nft':
      return 'The chain was made by nft; remove it with nft, or use iptables-legacy.';
    case 'lock-busy':
      return 'Another program is changing the firewall; try again in a few seconds.';
    case 'unknown-command':
      return 'The vendor CLI does not pass this command through; try --firmware busybox after enabling its shell.';
    default:
      return 'Run with --debug and report the router model and firmware version.';
  }
}

export class RouterClient implements PollPort {
  private isTaggingSupported: boolean;

  constructor(
    private readonly session: ModalSession,
    readonly firmware: FirmwareProfile,
    private options: RouterClientOptions,
  ) {
    if (firmware.capabilities.nftOnly || firmware.commands.iptables === null) {
      throw new RouterError(
        `This router (${firmware.family}) has only nftables; lantop counts with iptables today.`,
        'nftables accounting is planned; until then install iptables-nft on the router, or use --firmware if detection was wrong.',
      );
    }
    this.isTaggingSupported = firmware.capabilities.hasCommentMatch !== false;
  }

  get wan(): string {
    return this.options.wan;
  }

  /** Whether poll-time sync may add and repair rules: on after setup, off after flush/teardown. */
  setManaged(isManaged: boolean): void {
    this.options = { ...this.options, isManaged };
  }

  get isTagging(): boolean {
    return this.isTaggingSupported;
  }

  private get iptables() {
    return this.firmware.commands.iptables!;
  }

  /** Runs a command where the firmware table says it belongs (vendor CLI or shell). */
  async run(spec: CommandSpec): Promise<string> {
    if (spec.where === 'shell' && this.session.mode === 'cli') {
      if (!this.session.enterShell) throw new RouterError('This router session cannot reach a shell for this command.', 'Try --firmware with the right family.');
      await this.session.enterShell();
    } else if (spec.where === 'cli' && this.session.mode === 'shell' && this.session.exitShell) {
      await this.session.exitShell();
    }
    return this.session.exec(spec.command);
  }

  async discover(): Promise<PollHost[]> {
    return (await this.listHosts()).map((h) => ({ ip: h.ip, mac: h.mac, hostname: h.hostname }));
  }

  async listHosts(): Promise<DiscoveredHost[]> {
    const { listArp, listNames } = this.firmware.commands;
    const arpText = await this.run(listArp);
    const arpProblem = classifyRouterOutput(arpText);
    const arp = parseArpTable(arpText);
    if (arp.length === 0 && arpProblem !== null) {
      throw new RouterError(`The router could not list its ARP table: ${sanitizeText(arpProblem.line, 200)}`, nextStepFor(arpProblem));
    }
    let leases: LeaseEntry[] = [];
    if (listNames !== null) {
      // Names are a nicety: a router without a lease file still has hosts.
      const text = await this.run(listNames);
      leases = listNames.parser === 'lan-hosts' ? parseLanHosts(text) : parseDhcpLeases(text);
    }
    return discoverHosts(arp, leases, { wanInterfaces: [this.options.wan] });
  }

  /** Discovered hosts, each marked with whether lantop has accounting rules for it. */
  async listCountedHosts(): Promise<Array<DiscoveredHost & { isCounted: boolean }>> {
    const hosts = await this.listHosts();
    const { counters } = await this.readTraffic();
    return hosts.map((h) => ({ ...h, isCounted: counters.has(h.ip) }));
  }

  /** The whole filter table with line numbers: chains, jump and counters in one round trip. */
  async readListing(): Promise<IptablesListing> {
    const text = await this.run({ command: `${this.iptables.command} -L -v -x -n --line-numbers`, where: this.iptables.where });
    const listing = parseIptablesListing(text);
    if (listing.chains.length === 0 || findChain(listing, 'FORWARD') === undefined) {
      const problem = classifyRouterOutput(text);
      if (problem !== null) throw new RouterError(`The router refused to list its firewall: ${sanitizeText(problem.line, 200)}`, nextStepFor(problem));
      throw new RouterError('The router printed something that is not an iptables listing.', 'Run with --debug and report the router model; see the lines below.', { seen: sanitizeBlock(text, 160, 8) });
    }
    return listing;
  }

  async readTraffic(): Promise<TrafficReading> {
    const listing = await this.readListing();
    return this.readingOf(listing);
  }

  private readingOf(listing: IptablesListing): TrafficReading & { listing: IptablesListing } {
    const forward = findChain(listing, 'FORWARD');
    const counters = new Map<string, CounterPair>();
    for (const [ip, c] of readHostCounters(listing, this.options.wan)) counters.set(ip, { downBytes: c.downBytes, upBytes: c.upBytes });
    return {
      counters,
      hasChain: findChain(listing, TRAFFIC_CHAIN) !== undefined,
      hasJump: (forward?.rules ?? []).some((r) => r.target === TRAFFIC_CHAIN),
      listing,
    };
  }

  /** The layout to plan for: the one asked for, else the one already on the router, else the default. */
  layoutFor(listing: IptablesListing): RuleLayout {
    if (this.options.layout !== undefined) return this.options.layout;
    if (findChain(listing, DOWN_CHAIN) !== undefined || findChain(listing, UP_CHAIN) !== undefined) return 'split';
    if (findChain(listing, TRAFFIC_CHAIN) !== undefined) return 'flat';
    return DEFAULT_LAYOUT;
  }

  planSetupFrom(listing: IptablesListing, hostIps: readonly string[], isAdopting = false): SetupPlan {
    const plan = planSetup(listing, hostIps, {
      wan: this.options.wan,
      layout: this.layoutFor(listing),
      isTagging: this.isTaggingSupported,
      isAdopting,
      isPruning: this.options.isPruning ?? false,
      iptables: this.iptables.binary,
    });
    return { ...plan, isTagging: this.isTaggingSupported };
  }

  async planSetup(isAdopting = false): Promise<{ plan: SetupPlan; hosts: DiscoveredHost[] }> {
    const hosts = await this.listHosts();
    const listing = await this.readListing();
    return { plan: this.planSetupFrom(listing, hosts.map((h) => h.ip), isAdopting), hosts };
  }

  async planFlush(): Promise<string[]> {
    return planFlush(await this.readListing(), this.iptables.binary);
  }

  async planTeardown(): Promise<string[]> {
    return planTeardown(await this.readListing(), this.iptables.binary);
  }

  /**
   * Sends commands in order, stopping at the first the router refuses. Output is judged by its
   * text (telnet merges stderr, and vendor CLIs print no exit status).
   */
  async apply(commands: readonly string[]): Promise<ApplyOutcome> {
    const applied: string[] = [];
    for (const command of commands) {
      const output = await this.run({ command, where: this.iptables.where });
      const problem = classifyRouterOutput(output);
      if (problem !== null || output.trim() !== '') {
        // iptables prints nothing on success; anything else is a refusal we must not skip past.
        return { applied, failed: { command, output: sanitizeBlock(output, 200, 6), problem }, isVerified: false, notes: [] };
      }
      applied.push(command);
    }
    return { applied, failed: null, isVerified: true, notes: [] };
  }

  /**
   * setup: plan, apply, read back and verify. A router that refuses the comment match is set up
   * untagged (and remembered), recognised by shape from then on.
   */
  async setup(options: { isAdopting?: boolean } = {}): Promise<ApplyOutcome & { plan: SetupPlan }> {
    let { plan, hosts } = await this.planSetup(options.isAdopting);
    if (plan.foreignRules.length > 0 && !options.isAdopting) {
      throw new UsageError(
        `The router already has a ${TRAFFIC_CHAIN} chain with ${plan.foreignRules.length} rule(s) lantop did not write.`,
        'Look at them with `lantop setup --dry-run`; then run `lantop setup --adopt` to take the chain over, or remove them yourself.',
      );
    }
    let outcome = await this.apply(plan.commands);
    const refusedComment = outcome.failed !== null && plan.isTagging && outcome.failed.command.includes(`--comment ${LANTOP_COMMENT}`) && (outcome.failed.problem?.kind === 'no-extension' || outcome.failed.problem?.kind === 'bad-argument');
    const notes: string[] = [];
    if (refusedComment) {
      this.isTaggingSupported = false;
      notes.push('the router refused the comment match: lantop set up untagged rules and recognises them by their shape');
      const listing = await this.readListing();
      plan = this.planSetupFrom(listing, hosts.map((h) => h.ip), true);
      outcome = await this.apply(plan.commands);
    }
    if (outcome.failed !== null) return { ...outcome, plan, notes: [...notes, ...describePartial(await this.readListing())] };
    const verify = this.planSetupFrom(await this.readListing(), hosts.map((h) => h.ip), options.isAdopting);
    return { ...outcome, plan, isVerified: verify.commands.length === 0, notes };
  }

  /** Poll-time sync: rules for new hosts; a chain/jump the firmware dropped is put back. */
  async sync(hosts: PollHost[], reading: TrafficReading): Promise<SyncOutcome> {
    if (!this.options.isManaged) return { newRuleIps: [], isChainRecreated: false, notes: [] };
    const hostIps = hosts.map((h) => h.ip);
    const missing = hostIps.filter((ip) => !reading.counters.has(ip));
    if (reading.hasChain && reading.hasJump && missing.length === 0) return { newRuleIps: [], isChainRecreated: false, notes: [] };
    const listing = 'listing' in reading ? (reading as TrafficReading & { listing: IptablesListing }).listing : await this.readListing();
    const plan = this.planSetupFrom(listing, hostIps);
    if (plan.foreignRules.length > 0 || plan.commands.length === 0) return { newRuleIps: [], isChainRecreated: false, notes: [] };
    const outcome = await this.apply(plan.commands);
    const notes: string[] = [];
    const isChainRecreated = !reading.hasChain;
    if (!reading.hasChain || !reading.hasJump) notes.push(`the router had dropped lantop's ${reading.hasChain ? 'FORWARD jump' : 'TRAFFIC chain'} (firewall rebuilt?): repaired`);
    if (missing.length > 0) notes.push(`now counting ${missing.length} new host(s)`);
    if (outcome.failed !== null) notes.push(`could not add rules: ${sanitizeText(outcome.failed.output, 160)}`);
    const hasRule = (ip: string) => outcome.applied.some((c) => c.split(' ').includes(ip));
    return { newRuleIps: isChainRecreated ? hostIps.filter(hasRule) : missing.filter(hasRule), isChainRecreated, notes };
  }
}

/** After a failed apply: what is in place and what is not, in words. */
function describePartial(listing: IptablesListing): string[] {
  const chain = findChain(listing, TRAFFIC_CHAIN);
  const hasJump = (findChain(listing, 'FORWARD')?.rules ?? []).some((r) => r.target === TRAFFIC_CHAIN);
  return [
    chain ? `in place: the ${TRAFFIC_CHAIN} chain with ${chain.rules.length} rule(s)` : `not in place: the ${TRAFFIC_CHAIN} chain`,
    hasJump ? 'in place: the FORWARD jump' : 'not in place: the FORWARD jump (nothing is counted, and forwarding is untouched)',
  ];
}
