// Deny over quota, the gateway side (issue 18): the users-mode BlockPort. A "block" of `user:NAME`
// is a line in sshd's DenyUsers (domain/sshd-deny.ts, router/sshd-deny-commands.ts): new logins of
// that user are refused while the sessions already open go on — unless `endSessions`, which ends
// the user's running sessions too (their sshd processes, as the users poller tracks them). The
// deny's expiry is written beside it on the gateway, so it is read back by any lantop, and lifted
// by the quota enforcer's expiry check (every minute), `lantop --mode users block --list`, or by
// hand (`unblock NAME`, `unblock --all`: the drop-in or block is gone, sshd_config as before).
//
// A change that `sshd -t` refuses is rolled back on the gateway and thrown as a RouterError; so is
// a change sshd could not be reloaded for (it is in place and valid, but applies only at sshd's next
// reload). The enforcer turns a throw into a notice; the CLI into an error with what sshd said.
import { randomBytes } from 'node:crypto';
import { RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { denyLines, denyRefusal, parseDenyLines, splitExpired, withDeny, type DenyEntry } from '../domain/sshd-deny.js';
import { USER_IDENTITY_PREFIX } from '../domain/user-usage.js';
import type { HostUsage } from '../domain/snapshot.js';
import type { BlockEntry, BlockTarget } from '../router/backends/block.js';
import { denyReadCommand, denyWriteCommand, parseDenyRead, parseDenyWrite, type DenyState } from '../router/sshd-deny-commands.js';
import type { BlockGuard, BlockPort, DeviceFacts } from './quota-blocking.js';

export interface SshdDenyPortOptions {
  /** Runs one command in the gateway's shell and resolves with its output. */
  run(command: string): Promise<string>;
  /** End a denied user's running sessions too (setting denyEndSessions). */
  endSessions?: boolean;
  /** The sshd pids of a user's live sessions (the users poller's tracker). */
  sessionPidsOf?(user: string): number[];
}

/** `user:NAME` → NAME (null for anything else). */
export function userOfIdentity(identity: string): string | null {
  return identity.startsWith(USER_IDENTITY_PREFIX) ? identity.slice(USER_IDENTITY_PREFIX.length) : null;
}

function entryOf(e: DenyEntry, nowMs: number): BlockEntry {
  return { identity: `${USER_IDENTITY_PREFIX}${e.user}`, mac: null, addresses: [], untilMs: e.untilMs, isExpired: e.untilMs <= nowMs };
}

export class SshdDenyPort implements BlockPort {
  private readonly nonce = randomBytes(6).toString('hex');
  private selfUser: string | null | undefined;
  /** What the last write said (the CLI prints it): which sessions were ended. */
  lastEndedPids: number[] = [];

  constructor(private readonly options: SshdDenyPortOptions) {}

  /** The gateway's deny state now; throws a RouterError when the answer cannot be read. */
  async state(): Promise<DenyState & { entries: DenyEntry[]; notes: string[] }> {
    const answer = await this.options.run(denyReadCommand(this.nonce));
    const state = parseDenyRead(answer, this.nonce);
    if (state === null) throw new RouterError('The gateway did not answer the read of its sshd deny state in full.', 'Try again; if it repeats, run `lantop doctor`.');
    this.selfUser = state.selfUser;
    const parsed = parseDenyLines(state.text);
    return { ...state, ...parsed };
  }

  /** The user the gateway's shell runs as (read once). */
  async self(): Promise<string | null> {
    if (this.selfUser === undefined) await this.state();
    return this.selfUser ?? null;
  }

  /** The deny entries now (expired ones included, marked). */
  async list(nowMs: number): Promise<BlockEntry[]> {
    return (await this.state()).entries.map((e) => entryOf(e, nowMs));
  }

  private async write(state: DenyState, entries: readonly DenyEntry[], endUsers: readonly string[]): Promise<number[]> {
    if (state.problem !== null) throw new RouterError(state.problem);
    if (state.sshd === null) throw new RouterError('The gateway has no sshd lantop can find (not on PATH, not /usr/sbin/sshd): it cannot validate a deny with `sshd -t`, so it changes nothing.', 'Deny over quota needs OpenSSH\'s sshd on the gateway.');
    const endPids = this.options.endSessions === true ? endUsers.flatMap((user) => (this.options.sessionPidsOf?.(user) ?? []).map((pid) => ({ pid, user }))) : [];
    const answer = await this.options.run(denyWriteCommand(this.nonce, state, denyLines(entries), endPids));
    const outcome = parseDenyWrite(answer, this.nonce);
    const where = state.place === 'drop-in' ? 'its drop-in' : 'its block in sshd_config';
    if (outcome.kind === 'invalid') throw new RouterError(`sshd -t refused the new config, so lantop put the previous one back and did not reload sshd: ${sanitizeText(outcome.output, 300)}`, 'Check the gateway\'s sshd_config with `sshd -t`.');
    if (outcome.kind === 'not-reloaded') throw new RouterError(`lantop wrote ${where} (sshd -t passed) but could not reload sshd: ${sanitizeText(outcome.output, 300)}`, 'It applies when sshd is next reloaded or restarted; reload it by hand (e.g. `systemctl reload ssh`).');
    if (outcome.kind === 'unknown') throw new RouterError(`The gateway's answer to the deny change was cut off: ${sanitizeText(outcome.output, 200)}`, 'Run `lantop --mode users block --list` to see what is in place.');
    this.lastEndedPids = outcome.endedPids;
    return outcome.endedPids;
  }

  async block(target: BlockTarget, nowMs: number): Promise<{ entries: BlockEntry[]; notes: string[] }> {
    const user = userOfIdentity(target.identity);
    if (user === null) throw new RouterError(`Users mode denies users, not ${sanitizeText(target.identity, 40)}.`);
    const refusal = denyRefusal(user, await this.self());
    if (refusal !== null) throw new RouterError(refusal);
    const state = await this.state();
    const entries = withDeny(state.entries, { user, untilMs: target.untilMs, sinceMs: nowMs });
    const ended = await this.write(state, entries, [user]);
    const notes = [...state.notes];
    if (ended.length > 0) notes.push(`ended ${ended.length} running session(s) of ${user}`);
    else if (this.options.endSessions !== true) notes.push(`${user}'s running sessions go on (setting denyEndSessions ends them); new logins are refused`);
    return { entries: entries.map((e) => entryOf(e, nowMs)), notes };
  }

  async unblock(which: string | 'all', nowMs: number): Promise<{ entries: BlockEntry[]; notes: string[] }> {
    const state = await this.state();
    const user = which === 'all' ? null : userOfIdentity(which);
    if (which !== 'all' && user === null) throw new RouterError(`Users mode lifts users' denies, not ${sanitizeText(which, 40)}.`);
    const left = user === null ? [] : state.entries.filter((e) => e.user !== user);
    // Nothing of lantop's to take out (and no stale copy): no change, no reload.
    const isNoChange = user === null ? state.text.trim() === '' : left.length === state.entries.length;
    if (isNoChange && state.stale === null) return { entries: left.map((e) => entryOf(e, nowMs)), notes: state.notes };
    await this.write(state, left, []);
    return { entries: left.map((e) => entryOf(e, nowMs)), notes: state.notes };
  }

  async removeExpiredBlocks(nowMs: number): Promise<{ entries: BlockEntry[]; notes: string[]; removed: BlockEntry[] }> {
    const state = await this.state();
    const { left, expired } = splitExpired(state.entries, nowMs);
    if (expired.length > 0) await this.write(state, left, []);
    return { entries: left.map((e) => entryOf(e, nowMs)), notes: state.notes, removed: expired.map((e) => entryOf(e, nowMs)) };
  }

  /** Users mode blocks no addresses: nothing of the gateway's own to spare. */
  async routerOwnAddresses(): Promise<{ addresses: string[]; macs: string[]; notes: string[] }> {
    return { addresses: [], macs: [], notes: [] };
  }
}

/** Who users mode may deny: a user identity, not lantop's own login user, not root (domain/sshd-deny.ts). */
export class UserDenyGuard implements BlockGuard {
  constructor(private readonly port: Pick<SshdDenyPort, 'self'>) {}

  async refusal(device: DeviceFacts, _hosts: readonly HostUsage[]): Promise<string | null> {
    const user = userOfIdentity(device.identity);
    if (user === null) return `Users mode denies users, not ${sanitizeText(device.identity, 40)}.`;
    let self: string | null;
    try {
      self = await this.port.self();
    } catch (error) {
      return `could not read who lantop logs in as, so nobody is denied: ${sanitizeText(error instanceof Error ? error.message : String(error), 200)}`;
    }
    const refusal = denyRefusal(user, self);
    return refusal === null ? null : sanitizeText(refusal, 300);
  }
}
