// One iptables rule as data, both ways: a spec lantop wants → the argv of an `iptables` command, and
// a listed rule (parsed `-L -v -x -n` line) → the spec it has, or null when it has a shape lantop
// never writes. Commands are built from validated tokens only: canonical addresses, checked
// interface names, fixed chain names and a fixed comment; router text never reaches a command.
// The same rules serve ip6tables (issue 15): a listing is read for one family, so an address of the
// other family in it is never lantop's.
import type { Chain, IptablesListing, Rule } from '../../parsers/types.js';
import { canonicalIpv4, canonicalIpv6, type AddressFamily } from '../../../domain/address.js';
import { canonicalInterfaceName } from '../../tokens.js';

export const LANTOP_COMMENT = 'lantop';

export interface RuleSpec {
  chain: string;
  /** `-i` / `-o` / `-s` / `-d`; null = not matched on. */
  in: string | null;
  out: string | null;
  source: string | null;
  destination: string | null;
  target: string | null;
  isTagged: boolean;
}

export function tokensOf(spec: RuleSpec): string[] {
  const t: string[] = [];
  if (spec.in !== null) t.push('-i', spec.in);
  if (spec.source !== null) t.push('-s', spec.source);
  if (spec.destination !== null) t.push('-d', spec.destination);
  if (spec.out !== null) t.push('-o', spec.out);
  if (spec.isTagged) t.push('-m', 'comment', '--comment', LANTOP_COMMENT);
  if (spec.target !== null) t.push('-j', spec.target);
  return t;
}

export function command(iptables: string, action: string, chain: string, rest: string[] = []): string {
  return [iptables, action, chain, ...rest].join(' ');
}

const ANY_ADDRESS = new Set(['0.0.0.0/0', 'anywhere', '::/0']);
const ANY_IFACE = new Set(['*', 'any', '']);

// Every poll lists the same few hundred addresses: remember what each column text reads as, in one
// lookup per column (false = not an address of the family lantop writes, i.e. undefined to callers).
const ADDRESS_CACHE = new Map<string, string | null | false>();
const ADDRESS6_CACHE = new Map<string, string | null | false>();
const ADDRESS_CACHE_LIMIT = 20_000;

/**
 * An address column as a canonical IP of `family` (host /32 or /128 folded), null for "any",
 * undefined when other (a prefix, a name, the other family).
 */
export function addressOf(column: string, family: AddressFamily = 4): string | null | undefined {
  const cache = family === 4 ? ADDRESS_CACHE : ADDRESS6_CACHE;
  const hit = cache.get(column);
  if (hit !== undefined) return hit === false ? undefined : hit;
  let address: string | null | false;
  if (ANY_ADDRESS.has(column)) address = null;
  else if (family === 4) address = canonicalIpv4(column.endsWith('/32') ? column.slice(0, -3) : column) ?? false;
  else address = canonicalIpv6(column.endsWith('/128') ? column.slice(0, -4) : column) ?? false;
  if (cache.size >= ADDRESS_CACHE_LIMIT) cache.clear();
  cache.set(column, address);
  return address === false ? undefined : address;
}

// The last interface column read and what it read as: a listing repeats one or two names (the WAN,
// '*'), so this spares a regex per rule.
let lastIfaceColumn = '*';
let lastIface: string | null | undefined = null;

export function ifaceOf(column: string): string | null | undefined {
  if (column === '*') return null;
  if (column === lastIfaceColumn) return lastIface;
  const iface = ANY_IFACE.has(column) ? null : canonicalInterfaceName(column) ?? undefined;
  lastIfaceColumn = column;
  lastIface = iface;
  return iface;
}

/** Reads a listed rule of a `family` listing back into a spec, or null when it has a shape lantop never writes. */
export function specOfListedRule(chain: string, rule: Rule, family: AddressFamily = 4): RuleSpec | null {
  // Anything besides the comment (other matches, negations, a protocol) is not ours.
  if (rule.extra !== '' && rule.extra.trim() !== '') return null;
  if (rule.prot !== 'all' && rule.prot !== '0') return null;
  if (rule.opt !== '--' && rule.opt !== '' && rule.opt !== '   ') return null;
  const source = addressOf(rule.source, family);
  const destination = addressOf(rule.destination, family);
  const inIface = ifaceOf(rule.in);
  const outIface = ifaceOf(rule.out);
  if (source === undefined || destination === undefined || inIface === undefined || outIface === undefined) return null;
  return { chain, in: inIface, out: outIface, source, destination, target: rule.target, isTagged: rule.comment === LANTOP_COMMENT };
}

export function sameSpec(a: RuleSpec, b: RuleSpec): boolean {
  return a.chain === b.chain && a.in === b.in && a.out === b.out && a.source === b.source && a.destination === b.destination && a.target === b.target && a.isTagged === b.isTagged;
}

/** A listed rule as one line of text (raw router text: sanitise before display). */
export function describeRule(rule: Rule): string {
  return [rule.target ?? '', rule.prot, rule.in, rule.out, rule.source, rule.destination, rule.extra, rule.comment ? `/* ${rule.comment} */` : ''].filter(Boolean).join(' ');
}

export function findChain(listing: IptablesListing, name: string): Chain | undefined {
  return listing.chains.find((chain) => chain.name === name);
}
