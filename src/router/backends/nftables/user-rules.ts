// Per-user accounting over SSH sessions (issue 18, "mode users") in nftables: lantop's own
// `table inet lantop_users` — apart from the devices table `inet lantop` (layouts.ts), so that
// `teardown --mode users` deletes the whole table and nothing of devices mode — with two base chains,
// users_in (hook input) and users_out (hook output), at `filter - 10` with policy accept: before the
// firewall's chains (ROUTER_PRIORITY in layouts.ts says why before), counting only. Two rules per
// session, both families in the one inet table (as nft 1.0.6 lists them, `nft -a list table inet
// lantop_users`, fixtures/linux-auth/nft-users/list-a.txt; the counters after some traffic):
//   ip saddr 203.0.113.10 tcp sport 40022 tcp dport 22 counter packets 12 bytes 1900 comment "pid:2345 user:alice" # handle 3
//   ip daddr 203.0.113.10 tcp sport 22 tcp dport 40022 counter packets 9 bytes 2400 comment "pid:2345 user:alice" # handle 4
//   ip6 saddr 2001:db8::10 tcp sport 50123 tcp dport 22 counter packets 0 bytes 0 comment "pid:4242 user:_-odd-name$" # handle 5
// The first (users_in) counts the upload, the second (users_out) the download: the same pair as the
// iptables backend (iptables/user-chain.ts), which says why the ports and protocol are fixed.
//
// The comment is formatSessionTag's `pid:PID user:USER` in nft's double quotes: a valid tag has no
// `"` or `\` (login names are `[a-z0-9_-]`, a `$` at the end; nft reads `$` literally inside a
// string — measured with nft 1.0.6), and every word of a rule is re-printed by lantop from
// validated values. The text listing is read (not `-j`: the same on nftables-nojson builds) with
// parse-text.ts; a rule is lantop's when its comment is a session tag, and stale when its text is
// not the one lantop would write for that tag in that chain: deleted by handle, written again.
import { canonicalIpv4, canonicalIpv6 } from '../../../domain/address.js';
import { formatSessionTag, isPid, isPort, parseSessionTag } from '../../../domain/ssh-sessions.js';
import { canonicalLoginName } from '../../../domain/login-name.js';
import { sessionId, type SessionCounters, type SessionEndpoint, type UsersPlan } from '../users-backend.js';
import type { NftChain, NftRule, NftTable } from './nft-model.js';
import { findTable } from './nft-model.js';
import { parseNftText } from './parse-text.js';

export const USERS_TABLE_FAMILY = 'inet';
export const USERS_TABLE_NAME = 'lantop_users';
export const USERS_TABLE = `${USERS_TABLE_FAMILY} ${USERS_TABLE_NAME}`;
export type UsersHook = 'input' | 'output';
export const USERS_NFT_CHAINS: Readonly<Record<UsersHook, string>> = { input: 'users_in', output: 'users_out' };
const HOOKS: readonly UsersHook[] = ['input', 'output'];
/** `filter - 10`, as the router and counter chains of the devices table. */
export const USERS_PRIORITY = -10;

export function usersChainDeclaration(hook: UsersHook): string {
  return `{ type filter hook ${hook} priority filter - ${-USERS_PRIORITY}; policy accept; }`;
}

/** nft's answer to listing a table that is not there (nft 1.0.6; older: "Could not process rule: …"). */
const MISSING_TABLE = /^(?:\S+:\d+:[\d-]+: )?Error: (?:Could not process rule: )?No such file or directory\s*$/m;

export type UsersTableRead =
  | { kind: 'table'; table: NftTable }
  | { kind: 'missing' }
  | { kind: 'unreadable' };

/** `nft -a list table inet lantop_users` → the table, `missing`, or `unreadable` (not nft's listing). */
export function readUsersTable(text: string): UsersTableRead {
  const answer = typeof text === 'string' ? text : '';
  const table = findTable(parseNftText(answer), USERS_TABLE_FAMILY, USERS_TABLE_NAME);
  if (table !== null) return { kind: 'table', table };
  return MISSING_TABLE.test(answer) ? { kind: 'missing' } : { kind: 'unreadable' };
}

/** A session of the family its address says, tokens re-printed; null when any is invalid. */
function validEndpoint(s: SessionEndpoint): SessionEndpoint | null {
  const ip = typeof s.clientIp !== 'string' ? null : s.clientIp.includes(':') ? canonicalIpv6(s.clientIp) : canonicalIpv4(s.clientIp);
  const user = canonicalLoginName(s.user);
  if (ip === null || user === null || !isPid(s.pid) || !isPort(s.clientPort)) return null;
  return { pid: s.pid, user, clientIp: ip, clientPort: s.clientPort };
}

/** The rule's match as nft lists it (`counter` without values, no comment), for that hook. */
export function sessionRuleNorm(s: SessionEndpoint, hook: UsersHook, sshPort: number): string {
  const valid = validEndpoint(s);
  if (valid === null || !isPort(sshPort)) throw new TypeError('invalid session for a rule');
  const family = valid.clientIp.includes(':') ? 'ip6' : 'ip';
  return hook === 'input'
    ? `${family} saddr ${valid.clientIp} tcp sport ${valid.clientPort} tcp dport ${sshPort} counter`
    : `${family} daddr ${valid.clientIp} tcp sport ${sshPort} tcp dport ${valid.clientPort} counter`;
}

const SAFE_TAG = /^pid:[1-9][0-9]{0,6} user:[a-z_][a-z0-9_-]{0,31}\$?$/;

/** `add rule inet lantop_users CHAIN … comment "pid:P user:U"`: one nft script line. */
export function sessionRuleLine(s: SessionEndpoint, hook: UsersHook, sshPort: number): string {
  const norm = sessionRuleNorm(s, hook, sshPort);
  const tag = formatSessionTag(s);
  if (tag === null || !SAFE_TAG.test(tag)) throw new TypeError('invalid session tag');
  return `add rule ${USERS_TABLE} ${USERS_NFT_CHAINS[hook]} ${norm} comment "${tag}"`;
}

const RULE = /^(ip6?) (saddr|daddr) (\S{1,45}) tcp sport ([0-9]{1,5}) tcp dport ([0-9]{1,5}) counter$/;

/** A rule of a users chain as the session it counts, or null when it is no rule lantop writes there. */
export function listedSessionOf(rule: NftRule, hook: UsersHook, sshPort: number): SessionEndpoint | null {
  if (rule.comment === null || rule.norm === null) return null;
  const tag = parseSessionTag(rule.comment);
  const m = RULE.exec(rule.norm);
  if (tag === null || m === null) return null;
  const isUp = hook === 'input';
  if (m[2] !== (isUp ? 'saddr' : 'daddr')) return null;
  const clientPort = Number(isUp ? m[4] : m[5]);
  const serverPort = Number(isUp ? m[5] : m[4]);
  const ip = m[1] === 'ip' ? canonicalIpv4(m[3]!) : canonicalIpv6(m[3]!);
  if (ip === null || serverPort !== sshPort || !isPort(clientPort)) return null;
  const s = { pid: tag.pid, user: tag.user, clientIp: ip, clientPort };
  // Exactly the text lantop writes (an address written another way, an edit: stale).
  return sessionRuleNorm(s, hook, sshPort) === rule.norm ? s : null;
}

function chainOf(table: NftTable | null, hook: UsersHook): NftChain | null {
  return table?.chains.find((c) => c.name === USERS_NFT_CHAINS[hook]) ?? null;
}

export function isUsersChainAsDeclared(chain: NftChain, hook: UsersHook): boolean {
  return chain.type === 'filter' && chain.hook === hook && chain.priority === USERS_PRIORITY && chain.policy === 'accept';
}

/**
 * Each session's counters by session id, from the table's two chains (the first rule of each
 * direction counts; a chain not hooked as declared is still read: its counters stand until it is
 * re-created). Empty when the table is not there.
 */
export function readNftSessionCounters(table: NftTable | null, sshPort: number): Map<string, SessionCounters> {
  const out = new Map<string, SessionCounters>();
  const seen = new Set<string>();
  for (const hook of HOOKS) {
    for (const rule of chainOf(table, hook)?.rules ?? []) {
      const s = listedSessionOf(rule, hook, sshPort);
      if (s === null) continue;
      const id = sessionId(s);
      const key = `${id}|${hook}`;
      if (seen.has(key)) continue;
      const entry = out.get(id) ?? { id, ...s, downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0, isComplete: false };
      if (entry.user !== s.user) continue; // the same endpoint and PID tagged for two users: the first stands
      seen.add(key);
      if (hook === 'input') {
        entry.upBytes = rule.counter?.bytes ?? 0;
        entry.upPackets = rule.counter?.packets ?? 0;
      } else {
        entry.downBytes = rule.counter?.bytes ?? 0;
        entry.downPackets = rule.counter?.packets ?? 0;
      }
      entry.isComplete = seen.has(`${id}|input`) && seen.has(`${id}|output`);
      out.set(id, entry);
    }
  }
  return out;
}

const isTagged = (rule: NftRule) => rule.comment !== null && rule.comment.startsWith('pid:');
const hasHandle = (rule: NftRule) => rule.handle !== null && Number.isSafeInteger(rule.handle) && rule.handle > 0;

/**
 * The nft script lines that leave exactly `sessions` counted, from the listed table (null: not
 * there): the table and chains created when absent (a chain hooked otherwise deleted and created
 * again), stale, duplicate and no-longer-wanted tagged rules deleted by handle, missing rules added.
 * Deletions go first, then objects, then rules. A second plan on the listing after this one is empty.
 */
export function planNftUserRules(table: NftTable | null, sessions: readonly SessionEndpoint[], sshPort: number): { lines: string[]; plan: Omit<UsersPlan, 'commands'> } {
  const plan: Omit<UsersPlan, 'commands'> = { added: [], removed: [], notes: [] };
  const wanted = new Map<string, SessionEndpoint>();
  for (const s of sessions) {
    const valid = validEndpoint(s);
    if (valid !== null) wanted.set(sessionId(valid), valid);
  }
  const deletions: string[] = [];
  const objects: string[] = [];
  const rules: string[] = [];
  const gone = new Map<string, SessionEndpoint>();
  const isNew = new Set<string>();
  if (table === null) objects.push(`add table ${USERS_TABLE}`);
  for (const hook of HOOKS) {
    const name = USERS_NFT_CHAINS[hook];
    const chain = chainOf(table, hook);
    const present = new Set<string>();
    const isUsable = chain !== null && isUsersChainAsDeclared(chain, hook);
    let isRecreated = chain !== null && !isUsable;
    if (isRecreated) plan.notes.push(`chain ${name} was not hooked as lantop hooks it: created again`);
    if (chain !== null && isUsable) {
      const stale: NftRule[] = [];
      for (const rule of chain.rules) {
        if (!isTagged(rule)) continue; // someone else's rule in lantop's table: left alone
        const s = listedSessionOf(rule, hook, sshPort);
        const id = s === null ? null : sessionId(s);
        const want = id === null ? undefined : wanted.get(id);
        if (s !== null && want !== undefined && want.user === s.user && !present.has(id!)) {
          present.add(id!);
          continue;
        }
        if (s !== null && want === undefined) gone.set(id!, s);
        stale.push(rule);
      }
      if (stale.length > 0 && !stale.every(hasHandle)) {
        // A listing without handles (not `-a`): the chain goes and comes back whole.
        isRecreated = true;
        present.clear();
        plan.notes.push(`chain ${name} listed without rule handles: written again`);
      } else for (const r of stale) deletions.push(`delete rule ${USERS_TABLE} ${name} handle ${r.handle}`);
    }
    if (isRecreated) objects.push(`flush chain ${USERS_TABLE} ${name}`, `delete chain ${USERS_TABLE} ${name}`);
    if (chain === null || isRecreated) objects.push(`add chain ${USERS_TABLE} ${name} ${usersChainDeclaration(hook)}`);
    if (chain === null && table !== null) plan.notes.push(`chain ${name} was missing: put back`);
    for (const [id, s] of wanted) {
      if (present.has(id)) continue;
      rules.push(sessionRuleLine(s, hook, sshPort));
      isNew.add(id);
    }
  }
  plan.removed.push(...gone.values());
  for (const id of isNew) plan.added.push(wanted.get(id)!);
  // `delete chain` needs the chain empty: flushed first, in the same transaction.
  return { lines: [...deletions, ...objects, ...rules], plan };
}

/** `teardown`: the whole table (nothing else in it is anyone's: it is lantop's own). */
export function planNftUsersRemoval(table: NftTable | null, sshPort: number): { lines: string[]; removed: SessionEndpoint[] } {
  if (table === null) return { lines: [], removed: [] };
  const removed = [...readNftSessionCounters(table, sshPort).values()].map(({ pid, user, clientIp, clientPort }) => ({ pid, user, clientIp, clientPort }));
  return { lines: [`delete table ${USERS_TABLE}`], removed };
}

const SCRIPT_LINE = new RegExp(`^(?:add table ${USERS_TABLE}|delete table ${USERS_TABLE}|(?:add|flush|delete) chain ${USERS_TABLE} users_(?:in|out)(?: \\{ type filter hook (?:input|output) priority filter - 10; policy accept; \\})?|delete rule ${USERS_TABLE} users_(?:in|out) handle [1-9][0-9]{0,9}|add rule ${USERS_TABLE} users_(?:in|out) ip6? [sd]addr [0-9a-f:.]{2,45} tcp sport [0-9]{1,5} tcp dport [0-9]{1,5} counter comment "pid:[1-9][0-9]{0,6} user:[a-z_][a-z0-9_-]{0,31}\\$?")$`);

/** A script line as the planner writes it; anything else never reaches the gateway. */
export function isNftUsersScriptLine(line: string): boolean {
  return typeof line === 'string' && line.length <= 300 && SCRIPT_LINE.test(line);
}
