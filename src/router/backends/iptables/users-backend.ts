// Users mode's iptables backend (issue 18): the LANTOP_USERS chain of each family (user-chain.ts)
// listed in the poll with INPUT and OUTPUT, planned per family, and sent as `&&` shell lines that
// report how many of their commands ran (the shell-batch markers of apply/).
import { RouterError } from '../../../errors.js';
import { sanitizeText } from '../../../sanitize.js';
import { parseIptablesListing } from '../../parsers/iptables-listing.js';
import type { IptablesListing } from '../../parsers/types.js';
import type { RunCommand } from '../backend.js';
import type { SessionCounters, SessionEndpoint, UsersBackend, UsersListingPart, UsersPlan, UsersReading, UsersSendOutcome } from '../users-backend.js';
import { deliverShellBatch, type ShellBatchLine } from './apply/shell-batch.js';
import { marker } from './apply/markers.js';
import { planUserChain, readSessionCounters, shellLine, USERS_CHAIN } from './user-chain.js';

export interface UsersTool {
  /** What lists (`iptables`, or a path). */
  command: string;
  /** What the rules name (the plan's first word). */
  binary: string;
}

export interface IptablesUsersReading extends UsersReading {
  listing4: IptablesListing;
  listing6: IptablesListing | null;
}

const PLAIN_COMMAND = /^[A-Za-z0-9_./-]{1,200}$/;

function listingCommand(command: string): string {
  return `${command} -L INPUT -v -x -n --line-numbers 2>&1; ${command} -L OUTPUT -v -x -n --line-numbers 2>&1; ${command} -L ${USERS_CHAIN} -v -x -n --line-numbers 2>/dev/null`;
}

/** Plan commands as `&&` shell lines of at most `maxLineBytes`, each reporting its count (`a<N>`). */
export function usersShellLines(nonce: string, commands: readonly string[][], maxLineBytes: number): ShellBatchLine[] {
  const lines: ShellBatchLine[] = [];
  const tail = `;${marker(nonce, 'a${_L}')}`;
  let body = '';
  let batch: string[] = [];
  for (const argv of commands) {
    const text = shellLine(argv);
    const next = `${body}${batch.length === 0 ? '' : '&&'}${text}&&_L=${batch.length + 1}`;
    if (batch.length > 0 && 5 + next.length + tail.length > maxLineBytes) {
      lines.push({ line: `_L=0;${body}${tail}`, commands: batch });
      body = `${text}&&_L=1`;
      batch = [text];
    } else {
      body = next;
      batch.push(text);
    }
  }
  if (batch.length > 0) lines.push({ line: `_L=0;${body}${tail}`, commands: batch });
  return lines;
}

export class IptablesUsersBackend implements UsersBackend<IptablesUsersReading> {
  readonly kind = 'iptables' as const;
  readonly where = `${USERS_CHAIN} (from INPUT and OUTPUT)`;

  constructor(private readonly options: { iptables: UsersTool; ip6tables: UsersTool | null; sshPort: number }) {
    for (const tool of [options.iptables, options.ip6tables]) {
      if (tool !== null && (!PLAIN_COMMAND.test(tool.command) || !PLAIN_COMMAND.test(tool.binary))) throw new TypeError('iptables: a plain command');
    }
  }

  listingParts(): UsersListingPart[] {
    const parts = [{ section: 'ipt4', command: listingCommand(this.options.iptables.command) }];
    if (this.options.ip6tables !== null) parts.push({ section: 'ipt6', command: listingCommand(this.options.ip6tables.command) });
    return parts;
  }

  read(sections: ReadonlyMap<string, string>): IptablesUsersReading {
    const text4 = sections.get('ipt4') ?? '';
    const listing4 = parseIptablesListing(text4);
    const text6 = this.options.ip6tables === null ? null : sections.get('ipt6') ?? '';
    const listing6 = text6 === null ? null : parseIptablesListing(text6);
    if (!listing4.chains.some((c) => c.name === 'INPUT')) throw new RouterError('iptables did not list its INPUT chain on the gateway.', 'Users mode needs root (or sudo) and iptables on the gateway.', { seen: sanitizeText(text4, 400) });
    const counters: Map<string, SessionCounters> = readSessionCounters(listing4, this.options.sshPort, 4);
    if (listing6 !== null) for (const [id, c] of readSessionCounters(listing6, this.options.sshPort, 6)) counters.set(id, c);
    return { counters, listing4, listing6 };
  }

  plan(reading: IptablesUsersReading, sessions: readonly SessionEndpoint[]): UsersPlan {
    const { options } = this;
    const plans = [planUserChain(reading.listing4, { iptables: options.iptables.binary, family: 4, sshPort: options.sshPort, sessions: sessions.filter((s) => !s.clientIp.includes(':')) })];
    const notes: string[] = [];
    if (reading.listing6 !== null && options.ip6tables !== null) plans.push(planUserChain(reading.listing6, { iptables: options.ip6tables.binary, family: 6, sshPort: options.sshPort, sessions: sessions.filter((s) => s.clientIp.includes(':')) }));
    else if (sessions.some((s) => s.clientIp.includes(':'))) notes.push('IPv6 sessions are not counted: the gateway has no ip6tables');
    return { commands: plans.flatMap((p) => p.commands), added: plans.flatMap((p) => p.added), removed: plans.flatMap((p) => p.removed), notes: [...plans.flatMap((p) => p.notes), ...notes] };
  }

  async planRemoval(run: (command: string) => Promise<string>): Promise<UsersPlan> {
    const { options } = this;
    const plan: UsersPlan = { commands: [], added: [], removed: [], notes: [] };
    for (const [tool, family] of [[options.iptables, 4], [options.ip6tables, 6]] as const) {
      if (tool === null) continue;
      const p = planUserChain(parseIptablesListing(await run(listingCommand(tool.command))), { iptables: tool.binary, family, sshPort: options.sshPort, sessions: [], remove: true });
      plan.commands.push(...p.commands);
      plan.removed.push(...p.removed);
      plan.notes.push(...p.notes);
    }
    return plan;
  }

  async send(run: RunCommand, commands: readonly string[][], options: { nonce: string; maxLineBytes: number }): Promise<UsersSendOutcome> {
    if (commands.length === 0) return { applied: [], failed: null };
    const outcome = await deliverShellBatch(run, usersShellLines(options.nonce, commands, options.maxLineBytes), options.nonce);
    return { applied: outcome.applied, failed: outcome.failed === null ? null : { command: outcome.failed.command, output: outcome.failed.output } };
  }
}
