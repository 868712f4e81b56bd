// The drill-down's loader (issue 19): one device's connections from the router's connection table,
// filtered on the router (conntrack-commands.ts), plus the accounting switch, read-only unless the
// user consented to turn accounting on. Reverse-DNS names come from the router's resolver, a few
// per read and cached, and never hold up a read for long: a resolver that does not answer quickly
// is not asked again in this session.
import { RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { Session } from '../transport/session.js';
import type { ConntrackEntry } from '../domain/connection-model.js';
import {
  ACCOUNTING_SWITCH_COMMAND, ENABLE_ACCOUNTING_COMMAND, connectionTableCommands, mergeConnectionTableAnswers, parseAccountingSwitch,
  parseConnectionTableAnswer, parseReverseLookup, reverseLookupCommand,
} from './conntrack-commands.js';
import { parseConntrack } from './parsers/conntrack.js';
import { classifyRouterOutput } from './parsers/router-errors.js';

export interface ConnectionTableRead {
  atMs: number;
  /** "/proc/net/nf_conntrack", "/proc/net/ip_conntrack" or "conntrack -L". */
  source: string;
  entries: ConntrackEntry[];
  accounting: 'on' | 'off' | 'unknown';
  /** Display-safe. */
  notes: string[];
}

/** Names asked per read, at most; the rest wait for later reads. */
const LOOKUPS_PER_READ = 2;
/** A lookup slower than this turns lookups off for the session (they share the one session with polls). */
const SLOW_LOOKUP_MS = 1500;
const NAME_CACHE_LIMIT = 2048;

export class ConnectionsLoader {
  private readonly names = new Map<string, string | null>();
  private areLookupsOn = true;
  /** nf_conntrack_acct as last read (undefined: not read yet; null: unreadable). */
  private switchValue: boolean | null | undefined = undefined;

  constructor(
    private readonly session: Pick<Session, 'exec'>,
    private readonly hasShell: () => boolean,
    private readonly now: () => number = Date.now,
    /** The router shell's line budget (FirmwareCapabilities.shellLineBytes); null: unknown. */
    private readonly lineBytes: () => number | null = () => null,
  ) {}

  /** The connection table's entries of these addresses. RouterError when the router has no readable table. */
  async read(addresses: readonly string[]): Promise<ConnectionTableRead> {
    if (!this.hasShell()) {
      throw new RouterError("This router's CLI offers no shell, so lantop cannot read its connection table.", 'Per-device totals still work; the drill-down needs a router with a shell (BusyBox, OpenWrt, DD-WRT).');
    }
    if (addresses.length === 0) throw new RouterError('The device has no address on the router now, so it has no connections to show.', 'Wait until it is back on the LAN (`lantop hosts` lists what the router sees).');
    const answers = [];
    let commands: string[];
    try {
      commands = connectionTableCommands(addresses, this.lineBytes() ?? undefined);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      commands = []; // lines too short for the filtered read: the whole table below
    }
    for (const command of commands) answers.push(parseConnectionTableAnswer(await this.session.exec(command, { where: 'shell' })));
    let merged = mergeConnectionTableAnswers(answers);
    // A shell too small for the filtered read (no `if`/`case`/subshells: the marker came back
    // unexpanded or not at all) still has `cat`: the whole table, filtered here instead.
    if (!merged.hasTable && !answers.some((a) => a.source === null && a.isComplete)) merged = await this.readWholeTable() ?? merged;
    const atMs = this.now();
    if (!merged.hasTable || merged.source === null) {
      throw new RouterError(
        'The router has no readable connection table: neither /proc/net/nf_conntrack nor /proc/net/ip_conntrack can be read, and there is no `conntrack` tool.',
        'Its kernel may be built without CONFIG_NF_CONNTRACK_PROCFS, or the login user may not read the file; log in as root, or install conntrack-tools.',
      );
    }
    const notes: string[] = [];
    if (!merged.isComplete) notes.push('the listing was cut short: some connections may be missing');
    const refused = merged.report.skipped.find((line) => /^conntrack v/.test(line.trim()) && /error|denied|not permitted/i.test(line));
    if (refused !== undefined) notes.push(`conntrack said: ${sanitizeText(refused.trim(), 120)}`);
    // The switch is read once and again only when the table contradicts it (someone changed it):
    // the Connections screen reads every 2 s, and the switch seldom changes.
    const hasAccounting = merged.report.hasAccounting;
    if (this.switchValue === undefined || (this.switchValue === true && hasAccounting === false) || (this.switchValue === false && hasAccounting === true)) {
      this.switchValue = parseAccountingSwitch(await this.session.exec(ACCOUNTING_SWITCH_COMMAND, { where: 'shell' }));
    }
    const switchValue = this.switchValue;
    // The switch is the truth where it can be read; without it, whether any entry carries bytes.
    const accounting = switchValue === true ? 'on' : switchValue === false ? 'off' : merged.report.hasAccounting === true ? 'on' : merged.report.hasAccounting === false ? 'off' : 'unknown';
    if (switchValue === true && merged.report.hasAccounting === false) notes.push('connection accounting is on, but these connections were opened before it was: only newer ones carry bytes');
    return { atMs, source: merged.source, entries: merged.report.entries, accounting, notes };
  }

  /** `cat` of each table file in turn: the first that reads as a connection table. */
  private async readWholeTable(): Promise<ReturnType<typeof mergeConnectionTableAnswers> | null> {
    for (const [path, format] of [['/proc/net/nf_conntrack', 'nf_conntrack'], ['/proc/net/ip_conntrack', 'ip_conntrack']] as const) {
      const text = await this.session.exec(`cat ${path}`, { where: 'shell' });
      const report = parseConntrack(text, format);
      const isTable = report.entries.length > 0 || text.trim() === '';
      if (isTable && classifyRouterOutput(text) === null) return { source: path, hasTable: true, isComplete: true, report };
    }
    return null;
  }

  /** Turns connection accounting on (with the user's consent); true when the switch then reads on. */
  async enableAccounting(): Promise<{ isDone: boolean; message: string }> {
    if (!this.hasShell()) return { isDone: false, message: "this router's CLI offers no shell to change it from" };
    const said = await this.session.exec(ENABLE_ACCOUNTING_COMMAND, { where: 'shell' });
    const now = parseAccountingSwitch(await this.session.exec(ACCOUNTING_SWITCH_COMMAND, { where: 'shell' }));
    this.switchValue = now;
    if (now === true) return { isDone: true, message: `connection accounting is on (\`${ENABLE_ACCOUNTING_COMMAND}\`): connections opened from now on carry bytes; it lasts until the router restarts` };
    const why = sanitizeText(said.trim().split('\n')[0] ?? '', 120);
    return { isDone: false, message: `the router did not turn it on${why ? `: ${why}` : ''} (log in as root?)` };
  }

  /** The cached reverse-DNS name of an address (undefined: not asked yet; null: none). */
  nameOf(address: string): string | null | undefined {
    return this.names.get(address);
  }

  /** Asks the router's resolver for a few of these remotes' names (most important first); cached. */
  async lookUp(addresses: readonly string[]): Promise<void> {
    if (!this.areLookupsOn) return;
    let asked = 0;
    for (const address of addresses) {
      if (asked >= LOOKUPS_PER_READ || !this.areLookupsOn) break;
      if (this.names.has(address)) continue;
      asked += 1;
      const startedMs = this.now();
      let name: string | null = null;
      try {
        name = parseReverseLookup(await this.session.exec(reverseLookupCommand(address), { where: 'shell' }), address);
      } catch {
        name = null;
      }
      if (this.names.size >= NAME_CACHE_LIMIT) this.names.clear();
      this.names.set(address, name);
      if (this.now() - startedMs > SLOW_LOOKUP_MS) this.areLookupsOn = false;
    }
  }
}
