// Users mode's nftables backend (issue 18): `table inet lantop_users` (user-rules.ts) listed with
// rule handles in the poll, planned as nft script lines, and sent as `nft -f -` transactions — one
// per shell line, each line's script printed by `printf '%s\n' 'LINE' …` (every line single-quoted
// for the shell, checked against the planner's grammar first) and its status echoed after a marker:
//   printf '%s\n' 'add rule inet lantop_users users_in ip saddr …' …|nft -f - 2>&1;echo "__LT""ST_<nonce>_r$?__"
// A plan longer than one shell line goes in several transactions, in order, stopping at the first
// refusal; the next poll's listing shows what is in place and plans the rest.
import { RouterError } from '../../../errors.js';
import { sanitizeText } from '../../../sanitize.js';
import type { RunCommand } from '../backend.js';
import { marker, NONCE_PATTERN, readMarker, withoutMarker } from '../iptables/apply/markers.js';
import { shellQuote, shellWords } from '../iptables/apply/iptables-words.js';
import type { SessionEndpoint, UsersBackend, UsersListingPart, UsersPlan, UsersReading, UsersSendOutcome } from '../users-backend.js';
import { failedNftLine } from './apply.js';
import type { NftTable } from './nft-model.js';
import { isNftUsersScriptLine, planNftUserRules, planNftUsersRemoval, readNftSessionCounters, readUsersTable, USERS_NFT_CHAINS, USERS_TABLE } from './user-rules.js';

export interface NftUsersReading extends UsersReading {
  /** The table as listed; null: not there (the plan creates it). */
  table: NftTable | null;
}

const PLAIN_COMMAND = /^[A-Za-z0-9_./-]{1,200}$/;

export class NftUsersBackend implements UsersBackend<NftUsersReading> {
  readonly kind = 'nftables' as const;
  readonly where = `the nftables table ${USERS_TABLE} (chains ${USERS_NFT_CHAINS.input} on input, ${USERS_NFT_CHAINS.output} on output)`;

  constructor(private readonly options: { nft: string; sshPort: number }) {
    if (!PLAIN_COMMAND.test(options.nft)) throw new TypeError('nft: a plain command');
  }

  private get listingCommand(): string {
    return `${this.options.nft} -a list table ${USERS_TABLE} 2>&1`;
  }

  listingParts(): UsersListingPart[] {
    return [{ section: 'nft', command: this.listingCommand }];
  }

  private tableOf(text: string): NftTable | null {
    const read = readUsersTable(text);
    if (read.kind === 'unreadable') throw new RouterError(`nft did not list the table ${USERS_TABLE} on the gateway.`, 'Users mode needs root (or sudo) and nft on the gateway; run with --trace FILE to see what it answered.', { seen: sanitizeText(text, 400) });
    return read.kind === 'table' ? read.table : null;
  }

  read(sections: ReadonlyMap<string, string>): NftUsersReading {
    const table = this.tableOf(sections.get('nft') ?? '');
    return { table, counters: readNftSessionCounters(table, this.options.sshPort) };
  }

  plan(reading: NftUsersReading, sessions: readonly SessionEndpoint[]): UsersPlan {
    const { lines, plan } = planNftUserRules(reading.table, sessions, this.options.sshPort);
    if (reading.table === null && lines.length > 0) plan.notes.unshift(`creating the nftables table ${USERS_TABLE}`);
    return { ...plan, commands: lines.map((l) => [this.options.nft, l]) };
  }

  async planRemoval(run: (command: string) => Promise<string>): Promise<UsersPlan> {
    const { lines, removed } = planNftUsersRemoval(this.tableOf(await run(this.listingCommand)), this.options.sshPort);
    return { commands: lines.map((l) => [this.options.nft, l]), added: [], removed, notes: [] };
  }

  async send(run: RunCommand, commands: readonly string[][], options: { nonce: string; maxLineBytes: number }): Promise<UsersSendOutcome> {
    if (commands.length === 0) return { applied: [], failed: null };
    const bad = commands.find((argv) => argv.length !== 2 || argv[0] !== this.options.nft || !isNftUsersScriptLine(argv[1]!));
    if (bad !== undefined || !NONCE_PATTERN.test(options.nonce)) return { applied: [], failed: { command: shellWords(bad ?? []), output: 'not a command lantop writes: nothing was sent' } };
    const applied: string[] = [];
    for (const batch of nftUsersShellLines(this.options.nft, commands.map((c) => c[1]!), options)) {
      const output = await run({ command: batch.line, where: 'shell' });
      const status = readMarker(output, options.nonce, 'r');
      if (status === '0') {
        applied.push(...batch.lines.map((l) => shellWords([this.options.nft, l])));
        continue;
      }
      const said = withoutMarker(output, options.nonce);
      const at = failedNftLine(said);
      const line = at !== null && at >= 1 && at <= batch.lines.length ? batch.lines[at - 1]! : batch.lines[0]!;
      return { applied, failed: { command: shellWords([this.options.nft, line]), output: status === null ? `no answer from nft: ${said}` : said } };
    }
    return { applied, failed: null };
  }
}

/** Script lines → shell lines of at most `maxLineBytes`, each one `nft -f -` transaction. */
export function nftUsersShellLines(nft: string, lines: readonly string[], options: { nonce: string; maxLineBytes: number }): Array<{ line: string; lines: string[] }> {
  const tail = `|${nft} -f - 2>&1;${marker(options.nonce, 'r$?')}`;
  const head = `printf '%s\\n'`;
  const out: Array<{ line: string; lines: string[] }> = [];
  let body = '';
  let batch: string[] = [];
  for (const l of lines) {
    const word = ` ${shellQuote(l)}`;
    if (batch.length > 0 && head.length + body.length + word.length + tail.length > options.maxLineBytes) {
      out.push({ line: head + body + tail, lines: batch });
      body = '';
      batch = [];
    }
    body += word;
    batch.push(l);
  }
  if (batch.length > 0) out.push({ line: head + body + tail, lines: batch });
  return out;
}
