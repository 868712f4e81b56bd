// Loaders (after lazygit's): build a command from the firmware table, run it through the one
// Session, hand the text to a pure parser. Counting goes through the accounting backend chosen for
// this router (backends/backend.ts): this file never names a chain or a table. This is the only
// place that decides *what* to send; transport/ decides *how*.
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { isModalSession, type Session } from '../transport/session.js';
import type { CounterPair, PollHost } from '../domain/accounting.js';
import type { PollPort, SyncOutcome, TrafficReading } from '../domain/poller.js';
import type { CommandSpec, FirmwareProfile } from './firmware/families.js';
import { discoverHosts, type DiscoveredHost } from './discovery.js';
import { parseArpTableReport } from './parsers/arp-table.js';
import { parseIpv6NeighboursReport } from './parsers/ipv6-neighbours.js';
import { parseLanHosts } from './parsers/lan-hosts.js';
import { parseDhcpLeases } from './parsers/dhcp-leases.js';
import { classifyRouterOutput } from './parsers/router-errors.js';
import type { Ipv6NeighbourEntry, LeaseEntry } from './parsers/types.js';
import { routerAnswerError } from './router-answer.js';
import type { AccountingBackend, ApplyOutcome, BackendKind, BackendReading, InstallPlan } from './backends/backend.js';
import { chooseBackend, type ChooseBackendOptions } from './backends/choose-backend.js';
import type { RuleLayout } from './backends/iptables/layouts.js';
import type { NftLayout } from './backends/nftables/layouts.js';
import type { BlockEntry, BlockTarget } from './backends/block.js';
import { BlockLoader, type BlockOutcome, type ExpiryOutcome } from './block-loader.js';
import { parseWanAnswer } from './wan-commands.js';
import { readWithWan } from './wan-read.js';
import { ConnectionsLoader } from './connections-loader.js';
import { runOffloadProbes } from './offload-probes.js';
import type { WanSample } from '../domain/wan-model.js';
import type { OffloadReport } from '../domain/offload-model.js';
import type { TrafficClass } from '../domain/traffic-class.js';
import { CustomCounterTracker } from './custom-counter-tracker.js';

export type { ApplyOutcome } from './backends/backend.js';

export interface RouterClientOptions {
  wan: string;
  /** Asked for explicitly (`setup --layout`); otherwise the layout on the router, else the default. */
  layout?: RuleLayout;
  /** The same for the nftables backend (`dynamic-sets`, `static-sets`, `rules`). */
  nftLayout?: NftLayout;
  /** `--backend`: count with this one where several exist; otherwise chosen from the capabilities. */
  backend?: BackendKind;
  /** lantop set up this router's rules: keep them in sync and repair them (issue 6, "Sync while running"). */
  isManaged: boolean;
  /** Remove rules of hosts that left (off by default: their counters are history). */
  isPruning?: boolean;
  /**
   * Read the WAN interface's own counters with every poll (issue 19: reconciliation), in the same
   * round trip where the read runs in the shell. Off by default (tests that script the exact read).
   */
  readsWan?: boolean;
  /**
   * Probes the router again. Called once when a profile reused from an earlier run stops fitting
   * (a command answered "unknown command" / "not found"); the new profile replaces it.
   */
  redetect?: () => Promise<FirmwareProfile>;
}

/** A command answered as if it did not exist: the stored profile no longer fits this router. */
class ProfileMisfit extends Error {}

const NO_CLASSES: ReadonlyMap<string, CounterPair> = new Map();
const NO_CHANGE: SyncOutcome = { newAddresses: [], isReinstalled: false, notes: [] };

export class RouterClient implements PollPort {
  private firmwareValue: FirmwareProfile;
  private backendValue: AccountingBackend;
  private hasRedetected = false;
  /** The last reading readTraffic returned: sync plans from it instead of reading again. */
  private lastReading: BackendReading | null = null;
  private discoveryNotesValue: string[] = [];
  /** The WAN interface's counters at the last read (issue 19); null: not read or not readable. */
  private wanSampleValue: WanSample | null = null;
  private offloadValue: OffloadReport | null = null;
  private hasTriedRouterCounters = false;
  readonly customCounters = new CustomCounterTracker(); // issue 18: where they come from (setSource), what the last read found (lastRead)
  /** Blocking (issue 16), with the firewall that counts here. */
  private readonly blocks: BlockLoader;
  /** The connection table (issue 19: drill-down). */
  readonly connections: ConnectionsLoader;

  constructor(
    private readonly session: Session,
    firmware: FirmwareProfile,
    private options: RouterClientOptions,
  ) {
    this.backendValue = chooseBackend(firmware, this.backendOptions(options));
    this.firmwareValue = firmware;
    this.blocks = new BlockLoader(session, () => this.firmwareValue, () => this.backendValue.kind);
    this.connections = new ConnectionsLoader(session, () => this.hasShell(), Date.now, () => this.firmwareValue.capabilities.shellLineBytes);
  }

  private backendOptions(options: RouterClientOptions): ChooseBackendOptions {
    return { wan: options.wan, ...(options.layout ? { layout: options.layout } : {}), ...(options.nftLayout ? { nftLayout: options.nftLayout } : {}), ...(options.backend ? { backend: options.backend } : {}) };
  }

  /** What the router is and where each command runs (replaced after a re-detection). */
  get firmware(): FirmwareProfile {
    return this.firmwareValue;
  }

  /** How this router counts (its own words for dry-run and doctor). */
  get backend(): AccountingBackend {
    return this.backendValue;
  }

  get wan(): string {
    return this.options.wan;
  }

  /** The WAN interface's counters as the last read saw them; null when not read (see readsWan). */
  get lastWanSample(): WanSample | null {
    return this.wanSampleValue;
  }

  /** The router's own traffic on the WAN at the last read (backend counters); null: not counted. */
  get lastRouterCounters(): CounterPair | null {
    return this.lastReading?.routerCounters ?? null;
  }

  /** What probeOffload() found (null before it ran). */
  get offload(): OffloadReport | null {
    return this.offloadValue;
  }

  /** Looks for fast paths that skip the counters (issue 19): read-only probes; no shell, an empty report. */
  async probeOffload(nowMs: number = Date.now()): Promise<OffloadReport> {
    const exec = this.hasShell() ? (line: string) => this.session.exec(line, { where: 'shell' }) : null;
    this.offloadValue = await runOffloadProbes(exec, this.firmwareValue.capabilities.shellLineBytes, nowMs);
    return this.offloadValue;
  }

  /** The router has a POSIX shell lantop can reach (the login lands in one, or the CLI has a route). */
  hasShell(): boolean {
    if (this.firmwareValue.commands.shellRoute !== null) return true;
    return (isModalSession(this.session) ? this.session.loginMode : this.session.mode) === 'shell';
  }

  /** What the last discovery could not read, in words (display-safe), e.g. no IPv6 neighbour table. */
  get discoveryNotes(): readonly string[] {
    return this.discoveryNotesValue;
  }

  /** Whether poll-time sync may add and repair rules: on after setup, off after flush/teardown. */
  setManaged(isManaged: boolean): void {
    this.options = { ...this.options, isManaged };
  }

  /** Runs a command where the firmware table says it belongs (vendor CLI or shell). */
  async run(spec: CommandSpec): Promise<string> {
    const output = await this.session.exec(spec.command, { where: spec.where });
    this.checkFit(spec, output);
    return output;
  }

  /** Throws ProfileMisfit when a stored profile's command was answered as if it did not exist. */
  private checkFit(spec: CommandSpec, output: string): void {
    if (this.firmwareValue.source === 'stored' && this.options.redetect && !this.hasRedetected) {
      const problem = classifyRouterOutput(output);
      if (problem !== null && (problem.kind === 'unknown-command' || problem.kind === 'not-found')) throw new ProfileMisfit(spec.command);
    }
  }

  /** Runs a loader; when the stored profile stopped fitting, probes again once and retries. */
  private async fitted<T>(load: () => Promise<T>): Promise<T> {
    try {
      return await load();
    } catch (error) {
      if (!(error instanceof ProfileMisfit) || !this.options.redetect) throw error;
      this.hasRedetected = true;
      const firmware = await this.options.redetect();
      this.backendValue = chooseBackend(firmware, this.backendOptions(this.options));
      this.firmwareValue = firmware;
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
    const { listArp, listNames, listNeighbours6 } = this.firmware.commands;
    const notes: string[] = [];
    const arpText = await this.run(listArp);
    const arp = parseArpTableReport(arpText);
    if (arp.entries.length === 0 && arpText.trim() !== '' && !/^IP address\s+HW type/im.test(arpText)) {
      // Not a neighbour table: the router's words are the error (never "0 hosts").
      throw routerAnswerError(`list its LAN hosts`, listArp, arpText);
    }
    // The IPv6 table right after ARP when it runs in the same place (no CLI/shell move between them).
    const isBesideArp = listNeighbours6 !== null && listNeighbours6.where === listArp.where;
    let neighbours6: Ipv6NeighbourEntry[] = isBesideArp ? await this.loadNeighbours6(listNeighbours6, notes) : [];
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
    if (listNeighbours6 !== null && !isBesideArp) neighbours6 = await this.loadNeighbours6(listNeighbours6, notes);
    this.discoveryNotesValue = notes;
    return discoverHosts(arp.entries, leases, { wanInterfaces: [this.options.wan] }, neighbours6);
  }

  /**
   * The IPv6 neighbour table. IPv6 is optional: an error answer ("ip: not found", an IPv6-less
   * kernel's words) means no IPv6 neighbours and a note, never a failed discovery — and, sent
   * straight to the session, never a reason to probe a stored profile again.
   */
  private async loadNeighbours6(spec: CommandSpec, notes: string[]): Promise<Ipv6NeighbourEntry[]> {
    const text = await this.session.exec(spec.command, { where: spec.where });
    const report = parseIpv6NeighboursReport(text);
    if (report.entries.length === 0 && (report.skipped.length > 0 || classifyRouterOutput(text) !== null)) {
      notes.push(`no IPv6 neighbours: \`${spec.command}\` answered "${sanitizeText(text.trim().split('\n')[0] ?? '', 120)}"`);
      return [];
    }
    return report.entries;
  }

  /** Discovered hosts, each marked with whether lantop counts it. */
  async listCountedHosts(): Promise<Array<DiscoveredHost & { isCounted: boolean }>> {
    const hosts = await this.listHosts();
    const { counters } = await this.readTraffic();
    return hosts.map((h) => ({ ...h, isCounted: counters.has(h.ip) }));
  }

  /** Every counter in one round trip, as the backend reads it. */
  readTraffic(): Promise<TrafficReading> {
    return this.read();
  }

  private read(): Promise<BackendReading> {
    return this.fitted(async () => {
      const spec = this.backend.readCommand;
      // Parsed while it arrives where the backend and the session can (issue 21).
      const incremental = this.backend.readIncrementally?.() ?? null;
      // The WAN counters (issue 19) ride on the shell line of the read where they can.
      const wan = this.options.readsWan === true && this.hasShell() ? this.options.wan : null;
      const { text, wanText } = await readWithWan(this.session, spec, this.backend.readFollowUp ?? null, incremental, wan);
      if (wan !== null) this.wanSampleValue = wanText === null ? null : parseWanAnswer(wanText, wan, Date.now());
      let reading: BackendReading;
      try {
        reading = incremental ? incremental.finish(text) : this.backend.read(text);
      } catch (error) {
        // Only an answer the backend could not read may be a misfit: classifying every listing
        // line by line cost 0.6 ms per poll at 253 hosts (issue 21).
        this.checkFit(spec, text);
        throw error;
      }
      this.lastReading = reading;
      this.customCounters.afterRead(this.backend, reading);
      return reading;
    });
  }

  /** `classes`: the traffic classes to count (issue 19: setup --ports/--protocols); absent: keep those installed. */
  async planSetup(isAdopting = false, classes?: readonly TrafficClass[]): Promise<{ plan: InstallPlan; hosts: DiscoveredHost[] }> {
    const hosts = await this.listHosts();
    const reading = await this.read();
    return { plan: this.planFor(reading, hosts, isAdopting, classes), hosts };
  }

  private planFor(reading: BackendReading, hosts: readonly { ip: string }[], isAdopting: boolean, classes?: readonly TrafficClass[]): InstallPlan {
    return this.backend.planInstall(reading, hosts.map((h) => h.ip), { isAdopting, isPruning: this.options.isPruning ?? false, ...(classes !== undefined ? { classes } : {}), ...this.customCounters.installOption() });
  }

  /** The traffic classes' counters at the last read (issue 19), cumulative; empty: none installed. */
  get lastClassCounters(): ReadonlyMap<string, CounterPair> {
    return this.lastReading?.classCounters ?? NO_CLASSES;
  }

  /** The traffic classes installed on the router at the last read. */
  get lastInstalledClasses(): readonly TrafficClass[] {
    return this.lastReading?.installedClasses ?? [];
  }

  async planFlush(): Promise<string[]> {
    return this.backend.planFlush(await this.read());
  }

  async planTeardown(): Promise<string[]> {
    return this.backend.planRemove(await this.read());
  }

  /**
   * Sends commands in order, stopping at the first the router refuses. Output is judged by its
   * text (telnet merges stderr, and vendor CLIs print no exit status).
   */
  apply(commands: readonly string[]): Promise<ApplyOutcome> {
    // Straight to the session, not this.run: a "not found" here is the backend's cue to fall back
    // (e.g. no iptables-restore), not a sign that the stored profile stopped fitting.
    return this.backend.apply((spec) => this.session.exec(spec.command, { where: spec.where }), commands);
  }

  /**
   * setup: plan, apply, read back and verify. A router that lacks an optional feature the backend
   * uses (iptables: the comment match) is set up without it, and recognised by shape from then on.
   */
  async setup(options: { isAdopting?: boolean; classes?: readonly TrafficClass[] } = {}): Promise<ApplyOutcome & { plan: InstallPlan }> {
    const isAdopting = options.isAdopting === true;
    const classes = options.classes;
    let { plan, hosts } = await this.planSetup(isAdopting, classes);
    if (plan.foreign.length > 0 && !isAdopting) {
      throw new UsageError(
        `The router already has ${this.backend.names.indefinite} with ${plan.foreign.length} rule(s) lantop did not write.`,
        'Look at them with `lantop setup --dry-run`; then run `lantop setup --adopt` to take it over, or remove them yourself.',
      );
    }
    let outcome = await this.apply(plan.commands);
    const notes: string[] = [];
    const fallback = outcome.failed !== null ? this.backend.fallBackAfter(outcome.failed) : null;
    if (fallback !== null) {
      notes.push(fallback);
      plan = this.planFor(await this.read(), hosts, true, classes);
      outcome = await this.apply(plan.commands);
    }
    if (outcome.failed !== null) return { ...outcome, plan, notes: [...notes, ...this.backend.describeInstallation(await this.read())] };
    const verify = this.planFor(await this.read(), hosts, isAdopting, classes);
    return { ...outcome, plan, isVerified: verify.commands.length === 0, notes };
  }

  /** Poll-time sync: counters for new hosts; an installation the firmware dropped is put back. */
  async sync(hosts: PollHost[], reading: TrafficReading): Promise<SyncOutcome> {
    if (!this.options.isManaged) return NO_CHANGE;
    const addresses = hosts.map((h) => h.ip);
    const missing = addresses.filter((ip) => !reading.counters.has(ip));
    // The router's own counters (issue 19) are added to a complete installation once per session:
    // a router that refuses them keeps counting its hosts without a repair attempt every poll.
    const addsRouterCounters = (reading as BackendReading).isRouterCounterMissing === true && !this.hasTriedRouterCounters;
    const fixesCounters = this.customCounters.takeRepair(reading as BackendReading); // issue 18: not as the database has them
    if (reading.installation === 'complete' && missing.length === 0 && !addsRouterCounters && !fixesCounters) return NO_CHANGE;
    if (addsRouterCounters) this.hasTriedRouterCounters = true;
    const before = reading === this.lastReading ? this.lastReading : await this.read();
    const plan = this.planFor(before, hosts, false);
    if (plan.foreign.length > 0 || plan.commands.length === 0) return NO_CHANGE;
    const outcome = await this.apply(plan.commands);
    const notes: string[] = [];
    // Whether a fresh install is a first install or a repair after the firmware rebuilt its
    // firewall is the domain's to say (it knows whether anything was counted before), with the
    // true missing window; no note here.
    const isReinstalled = this.backend.isFreshInstall(before, outcome.applied);
    if (before.installation === 'incomplete' && outcome.failed === null) notes.push("lantop's counting rules were no longer reached by forwarded traffic (the router rebuilt its firewall?): repaired");
    if (missing.length > 0) notes.push(`now counting ${missing.length} new host(s)`);
    if (outcome.failed !== null) notes.push(`could not add rules: ${sanitizeText(outcome.failed.output, 160)}`);
    const counted = this.backend.countedBy(outcome.applied, isReinstalled ? addresses : missing);
    return { newAddresses: counted, isReinstalled, notes };
  }

  /** Blocks a device's forwarded traffic until target.untilMs (check domain/never-block.ts first). */
  block(target: BlockTarget, nowMs: number = Date.now()): Promise<BlockOutcome> {
    return this.blocks.block(target, nowMs);
  }

  /** Lifts the blocks of one identity, or every block. */
  unblock(which: string | 'all', nowMs: number = Date.now()): Promise<BlockOutcome> {
    return this.blocks.unblock(which, nowMs);
  }

  /** The blocks on the router, expired ones included until removed. */
  async listBlocks(nowMs: number = Date.now()): Promise<BlockEntry[]> {
    return (await this.blocks.read(nowMs)).entries;
  }

  /**
   * Removes blocks whose expiry has passed (the kernel stopped them; their objects stay until now)
   * and returns them as `removed`, with the blocks left as `entries`: one read when none expired.
   */
  removeExpiredBlocks(nowMs: number = Date.now()): Promise<ExpiryOutcome> {
    return this.blocks.removeExpired(nowMs);
  }

  /** teardown: the commands that remove every block object (empty when there are none). */
  planBlockTeardown(nowMs: number = Date.now()): Promise<string[]> {
    return this.blocks.planTeardown(nowMs);
  }

  applyBlockTeardown(commands: readonly string[]): Promise<ApplyOutcome> {
    return this.blocks.applyTeardown(commands);
  }

  /** The router's own addresses and MACs (never blocked), read-only. */
  routerOwnAddresses(): ReturnType<BlockLoader['ownAddresses']> {
    return this.blocks.ownAddresses();
  }

  /** How this router blocks, in words. */
  describeBlocking(): string {
    return this.blocks.backend.describe();
  }
}
