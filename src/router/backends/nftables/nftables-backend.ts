// The nftables accounting backend (issue 15): lantop's own `table inet lantop` (layouts.ts), every
// counter read with one `nft -j list table inet lantop` (or `nft -a list table inet lantop` where nft
// has no JSON), plans applied as one `nft -f -` transaction (apply.ts).
import { RouterError, UsageError } from '../../../errors.js';
import { sanitizeBlock } from '../../../sanitize.js';
import { canonicalAddress, addressFamily } from '../../../domain/address.js';
import type { CounterPair } from '../../../domain/accounting.js';
import type { CommandSpec, FirmwareProfile } from '../../firmware/families.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../firmware/line-budget.js';
import { classifyRouterOutput } from '../../parsers/router-errors.js';
import { canonicalInterfaceName } from '../../tokens.js';
import { routerAnswerError, whereName } from '../../router-answer.js';
import type { AccountingBackend, ApplyOutcome, BackendReading, InstallOptions, InstallPlan, RunCommand } from '../backend.js';
import { applyNftScript } from './apply.js';
import { findChain, findSet, findTable, type NftListing, type NftTable } from './nft-model.js';
import { isNftJson, parseNftJson } from './parse-json.js';
import { parseNftText } from './parse-text.js';
import { CREATE_TABLE, planNftFlush, planNftInstall, planNftRemove, validHostAddresses } from './plan.js';
import {
  DEFAULT_NFT_LAYOUT, DOWN_CHAIN, FORWARD_CHAIN, LAYOUT_DESCRIPTIONS, ROUTER_CHAINS, SET_SLOTS, TABLE, TABLE_FAMILY, TABLE_NAME, UP_CHAIN,
  installationOf, isLayoutComplete, isRouterChainAsDeclared, layoutOfTable, readCounters, readRouterCounters, type NftLayout,
  CLASS_CHAIN, installedClasses, isClassChainAsDeclared, readClassCounters,
} from './layouts.js';
import { classKey, type TrafficClass } from '../../../domain/traffic-class.js';
import type { CustomCounter } from '../../../domain/custom-counter.js';
import type { CustomCounterReading } from '../backend.js';
import type { NftChain } from './nft-model.js';
import { COUNTER_NFT_CHAIN_NAMES, planNftCustomCounters, readCounterChains, readNftCustomCounters } from './counter-rules.js';

export interface NftReading extends BackendReading {
  /** lantop's table as listed; null: it does not exist. */
  table: NftTable | null;
  /** The layout the table is in (complete, or suggested by its objects); null: none. */
  layout: NftLayout | null;
  /** router_in/router_out's counters (IPv4 and IPv6 in one inet rule); null: not in place. */
  routerCounters: CounterPair | null;
  isRouterCounterMissing: boolean;
  /** The classes chain's counters per class key (IPv4 and IPv6 in one inet rule). */
  classCounters: Map<string, CounterPair>;
  installedClasses: TrafficClass[];
  /**
   * The custom counters' chains (issue 18), read from the same answer by counter-rules.ts (parse-json.ts
   * renders only `==` matches); null: the table does not exist.
   */
  counterChains: NftChain[] | null;
}

export interface NftablesBackendOptions {
  wan: string;
  /** Asked for explicitly (`setup --layout`); otherwise the layout on the router, else the default. */
  layout?: NftLayout;
}

/**
 * nft's answer to `list table` of a table that does not exist (nft 1.0.6:
 * fixtures/nftables/1.0.6/missing-list*.txt; under `-f` it is prefixed `/dev/stdin:1:17-22: `,
 * and older versions say "Could not process rule: No such file or directory").
 */
const MISSING_TABLE = /^(?:\S+:\d+:[\d-]+: )?Error: (?:Could not process rule: )?No such file or directory\s*$/m;
/** nft built without libjansson (OpenWrt's nftables-nojson): src/main.c. */
const NO_JSON = /JSON support not compiled-in/;

export class NftablesBackend implements AccountingBackend<NftReading> {
  readonly kind = 'nftables' as const;
  readonly names = { indefinite: `an nftables table ${TABLE}`, definite: `the nftables table ${TABLE}` };
  private readonly wan: string;
  private readonly nft: CommandSpec;
  private isJson: boolean;
  /** Set by fallBackAfter: the kernel refused the sets, so the rules layout is used from now on. */
  private fallbackLayout: NftLayout | null = null;
  private lastLayout: NftLayout | null = null;
  /** The classes the last read or plan saw (describe() names them); null: not known yet. */
  private lastClasses: TrafficClass[] | null = null;

  constructor(
    private readonly firmware: FirmwareProfile,
    private readonly options: NftablesBackendOptions,
  ) {
    const nft = firmware.commands.nft;
    if (nft === null) throw new UsageError(`This router (${firmware.family}) has no nft: the nftables backend cannot count here.`, 'Leave --backend out, or run `lantop doctor` to see what the router offers.');
    if (!/^[A-Za-z0-9_./-]{1,200}$/.test(nft.command)) throw new RouterError(`The nft command of this profile is not a plain program path: ${sanitizeBlock(nft.command, 80, 1)}`, 'Run `lantop doctor` and report it.');
    const wan = canonicalInterfaceName(options.wan);
    if (wan === null) throw new UsageError('The WAN interface name is not a valid interface name.', 'Pass --wan with the interface that faces the internet, e.g. --wan pppoe-wan.');
    this.wan = wan;
    this.nft = nft;
    this.isJson = firmware.capabilities.hasNftJson !== false;
  }

  /** `nft -j list table inet lantop`; without JSON the text listing with rule handles (`-a`). */
  get readCommand(): CommandSpec {
    return { command: `${this.nft.command} ${this.isJson ? '-j' : '-a'} list table ${TABLE}`, where: this.nft.where };
  }

  private layoutFor(reading: NftReading | null): NftLayout {
    return this.fallbackLayout ?? this.options.layout ?? reading?.layout ?? DEFAULT_NFT_LAYOUT;
  }

  describe(): string {
    const layout = this.lastLayout ?? this.layoutFor(null);
    return `nftables (${this.nft.command} in ${whereName(this.nft)}), table ${TABLE} hooked on forward after the firewall (priority filter + 10), ${layout}: ${LAYOUT_DESCRIPTIONS[layout]}; the router's own WAN traffic counted in chains ${ROUTER_CHAINS.map((c) => `${c.name} (hook ${c.hook})`).join(' and ')}, before the firewall (priority filter - 10); traffic classes (setup --ports/--protocols) in chain ${CLASS_CHAIN} (hook forward, priority filter + 10), two counting rules per class${this.lastClasses === null ? '' : this.lastClasses.length === 0 ? ', none now' : `, now ${this.lastClasses.map(classKey).join(', ')}`}; custom counters (lantop counter add) in chains ${COUNTER_NFT_CHAIN_NAMES.join(', ')} (hooks input, output, forward, priority filter - 10), tagged by id; read with \`${this.readCommand.command}\`, changed in one \`nft -f -\` transaction`;
  }

  read(text: string): NftReading {
    const answer = typeof text === 'string' ? text : '';
    if (NO_JSON.test(answer)) {
      // The profile said JSON (or did not know): read text from the next poll on.
      this.isJson = false;
      throw new RouterError(`nft on this router was built without JSON output (\`${this.nft.command} -j\` answered "JSON support not compiled-in").`, 'Nothing to do: lantop reads the text listing from the next poll on.', { seen: sanitizeBlock(answer, 160, 4) });
    }
    if (MISSING_TABLE.test(answer) && !/^table /m.test(answer)) {
      this.lastClasses = [];
      return { counters: new Map(), installation: 'missing', table: null, layout: null, routerCounters: null, isRouterCounterMissing: false, classCounters: new Map(), installedClasses: [], counterChains: null };
    }
    const isJson = isNftJson(answer);
    const listing: NftListing = isJson ? parseNftJson(answer) : parseNftText(answer);
    const table = findTable(listing, TABLE_FAMILY, TABLE_NAME);
    if (table === null && !(isJson && listing.tables.length === 0)) throw this.notAListing(answer);
    const installation = installationOf(table, this.wan);
    const routerCounters = readRouterCounters(table, this.wan);
    const classes = installedClasses(table, this.wan);
    this.lastClasses = classes;
    return {
      counters: readCounters(table), installation, table, layout: layoutOfTable(table, this.wan), routerCounters, isRouterCounterMissing: installation === 'complete' && routerCounters === null,
      classCounters: readClassCounters(table, this.wan), installedClasses: classes,
      counterChains: table === null ? null : readCounterChains(answer),
    };
  }

  private notAListing(text: string): RouterError {
    const spec = this.readCommand;
    if (classifyRouterOutput(text) !== null || /\bError: /.test(text)) return routerAnswerError(`list lantop's nftables table`, spec, text);
    return new RouterError(`The router printed something that is not an nft listing of table ${TABLE} to \`${spec.command}\` (in ${whereName(spec)}).`, 'Run `lantop doctor` and attach its transcript to a bug report; see the lines below.', { seen: sanitizeBlock(text, 160, 8) });
  }

  planInstall(reading: NftReading, hostAddresses: readonly string[], options: InstallOptions): InstallPlan {
    const layout = this.layoutFor(reading);
    this.lastLayout = layout;
    const plan = planNftInstall(reading.table, hostAddresses, { wan: this.wan, layout, isPruning: options.isPruning, classes: options.classes ?? null });
    if (options.classes !== undefined && options.classes !== null) this.lastClasses = [...options.classes];
    // Custom counters (issue 18) after the table's own plan, which creates the table when absent.
    const counters = options.counters === undefined || options.counters === null ? null : planNftCustomCounters(reading.table === null ? null : reading.counterChains, options.counters);
    return {
      commands: [...plan.commands, ...(counters?.commands ?? [])],
      foreign: [...plan.foreign, ...(counters?.foreign ?? [])],
      rejectedHosts: plan.rejectedHosts,
      notes: [...plan.notes, ...(counters?.notes ?? [])],
      caveat: layout === 'dynamic-sets' ? 'hosts appear on their first forwarded packet' : null,
    };
  }

  /** Custom counters (issue 18): counts by name; in place when a plan of them alone sends nothing. */
  readCustomCounters(reading: NftReading, counters: readonly CustomCounter[]): CustomCounterReading {
    const chains = reading.table === null ? null : reading.counterChains;
    return { counts: readNftCustomCounters(chains, counters), isInPlace: planNftCustomCounters(chains, counters).commands.length === 0 };
  }

  planFlush(reading: NftReading): string[] {
    return planNftFlush(reading.table);
  }

  planRemove(reading: NftReading): string[] {
    return planNftRemove(reading.table);
  }

  apply(run: RunCommand, commands: readonly string[]): Promise<ApplyOutcome> {
    const { shellLineBytes, hasShellBatch } = this.firmware.capabilities;
    return applyNftScript(run, { nft: this.nft.command, maxLineBytes: shellLineBytes ?? DEFAULT_MAX_LINE_BYTES, isShell: this.nft.where === 'shell' && hasShellBatch !== false }, commands);
  }

  isFreshInstall(before: NftReading, applied: readonly string[]): boolean {
    // The table was created now: every counter in it starts at 0.
    return before.installation === 'missing' && applied.includes(CREATE_TABLE);
  }

  countedBy(applied: readonly string[], addresses: readonly string[]): string[] {
    const { addresses: valid } = validHostAddresses(addresses);
    const words = new Set<string>();
    const dynamicFamilies = new Set<number>();
    for (const command of applied) {
      for (const word of command.split(' ')) words.add(word);
      // A dynamic set's update rule counts every address of its family from the next packet on.
      const m = / update @[du]l([46]) /.exec(command);
      if (m) dynamicFamilies.add(Number(m[1]));
    }
    const counted = new Set(valid.filter((a) => words.has(a) || dynamicFamilies.has(addressFamily(a) ?? 0)));
    return addresses.filter((a) => {
      const c = canonicalAddress(a);
      return c !== null && counted.has(c);
    });
  }

  describeInstallation(reading: NftReading): string[] {
    const { table } = reading;
    if (table === null) return [`not in place: table ${TABLE} (nothing is counted, and forwarding is untouched)`];
    const layout = reading.layout ?? this.layoutFor(reading);
    const lines = [`in place: table ${TABLE}${reading.layout !== null ? ` (${reading.layout})` : ''}${isLayoutComplete(table, layout, this.wan) ? ', complete' : ', incomplete'}`];
    const forward = findChain(table, FORWARD_CHAIN);
    lines.push(forward !== null ? `in place: chain ${FORWARD_CHAIN} with ${forward.rules.length} rule(s)` : `not in place: chain ${FORWARD_CHAIN} (nothing is counted, and forwarding is untouched)`);
    if (layout === 'rules') {
      for (const name of [DOWN_CHAIN, UP_CHAIN]) {
        const chain = findChain(table, name);
        lines.push(chain !== null ? `in place: chain ${name} with ${chain.rules.length} rule(s)` : `not in place: chain ${name}`);
      }
    } else {
      for (const slot of SET_SLOTS) {
        const set = findSet(table, slot.name);
        lines.push(set !== null ? `in place: set ${slot.name} with ${set.elements.length} element(s)` : `not in place: set ${slot.name}`);
      }
    }
    if (readRouterCounters(table, this.wan) !== null) lines.push(`in place: the router's own WAN counters (chains ${ROUTER_CHAINS.map((c) => c.name).join(', ')})`);
    else {
      const parts = ROUTER_CHAINS.map((slot) => {
        const chain = findChain(table, slot.name);
        return `${slot.name} ${chain === null ? 'absent' : !isRouterChainAsDeclared(chain, slot) ? 'hooked otherwise' : 'without its counter for this WAN'}`;
      });
      lines.push(`not in place: the router's own WAN counters (${parts.join(', ')}; hosts are counted without them, the next sync adds them)`);
    }
    const classChain = findChain(table, CLASS_CHAIN);
    if (classChain !== null) {
      const classes = installedClasses(table, this.wan).map(classKey);
      const what = classes.length === 0 ? 'no class' : `class(es) ${classes.join(', ')}`;
      lines.push(isClassChainAsDeclared(classChain) ? `in place: traffic classes in chain ${CLASS_CHAIN}, counting ${what}` : `not in place: chain ${CLASS_CHAIN} is not hooked as lantop hooks it (${what}; the next sync or setup re-creates it)`);
    }
    return lines;
  }

  /**
   * A kernel without counters in sets (set-level `counter` needs ≥ 5.7; `update` with a counter
   * needs dynamic-set expressions) refuses the set layouts with "Operation not supported" or
   * "Invalid argument": then the rules layout, which every nftables kernel has, is used.
   */
  fallBackAfter(failed: NonNullable<ApplyOutcome['failed']>): string | null {
    const layout = this.lastLayout ?? this.layoutFor(null);
    if (layout === 'rules' || this.fallbackLayout !== null) return null;
    const isSetCommand = / (?:set|element) inet lantop /.test(failed.command) || / update @| @[du]l[46]\b/.test(failed.command);
    if (!isSetCommand || !/Operation not supported|Invalid argument|not supported/i.test(failed.output)) return null;
    this.fallbackLayout = 'rules';
    return `the router's kernel refused the ${layout} layout (${sanitizeBlock(failed.output.split('\n')[0] ?? '', 120, 1).trim()}): lantop counts with one rule per host instead`;
  }
}
