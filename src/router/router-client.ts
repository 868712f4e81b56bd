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
import { applyBatch } from './apply-batch.js';
import { parseArpTableReport } from './parsers/arp-table.js';
import { parseLanHosts } from './parsers/lan-hosts.js';
import { parseDhcpLeases } from './parsers/dhcp-leases.js';
import { parseIptablesListing } from './parsers/iptables-listing.js';
import { classifyRouterOutput, type RouterOutputProblem } from './parsers/router-errors.js';
import type { IptablesListing, LeaseEntry } from './parsers/types.js';
import { findChain, planFlush, planSetup, planTeardown, readHostCounters, DEFAULT_LAYOUT, DOWN_CHAIN, UP_CHAIN, LANTOP_COMMENT, TRAFFIC_CHAIN, type RuleLayout, type TrafficPlan } from './rules.js';

export interface RouterClientOptions {
  wan: string;
  /** Asked for explicitly (`setup --layout`); otherwise the layout on the router, else the default. */
  layout?: RuleLayout;
  /** lantop set up this router's rules: keep them in sync and repair them (issue 6, "Sync while running"). */
  isManaged: boolean;
  /** Remove rules of hosts that left (off by default: their counters are history). */
  isPruning?: boolean;
  /**
   * Probes the router again. Called once when a profile reused from an earlier run stops fitting
   * (a command answered "unknown command" / "not found"); the new profile replaces it.
   */
  redetect?: () => Promise<FirmwareProfile>;
}

/** A command answered as if it did not exist: the stored profile no longer fits this router. */
class ProfileMisfit extends Error {}

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
      return 'The router has no such command where lantop sent it. Leave --firmware out so lantop probes what the router offers, or run `lantop doctor`.';
    case 'incompatible-nft':
      return 'The chain was made by nft; remove it with nft, or use iptables-legacy.';
    case 'lock-busy':
      return 'Another program is changing the firewall; try again in a few seconds.';
    case 'unknown-command':
      return 'The router does not know this command here. Leave --firmware out so lantop probes what the router offers, or run `lantop doctor`.';
    default:
      return 'Run with --debug and report the router model and firmware version.';
  }
}

export class RouterClient implements PollPort {
  private isTaggingSupported: boolean;
  private firmwareValue: FirmwareProfile;
  private hasRedetected = false;

  constructor(
    private readonly session: Session,
    firmware: FirmwareProfile,
    private options: RouterClientOptions,
  ) {
    assertCanCount(firmware);
    this.firmwareValue = firmware;
    this.isTaggingSupported = firmware.capabilities.hasCommentMatch !== false;
  }

  /** What the router is and where each command runs (replaced after a re-detection). */
  get firmware(): FirmwareProfile {
    return this.firmwareValue;
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
    const output = await this.session.exec(spec.command, { where: spec.where });
    if (this.firmwareValue.source === 'stored' && this.options.redetect && !this.hasRedetected) {
      const problem = classifyRouterOutput(output);
      if (problem !== null && (problem.kind === 'unknown-command' || problem.kind === 'not-found')) throw new ProfileMisfit(spec.command);
    }
    return output;
  }

  /** Runs a loader; when the stored profile stopped fitting, probes again once and retries. */
  private async fitted<T>(load: () => Promise<T>): Promise<T> {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof ProfileMisfit) || !this.options.redetect) throw error;
      this.hasRedetected = true;
      const firmware = await this.options.redetect();
      assertCanCount(firmware);
      this.firmwareValue = firmware;
      this.isTaggingSupported = firmware.capabilities.hasCommentMatch !== false;
      return load();
    }
  }

  async discover(): Promise<PollHost[]> {
    return (await this.listHosts()).map((h) => ({ ip: h.ip, mac: h.mac, hostname: h.hostname }));
  }

  listHosts(): Promise<DiscoveredHost[]> {
    return this.fitted(() => this.loadHosts());
  }

  private async loadHosts(): Promise<DiscoveredHost[]> {
    const { listArp, listNames } = this.firmware.commands;
    const arpText = await this.run(listArp);
    const arp = parseArpTableReport(arpText);
    if (arp.entries.length === 0 && arpText.trim() !== '' && !/^IP address\s+HW type/im.test(arpText)) {
      // Not a neighbour table: the router's words are the error (never "0 hosts").
      throw routerAnswerError(`list its LAN hosts`, listArp, arpText);
    }
    let leases: LeaseEntry[] = [];
    if (listNames !== null) {
      // Names are a nicety (a router without a lease file still has hosts), but an error text
      // in their place is an error: it means the command is wrong for this router.
      const text = await this.run(listNames);
      const problem = classifyRouterOutput(text);
      if (problem !== null && (problem.kind === 'unknown-command' || problem.kind === 'not-found' || problem.kind === 'permission-denied' || problem.kind === 'command-failed')) {
        throw routerAnswerError('list the names of its hosts', listNames, text);
      }
      leases = listNames.parser === 'lan-hosts' ? parseLanHosts(text) : parseDhcpLeases(text);
    }
    return discoverHosts(arp.entries, leases, { wanInterfaces: [this.options.wan] });
  }

  /** Discovered hosts, each marked with whether lantop has accounting rules for it. */
  async listCountedHosts(): Promise<Array<DiscoveredHost & { isCounted: boolean }>> {
    const hosts = await this.listHosts();
    const { counters } = await this.readTraffic();
    return hosts.map((h) => ({ ...h, isCounted: counters.has(h.ip) }));
  }

  /** The whole filter table with line numbers: chains, jump and counters in one round trip. */
  readListing(): Promise<IptablesListing> {
    return this.fitted(() => this.loadListing());
  }

  private async loadListing(): Promise<IptablesListing> {
    const spec = listingSpec(this.iptables);
    const text = await this.run(spec);
    const listing = parseIptablesListing(text);
    if (listing.chains.length === 0 || findChain(listing, 'FORWARD') === undefined) {
      const problem = classifyRouterOutput(text);
      if (problem !== null) throw routerAnswerError('list its firewall', spec, text);
      throw new RouterError(`The router printed something that is not an iptables listing to \`${spec.command}\` (in ${spec.where === 'cli' ? 'the CLI' : 'the shell'}).`, 'Run `lantop doctor` and attach its transcript to a bug report; see the lines below.', { seen: sanitizeBlock(text, 160, 8) });
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
    const { iptablesRestore } = this.firmware.commands;
    const { shellLineBytes, hasShellBatch } = this.firmware.capabilities;
    // Straight to the session, not this.run: a "not found" here is applyBatch's cue to fall back
    // (no iptables-restore), not a sign that the stored profile stopped fitting.
    return applyBatch((spec) => this.session.exec(spec.command, { where: spec.where }), {
      iptables: { binary: this.iptables.binary, where: this.iptables.where },
      restore: iptablesRestore ? { command: iptablesRestore.command, where: 'shell' } : null,
      // `&&` and printf only where iptables itself runs in the shell; never joined in a vendor CLI.
      isShell: this.iptables.where === 'shell' && hasShellBatch !== false,
      ...(shellLineBytes !== null ? { maxLineBytes: shellLineBytes } : {}),
    }, commands);
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
    // Created only if the commands that create it went through. Whether that is a first install or
    // a repair after the firmware rebuilt its firewall is the domain's to say (it knows whether
    // anything was counted before), with the true missing window; no note here.
    const isChainRecreated = !reading.hasChain && outcome.applied.some((c) => c.startsWith(`${this.iptables.binary} -N ${TRAFFIC_CHAIN}`));
    if (reading.hasChain && !reading.hasJump && outcome.failed === null) notes.push("lantop's counting rules were no longer reached by forwarded traffic (the router rebuilt its firewall?): repaired");
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

/** The one listing a poll reads: the whole filter table with counters and line numbers. */
export function listingSpec(iptables: CommandSpec): CommandSpec {
  return { command: `${iptables.command} -L -v -x -n --line-numbers`, where: iptables.where };
}

/** Refuses a profile lantop cannot count with, saying what was tried. */
function assertCanCount(firmware: FirmwareProfile): void {
  if (firmware.commands.iptables !== null && !firmware.capabilities.nftOnly) return;
  if (firmware.capabilities.nftOnly) {
    throw new RouterError(
      `This router (${firmware.family}) has only nftables; lantop counts with iptables today.`,
      'nftables accounting is planned; until then install iptables-nft on the router, or use --firmware if detection was wrong.',
    );
  }
  const tried = firmware.decisions
    .filter((d) => d.what === 'iptables' || d.what === 'shell')
    .flatMap((d) => d.tried)
    .map((t) => `\`${t.command}\` in the ${t.where === 'cli' ? 'CLI' : 'shell'} → ${t.answer || '(silence)'}`);
  throw new RouterError(
    `No iptables answered on this router (${firmware.family}), so lantop cannot count here.`,
    'Check that this login is the router\'s admin/root user; `lantop doctor` shows every probe and writes a transcript for a bug report.',
    tried.length > 0 ? { seen: tried.join('\n') } : undefined,
  );
}

/** A router answer that is an error text, as an error: the command, where it ran, the router's words. */
function routerAnswerError(goal: string, spec: CommandSpec, output: string): RouterError {
  const problem = classifyRouterOutput(output);
  const where = spec.where === 'cli' ? 'the CLI' : 'the shell';
  const words = sanitizeText(problem?.line ?? output.trim().split(/\r?\n/)[0] ?? '', 200);
  return new RouterError(
    `The router could not ${goal}: \`${spec.command}\` in ${where} answered "${words}".`,
    problem ? nextStepFor(problem) : 'Leave --firmware out so lantop probes what the router offers, or run `lantop doctor`.',
    { seen: sanitizeBlock(output, 160, 6) },
  );
}
