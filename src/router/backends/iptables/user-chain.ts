// Per-user accounting over SSH sessions (issue 18, "mode users"), in iptables: one chain,
// LANTOP_USERS, jumped to from INPUT and OUTPUT (first position, or right after lantop's own
// jumps), holding two counting rules per session — no target, so every packet returns to its hook:
//   -A LANTOP_USERS -s 203.0.113.10 -p tcp -m tcp --sport 40022 --dport 22 -m comment --comment 'pid:2345 user:alice'
//   -A LANTOP_USERS -d 203.0.113.10 -p tcp -m tcp --sport 22 --dport 40022 -m comment --comment 'pid:2345 user:alice'
// The first counts the upload (client → gateway, seen in INPUT), the second the download
// (gateway → client, OUTPUT). The write-up's rules matched the client's address and port only;
// these also fix the gateway's SSH port and the protocol, so the pair is that one TCP connection:
// the client's address and port name its socket, and with the server port fixed no other connection
// of that client port (to the gateway's web server, say, after the port is reused) is counted. The
// gateway's own address is left out: the log line does not carry it, and a client socket talks to
// one gateway address at a time. A session from the gateway itself (loopback) would pass both
// hooks, so callers never ask for one (app/users-mode.ts).
//
// The comment is formatSessionTag's `pid:PID user:USER` (domain/ssh-sessions.ts), single-quoted:
// the space and a `$` a valid login name may end with stay literal. Every token is validated and
// re-printed: canonical addresses, ports 1–65535, a PID and a login name that pass their rules;
// nothing from a log line reaches a command as it was written.
//
// `iptables -L LANTOP_USERS -v -x -n --line-numbers` (1.8.9-legacy,
// fixtures/iptables/1.8.9-legacy/users-chain-*.txt) lists a rule as
//   1       12     1900            6    --  *      *       203.0.113.10         0.0.0.0/0            tcp spt:40022 dpt:22 /* pid:2345 user:alice */
// (the protocol as a number; older versions print `tcp`). A tagged rule is read back into its
// session and direction; one that does not read back (edited, another shape) is stale and goes.
import { canonicalIpv4, canonicalIpv6, type AddressFamily } from '../../../domain/address.js';
import { formatSessionTag, isPid, isPort, parseSessionTag } from '../../../domain/ssh-sessions.js';
import { canonicalLoginName } from '../../../domain/login-name.js';
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { shellWords } from './apply/iptables-words.js';
import { addressOf, findChain } from './rule-spec.js';
import { isPlainJumpTo, jumpPositions } from './router-chains.js';
import { sessionId, type SessionCounters, type SessionEndpoint } from '../users-backend.js';

export { sessionId, type SessionCounters, type SessionEndpoint };

export const USERS_CHAIN = 'LANTOP_USERS';
export const USERS_HOOKS = ['INPUT', 'OUTPUT'] as const;

export type SessionDirection = 'up' | 'down';

/** A session rule read back from a listing. */
export interface ListedSessionRule extends SessionEndpoint {
  direction: SessionDirection;
  packets: number;
  bytes: number;
  /** 1-based position in the chain. */
  num: number;
}

const PROTOCOL_TCP = new Set(['tcp', '6']);
const PORTS = /^tcp spt:(\d{1,5}) dpt:(\d{1,5})$/;

function canonicalOfFamily(text: string, family: AddressFamily): string | null {
  return family === 4 ? canonicalIpv4(text) : canonicalIpv6(text);
}

/** A session of the family with valid tokens, re-printed; null otherwise. */
function validEndpoint(s: SessionEndpoint, family: AddressFamily): SessionEndpoint | null {
  const clientIp = typeof s.clientIp === 'string' ? canonicalOfFamily(s.clientIp, family) : null;
  const user = canonicalLoginName(s.user);
  if (clientIp === null || user === null || !isPid(s.pid) || !isPort(s.clientPort)) return null;
  return { pid: s.pid, user, clientIp, clientPort: s.clientPort };
}

/** The words after `-A LANTOP_USERS` of a session's rule (the comment unquoted). */
export function sessionRuleWords(s: SessionEndpoint, direction: SessionDirection, sshPort: number, family: AddressFamily): string[] {
  const valid = validEndpoint(s, family);
  const tag = valid === null ? null : formatSessionTag(valid);
  if (valid === null || tag === null || !isPort(sshPort)) throw new TypeError('invalid session for a rule');
  const ip = valid.clientIp;
  const ports = direction === 'up' ? ['--sport', String(valid.clientPort), '--dport', String(sshPort)] : ['--sport', String(sshPort), '--dport', String(valid.clientPort)];
  return [direction === 'up' ? '-s' : '-d', ip, '-p', 'tcp', '-m', 'tcp', ...ports, '-m', 'comment', '--comment', tag];
}

/** A tagged rule of the chain as the session rule it is, or null when it is not one lantop writes. */
export function listedSessionRuleOf(rule: Rule, position: number, sshPort: number, family: AddressFamily): ListedSessionRule | null {
  if (rule.comment === null) return null;
  const tag = parseSessionTag(rule.comment);
  if (tag === null || (rule.target !== null && rule.target !== '') || !PROTOCOL_TCP.has(rule.prot)) return null;
  if (rule.opt !== '--' && rule.opt !== '' && rule.opt !== '   ') return null;
  if (rule.in !== '*' || rule.out !== '*') return null;
  const m = PORTS.exec(rule.extra.trim());
  if (m === null) return null;
  const sport = Number(m[1]);
  const dport = Number(m[2]);
  const source = addressOf(rule.source, family);
  const destination = addressOf(rule.destination, family);
  let direction: SessionDirection;
  let clientIp: string;
  let clientPort: number;
  if (typeof source === 'string' && destination === null && dport === sshPort) {
    direction = 'up';
    clientIp = source;
    clientPort = sport;
  } else if (source === null && typeof destination === 'string' && sport === sshPort) {
    direction = 'down';
    clientIp = destination;
    clientPort = dport;
  } else return null;
  if (!isPort(clientPort)) return null;
  return { ...tag, clientIp, clientPort, direction, packets: rule.pkts, bytes: rule.bytes, num: rule.num ?? position };
}

function isTagged(rule: Rule): boolean {
  return rule.comment !== null && rule.comment.startsWith('pid:');
}

/** The chain and both jumps are there (the rules in it may still be missing). */
export function isUsersChainInstalled(listing: IptablesListing): boolean {
  return findChain(listing, USERS_CHAIN) !== undefined && USERS_HOOKS.every((hook) => jumpPositions(findChain(listing, hook), USERS_CHAIN).length > 0);
}

/**
 * Each session's counters in a family's listing, by session id (`pid/ip/port`). The first rule of
 * each direction counts (a duplicate saw the same packets after it, if any reached it). Empty when
 * the chain is not there; a session listed while a jump is missing still reads (its counter stands
 * still until the jump is back).
 */
export function readSessionCounters(listing: IptablesListing, sshPort: number, family: AddressFamily = 4): Map<string, SessionCounters> {
  const out = new Map<string, SessionCounters>();
  const chain = findChain(listing, USERS_CHAIN);
  if (chain === undefined) return out;
  const seen = new Set<string>();
  for (const [i, rule] of chain.rules.entries()) {
    const listed = listedSessionRuleOf(rule, i + 1, sshPort, family);
    if (listed === null) continue;
    const id = sessionId(listed);
    if (seen.has(`${id}|${listed.direction}`)) continue;
    seen.add(`${id}|${listed.direction}`);
    const entry = out.get(id) ?? { id, pid: listed.pid, user: listed.user, clientIp: listed.clientIp, clientPort: listed.clientPort, downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0, isComplete: false };
    if (entry.user !== listed.user) continue; // the same endpoint and PID tagged for two users: the first stands
    if (listed.direction === 'up') {
      entry.upBytes = listed.bytes;
      entry.upPackets = listed.packets;
    } else {
      entry.downBytes = listed.bytes;
      entry.downPackets = listed.packets;
    }
    entry.isComplete = seen.has(`${id}|up`) && seen.has(`${id}|down`);
    out.set(id, entry);
  }
  return out;
}

export interface UserChainPlanOptions {
  /** The family's binary (`iptables`, `ip6tables`). */
  iptables: string;
  family: AddressFamily;
  /** The gateway's SSH port the sessions came in on (default 22). */
  sshPort: number;
  /** Exactly these sessions get rules ([] with `remove`: none, the chain and jumps go). */
  sessions: readonly SessionEndpoint[];
  /** Take the chain and its jumps out when no session is wanted (teardown); default: keep them. */
  remove?: boolean;
}

export interface UserChainPlan {
  /** argv of each command, the binary first; the comment as one word (quoted by shellLine). */
  commands: string[][];
  /** Sessions whose rules are added / removed by this plan. */
  added: SessionEndpoint[];
  removed: SessionEndpoint[];
  /** Rules in the chain lantop did not write (they stay). */
  foreignRules: Rule[];
  notes: string[];
}

/** A plan command as one shell line, each word quoted only where needed (the comment always is). */
export function shellLine(argv: readonly string[]): string {
  return shellWords(argv);
}

const isLantopJump = (rule: Rule) => rule.target !== null && /^(?:TRAFFIC|LANTOP_)/.test(rule.target) && isPlainJumpTo(rule, rule.target);

/** The jump at `position` has only lantop's own jumps before it. */
function isEarlyEnough(hookChain: Chain | undefined, position: number): boolean {
  const rules = hookChain?.rules ?? [];
  for (let i = 0; i < position - 1; i++) if (!isLantopJump(rules[i]!)) return false;
  return true;
}

function insertPosition(hookChain: Chain | undefined): number {
  const rules = hookChain?.rules ?? [];
  let n = 0;
  while (n < rules.length && isLantopJump(rules[n]!) && rules[n]!.target !== USERS_CHAIN) n++;
  return n + 1;
}

/**
 * The commands that leave exactly `sessions` counted in a family's table: the chain created when
 * absent; rules of sessions no longer wanted, stale and duplicate tagged rules deleted by line
 * number (highest first); missing rules appended; one plain jump early in INPUT and in OUTPUT.
 * A second plan on the listing after this one is empty.
 */
export function planUserChain(listing: IptablesListing, options: UserChainPlanOptions): UserChainPlan {
  const { iptables: ipt, family, sshPort } = options;
  const plan: UserChainPlan = { commands: [], added: [], removed: [], foreignRules: [], notes: [] };
  const wanted = new Map<string, SessionEndpoint>();
  for (const s of options.sessions) {
    const valid = validEndpoint(s, family);
    if (valid !== null) wanted.set(sessionId(valid), valid);
  }
  const existing = findChain(listing, USERS_CHAIN);
  const isRemoving = options.remove === true && wanted.size === 0;
  const foreign = existing?.rules.filter((r) => !isTagged(r)) ?? [];
  plan.foreignRules.push(...foreign);
  if (isRemoving) {
    if (existing === undefined && USERS_HOOKS.every((h) => jumpPositions(findChain(listing, h), USERS_CHAIN).length === 0)) return plan;
    for (const hook of USERS_HOOKS) for (const _ of jumpPositions(findChain(listing, hook), USERS_CHAIN)) plan.commands.push([ipt, '-D', hook, '-j', USERS_CHAIN]);
    if (existing !== undefined) {
      const sessions = readSessionCounters(listing, sshPort, family);
      plan.removed.push(...[...sessions.values()].map(({ pid, user, clientIp, clientPort }) => ({ pid, user, clientIp, clientPort })));
      if (foreign.length === 0) plan.commands.push([ipt, '-F', USERS_CHAIN], [ipt, '-X', USERS_CHAIN]);
      else {
        const ours = existing.rules.flatMap((r, i) => (isTagged(r) ? [r.num ?? i + 1] : []));
        for (const n of ours.sort((a, b) => b - a)) plan.commands.push([ipt, '-D', USERS_CHAIN, String(n)]);
        plan.notes.push(`${USERS_CHAIN} stays: it holds ${foreign.length} rule(s) lantop did not write`);
      }
    }
    return plan;
  }
  const present = new Set<string>();
  if (existing === undefined) plan.commands.push([ipt, '-N', USERS_CHAIN]);
  else {
    const stale: number[] = [];
    const gone = new Map<string, SessionEndpoint>();
    for (const [i, rule] of existing.rules.entries()) {
      if (!isTagged(rule)) continue;
      const listed = listedSessionRuleOf(rule, i + 1, sshPort, family);
      const key = listed === null ? null : `${sessionId(listed)}|${listed.direction}`;
      const want = listed === null ? undefined : wanted.get(sessionId(listed));
      if (listed !== null && want !== undefined && want.user === listed.user && !present.has(key!)) {
        present.add(key!);
        continue;
      }
      if (listed !== null && want === undefined) gone.set(sessionId(listed), { pid: listed.pid, user: listed.user, clientIp: listed.clientIp, clientPort: listed.clientPort });
      stale.push(rule.num ?? i + 1);
    }
    plan.removed.push(...gone.values());
    for (const n of stale.sort((a, b) => b - a)) plan.commands.push([ipt, '-D', USERS_CHAIN, String(n)]);
  }
  for (const [id, s] of wanted) {
    let isNew = false;
    for (const direction of ['up', 'down'] as const) {
      if (present.has(`${id}|${direction}`)) continue;
      plan.commands.push([ipt, '-A', USERS_CHAIN, ...sessionRuleWords(s, direction, sshPort, family)]);
      isNew = true;
    }
    if (isNew) plan.added.push(s);
  }
  for (const hook of USERS_HOOKS) {
    const hookChain = findChain(listing, hook);
    const positions = jumpPositions(hookChain, USERS_CHAIN);
    const first = positions[0];
    if (first !== undefined && isEarlyEnough(hookChain, first) && positions.length === 1) continue;
    const at = first !== undefined && isEarlyEnough(hookChain, first) ? first : insertPosition(hookChain);
    for (const _ of positions) plan.commands.push([ipt, '-D', hook, '-j', USERS_CHAIN]);
    plan.commands.push([ipt, '-I', hook, String(at), '-j', USERS_CHAIN]);
    if (existing !== undefined) plan.notes.push(first === undefined ? `the ${hook} jump to ${USERS_CHAIN} was missing: put back` : `the ${hook} jump to ${USERS_CHAIN} moved to position ${at}`);
  }
  return plan;
}

/** `teardown`: every session rule, both jumps and (when nothing else is in it) the chain. */
export function planUserChainRemoval(listing: IptablesListing, iptables: string, family: AddressFamily = 4, sshPort = 22): UserChainPlan {
  return planUserChain(listing, { iptables, family, sshPort, sessions: [], remove: true });
}
