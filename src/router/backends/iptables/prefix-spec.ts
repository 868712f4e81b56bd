// Reading back the tree layout's group rules (layouts.ts): a listed rule whose source or
// destination is an IPv4 prefix such as `198.51.100.16/28`. rule-spec.ts reads host rules only; this
// accepts exactly the prefixes lantop writes (a network address and a length of 8…31) and reads the
// rest of the rule the same way, so a prefix rule lantop never writes stays foreign.
import type { Rule } from '../../parsers/types.js';
import { canonicalIpv4 } from '../../../domain/address.js';
import { specOfListedRule, type RuleSpec } from './rule-spec.js';

const PREFIX = /^(\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3})\/(\d{1,2})$/;
const ANY = '0.0.0.0/0';

/** `a.b.c.d/len` when the column is a network address with 8 ≤ len ≤ 31 (host bits zero), else null. */
export function prefixOf(column: string): string | null {
  const m = PREFIX.exec(column);
  if (!m) return null;
  const address = canonicalIpv4(m[1]!);
  const length = Number(m[2]);
  if (address === null || m[2]!.length > 1 && m[2]!.startsWith('0') || length < 8 || length > 31) return null;
  const value = address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
  if (value % 2 ** (32 - length) !== 0) return null;
  return `${address}/${length}`;
}

/** A listed rule with a prefix in its source or destination column as a spec; null otherwise. */
export function specOfListedPrefixRule(chain: string, rule: Rule): RuleSpec | null {
  const source = prefixOf(rule.source);
  const destination = prefixOf(rule.destination);
  if (source === null && destination === null) return null;
  // Everything else read exactly as rule-spec.ts reads a host rule.
  const spec = specOfListedRule(chain, { ...rule, source: source === null ? rule.source : ANY, destination: destination === null ? rule.destination : ANY });
  if (spec === null) return null;
  return { ...spec, source: source ?? spec.source, destination: destination ?? spec.destination };
}
