// Custom counters in the nftables backend (issue 18, `lantop counter add`): in lantop's own
// `table inet lantop`, one base chain per hook — counters_in (hook input), counters_out (output),
// counters_fwd (forward) — created only while some counter of that hook is wanted, at priority
// `filter - 10` with policy accept: before the firewall's chains (fw4's are at `filter`), so a
// counter counts what reached the hook, as the iptables backend's jump at position 1 does
// (layouts.ts, ROUTER_PRIORITY, says why before and not after). One counting rule per counter:
//   iifname "ppp0" ip saddr != 198.51.100.0/24 tcp dport 22 counter comment "lantop:c:3f09c1d2a4b7"
// The comment is `lantop:c:` + counterId (a hash of the matches, never the name). The inet table
// counts both families in one rule, except `icmp` without addresses: two rules with the same tag,
// `meta l4proto icmp` and `meta l4proto ipv6-icmp`, summed when read.
//
// Written with `ne` where the listing says `!=` (nft(8) takes both): apply.ts's script grammar has
// no `!`, and nft 1.0.6 lists `ip saddr ne X` back as `ip saddr != X` (measured: the netns test).
// Read back from `nft -j list table inet lantop` — parse-json.ts renders only `==` matches, so the
// counter chains' rules are rendered here, into the listing syntax of parse-text.ts (which takes
// `nft -a list …` as it is) — and matched to the counters by tag *and* rule text: a tagged rule
// someone edited is stale, deleted by handle and written again.
import { counterId, distinctCounterMatches, type CounterHook, type CounterNetwork, type CustomCounter } from '../../../domain/custom-counter.js';
import { canonicalInterfaceName } from '../../tokens.js';
import type { NftChain, NftCounter, NftRule } from './nft-model.js';
import { isNftJson } from './parse-json.js';
import { parseNftText } from './parse-text.js';
import { TABLE, TABLE_FAMILY, TABLE_NAME } from './layouts.js';

export const COUNTER_NFT_CHAINS: Readonly<Record<CounterHook, string>> = { input: 'counters_in', output: 'counters_out', forward: 'counters_fwd' };
export const COUNTER_NFT_CHAIN_NAMES: readonly string[] = Object.values(COUNTER_NFT_CHAINS);
const HOOKS = Object.keys(COUNTER_NFT_CHAINS) as CounterHook[];
export const COUNTER_TAG_PREFIX = 'lantop:c:';
/** `filter - 10`: before the firewall's chains at `filter`. */
export const COUNTER_PRIORITY = -10;

export function counterChainDeclaration(hook: CounterHook): string {
  return `{ type filter hook ${hook} priority filter - ${-COUNTER_PRIORITY}; policy accept; }`;
}

export function counterTag(c: CustomCounter): string {
  return `${COUNTER_TAG_PREFIX}${counterId(c)}`;
}

/** A network as nft writes it: the one host without its length (as nft lists it back). */
function networkMatch(field: 'saddr' | 'daddr', n: CounterNetwork, isWriting: boolean): string {
  const [address, length] = n.cidr.split('/');
  const isHost = (length === '32' && !address!.includes(':')) || length === '128';
  const op = n.negated ? (isWriting ? 'ne ' : '!= ') : '';
  return `${address!.includes(':') ? 'ip6' : 'ip'} ${field} ${op}${isHost ? address : n.cidr}`;
}

/** The counter's rule(s) without comment; `isWriting`: as lantop sends them (`ne`), else as nft lists them (`!=`). */
function rulesOf(c: CustomCounter, isWriting: boolean): string[] {
  const parts: string[] = [];
  for (const [word, name] of [['iifname', c.inIf], ['oifname', c.outIf]] as const) {
    if (name === undefined) continue;
    const token = canonicalInterfaceName(name);
    if (token === null) throw new TypeError('invalid interface name');
    parts.push(`${word} "${token}"`);
  }
  if (c.src !== undefined) parts.push(networkMatch('saddr', c.src, isWriting));
  if (c.dst !== undefined) parts.push(networkMatch('daddr', c.dst, isWriting));
  const protocols = c.proto !== 'icmp' ? [c.proto] : c.family === 'ipv4' ? ['icmp'] : c.family === 'ipv6' ? ['ipv6-icmp'] : ['icmp', 'ipv6-icmp'];
  return protocols.map((proto) => {
    const match = [...parts];
    if (proto !== undefined && (c.sport !== undefined || c.dport !== undefined)) {
      if (c.sport !== undefined) match.push(`${proto} sport ${c.sport}`);
      if (c.dport !== undefined) match.push(`${proto} dport ${c.dport}`);
    } else if (proto !== undefined) match.push(`meta l4proto ${proto}`);
    return [...match, 'counter'].join(' ');
  });
}

/** The counter's rules as nft lists them (nft-model.ts's `norm`). */
export function counterRuleNorms(c: CustomCounter): string[] {
  return rulesOf(c, false);
}

// --- Reading -------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : null);

/** A match's right side: a string, a number, or `{"prefix": {"addr", "len"}}`. */
function rightOf(v: unknown): string | null {
  if (typeof v === 'string') return /^[A-Za-z0-9_.:@/-]{1,64}$/.test(v) ? v : null;
  if (num(v) !== null) return String(v);
  const prefix = isObj(v) && isObj(v['prefix']) ? v['prefix'] : null;
  if (prefix === null || typeof prefix['addr'] !== 'string' || num(prefix['len']) === null) return null;
  return rightOf(`${prefix['addr']}/${prefix['len']}`);
}

/** One statement of a counter chain's rule in listing syntax, or null when it is none lantop writes. */
function statementOf(expr: unknown, seen: { counter: NftCounter | null }): string | null {
  if (!isObj(expr) || Object.keys(expr).length !== 1) return null;
  if ('counter' in expr) {
    const c = expr['counter'];
    if (isObj(c) && num(c['packets']) !== null && num(c['bytes']) !== null) seen.counter = { packets: c['packets'] as number, bytes: c['bytes'] as number };
    return 'counter';
  }
  const match = expr['match'];
  if (!isObj(match) || (match['op'] !== '==' && match['op'] !== '!=')) return null;
  const left = match['left'];
  const right = rightOf(match['right']);
  if (!isObj(left) || right === null) return null;
  const op = match['op'] === '!=' ? '!= ' : '';
  const meta = isObj(left['meta']) ? left['meta']['key'] : undefined;
  if (meta === 'iifname' || meta === 'oifname') return `${meta} ${op}"${right}"`;
  if (meta === 'l4proto') return `meta l4proto ${op}${right}`;
  const payload = isObj(left['payload']) ? left['payload'] : null;
  const protocol = payload?.['protocol'];
  const field = payload?.['field'];
  if (typeof protocol !== 'string' || typeof field !== 'string' || !/^[a-z0-9]{1,10}$/.test(protocol) || !/^[a-z]{1,10}$/.test(field)) return null;
  return `${protocol} ${field} ${op}${right}`;
}

function ruleOf(o: Obj): NftRule {
  const seen = { counter: null as NftCounter | null };
  const parts: string[] = [];
  const exprs = Array.isArray(o['expr']) ? o['expr'] : [];
  for (const expr of exprs) {
    const text = statementOf(expr, seen);
    if (text === null) {
      parts.length = 0;
      break;
    }
    parts.push(text);
  }
  const norm = parts.length > 0 ? parts.join(' ') : null;
  const comment = typeof o['comment'] === 'string' ? o['comment'] : null;
  const handle = num(o['handle']);
  // A rule not rendered keeps its counter unread (never lantop's then), as parse-json.ts does.
  return { norm, display: norm ?? `rule handle ${handle ?? '?'} (not understood)`, comment, counter: norm === null ? null : seen.counter, handle };
}

/** The counter chains in a JSON listing of the table; null: the listing has no such table. */
function chainsOfJson(text: string): NftChain[] | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text.slice(text.search(/\{\s*"nftables"\s*:/)));
  } catch {
    return null;
  }
  const items = isObj(doc) && Array.isArray(doc['nftables']) ? doc['nftables'] : [];
  const isTable = (item: unknown) => isObj(item) && isObj(item['table']) && item['table']['family'] === TABLE_FAMILY && item['table']['name'] === TABLE_NAME;
  if (!items.some(isTable)) return null;
  const chains = new Map<string, NftChain>();
  const ours = (o: Obj, key: string) => o['family'] === TABLE_FAMILY && o['table'] === TABLE_NAME && COUNTER_NFT_CHAIN_NAMES.includes(String(o[key]));
  for (const item of items) {
    const o = isObj(item) ? item['chain'] : null;
    if (!isObj(o) || !ours(o, 'name')) continue;
    const str = (v: unknown) => (typeof v === 'string' ? v : null);
    chains.set(String(o['name']), { name: String(o['name']), type: str(o['type']), hook: str(o['hook']), priority: typeof o['prio'] === 'number' ? o['prio'] : null, policy: str(o['policy']), rules: [], handle: num(o['handle']) });
  }
  for (const item of items) {
    const o = isObj(item) ? item['rule'] : null;
    if (isObj(o) && ours(o, 'chain')) chains.get(String(o['chain']))?.rules.push(ruleOf(o));
  }
  return [...chains.values()];
}

/**
 * The counter chains of lantop's table in a listing (`nft -j list table inet lantop`, or the text of
 * `nft -a list table inet lantop`); null when the listing holds no such table.
 */
export function readCounterChains(text: string): NftChain[] | null {
  if (typeof text !== 'string') return null;
  if (isNftJson(text)) return chainsOfJson(text);
  const table = parseNftText(text).tables.find((t) => t.family === TABLE_FAMILY && t.name === TABLE_NAME);
  return table === undefined ? null : table.chains.filter((c) => COUNTER_NFT_CHAIN_NAMES.includes(c.name));
}

/** Hooked as lantop declares a counter chain. */
export function isCounterChainAsDeclared(chain: NftChain, hook: CounterHook): boolean {
  return chain.type === 'filter' && chain.hook === hook && chain.priority === COUNTER_PRIORITY && chain.policy === 'accept';
}

export interface RuleCount {
  packets: number;
  bytes: number;
}

/** The counting rules of each id in chains hooked as declared: rule text → its rule (the first of each). */
function rulesById(chains: readonly NftChain[] | null): Map<string, Map<string, NftRule>> {
  const out = new Map<string, Map<string, NftRule>>();
  for (const hook of HOOKS) {
    const chain = chains?.find((c) => c.name === COUNTER_NFT_CHAINS[hook]);
    if (chain === undefined || !isCounterChainAsDeclared(chain, hook)) continue;
    for (const rule of chain.rules) {
      if (rule.comment === null || !rule.comment.startsWith(COUNTER_TAG_PREFIX) || rule.norm === null) continue;
      const id = `${hook} ${rule.comment.slice(COUNTER_TAG_PREFIX.length)}`;
      const byNorm = out.get(id) ?? new Map<string, NftRule>();
      if (!byNorm.has(rule.norm)) byNorm.set(rule.norm, rule);
      out.set(id, byNorm);
    }
  }
  return out;
}

/**
 * Each counter's packets and bytes by name (its rules summed: both families count in one rule, icmp
 * in two); a counter with a rule missing, or in a chain not hooked as declared, is absent.
 */
export function readNftCustomCounters(chains: readonly NftChain[] | null, counters: readonly CustomCounter[]): Map<string, RuleCount> {
  const byId = rulesById(chains);
  const out = new Map<string, RuleCount>();
  for (const c of counters) {
    const rules = byId.get(`${c.hook} ${counterId(c)}`);
    const wanted = rules === undefined ? [] : counterRuleNorms(c).map((n) => rules.get(n));
    if (wanted.length === 0 || wanted.some((r) => r === undefined)) continue;
    out.set(c.name, wanted.reduce((sum, r) => ({ packets: sum.packets + (r!.counter?.packets ?? 0), bytes: sum.bytes + (r!.counter?.bytes ?? 0) }), { packets: 0, bytes: 0 }));
  }
  return out;
}

// --- Planning ------------------------------------------------------------------------------------

export interface NftCounterPlan {
  /** `nft -f` script lines, to go after the table's own plan (which creates the table when absent). */
  commands: string[];
  /** Rules in the counter chains that lantop did not write (raw router text). */
  foreign: string[];
  notes: string[];
}

const isTagged = (rule: NftRule) => rule.comment !== null && rule.comment.startsWith(COUNTER_TAG_PREFIX);

/**
 * Plans exactly these counters (`[]`: none, the chains go) from the listed counter chains (null:
 * the table does not exist yet). Stale and duplicate tagged rules are deleted by handle; without
 * handles (a text listing without `-a`), a chain holding only lantop's rules is flushed and written
 * again. A second call on the listing after the plan sends nothing.
 */
export function planNftCustomCounters(chains: readonly NftChain[] | null, counters: readonly CustomCounter[]): NftCounterPlan {
  const wantedAll = distinctCounterMatches(counters);
  const first: string[] = [];
  const objects: string[] = [];
  const last: string[] = [];
  const foreign: string[] = [];
  const notes: string[] = [];
  for (const hook of HOOKS) {
    const name = COUNTER_NFT_CHAINS[hook];
    const chain = chains?.find((c) => c.name === name) ?? null;
    const wanted = wantedAll.filter((c) => c.hook === hook);
    const others = chain?.rules.filter((r) => !isTagged(r)) ?? [];
    for (const r of others) foreign.push(`in chain ${name}: ${r.display}`);
    if (wanted.length === 0) {
      if (chain === null) continue;
      const ours = chain.rules.filter(isTagged);
      const removal = deleteByHandle(name, ours);
      if (others.length === 0) {
        objects.push(`flush chain ${TABLE} ${name}`, `delete chain ${TABLE} ${name}`);
        notes.push(`no ${hook} counters: removing chain ${name}`);
      } else if (removal !== null) {
        first.push(...removal);
        notes.push(`no ${hook} counters: removing lantop's rules from chain ${name} (it holds rules lantop did not write)`);
      } else notes.push(`${ours.length} counter rule(s) in chain ${name} stay: the listing has no rule handles`);
      continue;
    }
    const want = wanted.flatMap((c) => rulesOf(c, true).map((write, i) => ({ write, norm: counterRuleNorms(c)[i]!, tag: counterTag(c) })));
    let missing = want;
    if (chain === null || !isCounterChainAsDeclared(chain, hook)) {
      if (chain !== null) {
        objects.push(`flush chain ${TABLE} ${name}`, `delete chain ${TABLE} ${name}`);
        notes.push(`re-creating chain ${name} (it was not hooked as lantop hooks it)`);
      } else notes.push(`counting ${wanted.length} ${hook} counter(s) in chain ${name}`);
      objects.push(`add chain ${TABLE} ${name} ${counterChainDeclaration(hook)}`);
    } else {
      const present = new Set<string>();
      const stale = chain.rules.filter((r) => {
        if (!isTagged(r)) return false;
        const key = `${r.comment} ${r.norm}`;
        if (r.norm !== null && !present.has(key) && want.some((w) => `${w.tag} ${w.norm}` === key)) {
          present.add(key);
          return false;
        }
        return true;
      });
      missing = want.filter((w) => !present.has(`${w.tag} ${w.norm}`));
      if (stale.length > 0) {
        const removal = deleteByHandle(name, stale);
        if (removal !== null) first.push(...removal);
        else if (others.length === 0) {
          first.push(`flush chain ${TABLE} ${name}`);
          missing = want;
        } else notes.push(`${stale.length} stale counter rule(s) in chain ${name} stay: the listing has no rule handles`);
        notes.push(`replacing ${stale.length} stale or duplicate counter rule(s) in chain ${name}`);
      }
      if (missing.length > 0) notes.push(`adding ${missing.length} counter rule(s) to chain ${name}`);
    }
    for (const w of missing) last.push(`add rule ${TABLE} ${name} ${w.write} comment "${w.tag}"`);
  }
  return { commands: [...first, ...objects, ...last], foreign, notes };
}

function deleteByHandle(chain: string, rules: readonly NftRule[]): string[] | null {
  if (!rules.every((r) => r.handle !== null && Number.isSafeInteger(r.handle) && r.handle > 0)) return null;
  return rules.map((r) => `delete rule ${TABLE} ${chain} handle ${r.handle}`);
}
