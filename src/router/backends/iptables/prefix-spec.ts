// Reading back the tree layout's group rules (layouts.ts): a listed rule whose source or
// destination is a prefix such as `198.51.100.16/28` (iptables) or `2001:db8:1:0:4000::/68`
// (ip6tables, ipv6-groups.ts). rule-spec.ts reads host rules only; this accepts exactly the prefixes
// lantop writes (a network address and a length of 8…31 for IPv4, 16…127 for IPv6, in canonical
// text) and reads the rest of the rule the same way, so a prefix rule lantop never writes stays
// foreign.
import type { Rule } from '../../parsers/types.js';
import { canonicalIpv4, canonicalIpv6, type AddressFamily } from '../../../domain/address.js';
import { ipv6Value } from './ipv6-groups.js';
import { specOfListedRule, type RuleSpec } from './rule-spec.js';

const PREFIX = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\/(\d{1,2})$/;
const PREFIX6 = /^([0-9a-f:]{2,39})\/(\d{2,3})$/;
const ANY: Readonly<Record<AddressFamily, string>> = { 4: '0.0.0.0/0', 6: '::/0' };

/** `a.b.c.d/len` when the column is a network address with 8 ≤ len ≤ 31 (host bits zero), else null. */
export function prefixOf(column: string, family: AddressFamily = 4): string | null {
  if (family === 6) return prefix6Of(column);
  const m = PREFIX.exec(column);
  if (!m) return null;
  const address = canonicalIpv4(m[1]!);
  const length = Number(m[2]);
  if (address === null || m[2]!.length > 1 && m[2]!.startsWith('0') || length < 8 || length > 31) return null;
  const value = address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  if (value % 2 ** (32 - length) !== 0) return null;
  return `${address}/${length}`;
}

/** `addr/len` when the column is a canonical IPv6 network address with 16 ≤ len ≤ 127, else null. */
function prefix6Of(column: string): string | null {
  const m = PREFIX6.exec(column);
  if (!m) return null;
  const address = canonicalIpv6(m[1]!);
  const length = Number(m[2]);
  if (address !== m[1] || m[2]!.startsWith('0') || length < 16 || length > 127) return null;
  if (ipv6Value(address) % (1n << BigInt(128 - length)) !== 0n) return null;
  return `${address}/${length}`;
}

/** A listed rule with a prefix in its source or destination column as a spec; null otherwise. */
export function specOfListedPrefixRule(chain: string, rule: Rule, family: AddressFamily = 4): RuleSpec | null {
  const source = prefixOf(rule.source, family);
  const destination = prefixOf(rule.destination, family);
  if (source === null && destination === null) return null;
  // Everything else read exactly as rule-spec.ts reads a host rule.
  const any = ANY[family];
  const spec = specOfListedRule(chain, { ...rule, source: source === null ? rule.source : any, destination: destination === null ? rule.destination : any }, family);
  if (spec === null) return null;
  return { ...spec, source: source ?? spec.source, destination: destination ?? spec.destination };
}
