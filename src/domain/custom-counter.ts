// Custom counters (issue 18, "Custom counters"): the classic server recipe of counting traffic by
// address, port and protocol — "traffic from our proxy 192.168.1.10", "traffic not from our
// network", "port 22 in" — as `lantop counter add NAME …` asks. A counter counts the packets and
// bytes of one kind of traffic on one path through the router: `input` (to the router itself),
// `output` (from it) or `forward` (through it), optionally narrowed by the interfaces it comes in or
// goes out on, its source and destination network (each may be negated), its protocol and ports.
//
// Decisions (documented for `counter add`'s help):
// - The name is lantop's own (`^[a-z0-9][a-z0-9_-]{0,31}$`) and never reaches the router; the rules
//   are tagged with counterId, a hash of counterKey (the matches without the name), so two counters
//   with the same matches share one rule and one count.
// - A network is `a.b.c.d/len` or `IPv6/len` (a bare address is the one host: /32 or /128), printed
//   back canonical (address.ts, RFC 5952). Host bits set (`198.51.100.7/24`) are refused, not
//   rounded: whoever wrote it may have meant the one host (`192.168.1.10` in the write-up), and
//   rounding would silently count the whole network. `/0` is refused: it matches everything.
// - Ports (1–65535, no leading zeros) need tcp or udp. `icmp` is the family's ICMP: ICMPv6 for IPv6
//   traffic, both for a counter without addresses.
// - The incoming interface of output traffic and the outgoing one of input traffic do not exist:
//   refused rather than never matching.
// - The family follows from the addresses (`ipv4`, `ipv6`; none: `both`); mixing them is refused.
//
// Pure: messages are for people and never contain a flag name (the CLI's parser, app/counter-spec.ts,
// puts the flag before each problem of its field).
import { parseAddress, type AddressFamily } from './address.js';
import { sanitizeText } from '../sanitize.js';

export const COUNTER_HOOKS = ['input', 'output', 'forward'] as const;
/** Which traffic: to the router itself, from it, or through it. */
export type CounterHook = (typeof COUNTER_HOOKS)[number];
export const COUNTER_PROTOCOLS = ['tcp', 'udp', 'icmp'] as const;
export type CounterProtocol = (typeof COUNTER_PROTOCOLS)[number];
export type CounterFamily = 'ipv4' | 'ipv6' | 'both';

export interface CounterNetwork {
  /** Canonical `address/len`, host bits zero: `198.51.100.0/24`, `198.51.100.10/32`, `2001:db8::/32`. */
  cidr: string;
  /** True: everything but this network. */
  negated: boolean;
}

export interface CustomCounter {
  name: string;
  hook: CounterHook;
  /** The interface the traffic comes in on (input, forward). */
  inIf?: string;
  /** The interface it goes out on (output, forward). */
  outIf?: string;
  src?: CounterNetwork;
  dst?: CounterNetwork;
  proto?: CounterProtocol;
  sport?: number;
  dport?: number;
  /** Derived from the addresses. */
  family: CounterFamily;
}

/** A counter as typed: every value still the user's text. */
export interface CounterInput {
  name?: string;
  hook?: string;
  inIf?: string;
  outIf?: string;
  src?: string;
  dst?: string;
  proto?: string;
  sport?: string;
  dport?: string;
}

export interface CounterProblem {
  field: keyof CounterInput;
  message: string;
}

export type CounterResult = { counter: CustomCounter; problems: [] } | { counter: null; problems: CounterProblem[] };

const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;
/** The interface names a command may carry: the rule of router/tokens.ts canonicalInterfaceName (the backends check again with it). */
const INTERFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;
const PORT = /^[1-9]\d{0,4}$/;
const PORTED: ReadonlySet<CounterProtocol> = new Set(['tcp', 'udp']);

export function isCounterName(text: string): boolean {
  return typeof text === 'string' && NAME.test(text);
}

/** What the user typed, safe to echo. */
const quoted = (raw: string) => `'${sanitizeText(raw, 48)}'`;

export interface ParsedNetwork {
  /** Canonical `address/len`. */
  cidr: string;
  family: AddressFamily;
  prefixLength: number;
}

/** The 32 (IPv4) or 128 (IPv6) bits of a canonical address, as bytes. */
function bytesOf(text: string, family: AddressFamily): number[] {
  if (family === 4) return text.split('.').map(Number);
  const [head = '', tail] = text.split('::');
  const groupsOf = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [Number.parseInt(g, 16)];
      // The dotted tail of an IPv4-mapped address: two groups.
      const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
      return [a * 256 + b, c * 256 + d];
    });
  };
  const h = groupsOf(head);
  const t = tail === undefined ? [] : groupsOf(tail);
  const groups = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  return groups.flatMap((g) => [g >> 8, g & 255]);
}

function textOf(bytes: readonly number[], family: AddressFamily): string {
  if (family === 4) return bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  return parseAddress(groups.join(':'))!.text;
}

/**
 * A network as typed (`198.51.100.0/24`, `2001:db8::/32`, a bare address for the one host) → its
 * canonical form, or why not. Host bits must be zero; a prefix of 0 is refused.
 */
export function parseNetwork(text: string): { network: ParsedNetwork; problem: null } | { network: null; problem: string } {
  const shape = `is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)`;
  if (typeof text !== 'string' || text.length > 50) return { network: null, problem: `${quoted(String(text))} ${shape}` };
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  const lengthText = slash < 0 ? null : text.slice(slash + 1);
  if (address === null || (lengthText !== null && !/^(?:0|[1-9]\d{0,2})$/.test(lengthText))) return { network: null, problem: `${quoted(text)} ${shape}` };
  const bits = address.family === 4 ? 32 : 128;
  const prefixLength = lengthText === null ? bits : Number(lengthText);
  if (prefixLength > bits) return { network: null, problem: `${quoted(text)}: an IPv${address.family} prefix is at most /${bits}` };
  if (prefixLength === 0) return { network: null, problem: `${quoted(text)} matches every address: leave it out` };
  const bytes = bytesOf(address.text, address.family);
  const masked = bytes.map((b, i) => {
    const keep = Math.max(0, Math.min(8, prefixLength - i * 8));
    return b & ((0xff << (8 - keep)) & 0xff);
  });
  if (masked.some((b, i) => b !== bytes[i])) {
    const network = `${textOf(masked, address.family)}/${prefixLength}`;
    return { network: null, problem: `${quoted(text)} has host bits set: write ${network} for the network, or ${address.text} for the one host` };
  }
  return { network: { cidr: `${address.text}/${prefixLength}`, family: address.family, prefixLength }, problem: null };
}

function port(raw: string | undefined, field: 'sport' | 'dport', problems: CounterProblem[]): number | undefined {
  if (raw === undefined) return undefined;
  if (!PORT.test(raw) || Number(raw) > 65535) {
    problems.push({ field, message: `${quoted(raw)} is not a port (1–65535)` });
    return undefined;
  }
  return Number(raw);
}

function network(raw: string | undefined, field: 'src' | 'dst', problems: CounterProblem[]): (CounterNetwork & { family: AddressFamily }) | undefined {
  if (raw === undefined) return undefined;
  const negated = raw.startsWith('!');
  const parsed = parseNetwork(negated ? raw.slice(1).trimStart() : raw);
  if (parsed.network === null) {
    problems.push({ field, message: parsed.problem });
    return undefined;
  }
  return { cidr: parsed.network.cidr, negated, family: parsed.network.family };
}

/** A counter from what was typed, or every problem with it (in field order). */
export function makeCustomCounter(input: CounterInput): CounterResult {
  const problems: CounterProblem[] = [];
  const name = input.name;
  if (name === undefined || name === '') problems.push({ field: 'name', message: 'a counter needs a name' });
  else if (!isCounterName(name)) problems.push({ field: 'name', message: `${quoted(name)} is not a counter name: 1–32 lower-case letters, digits, - and _, starting with a letter or digit` });
  const hook = input.hook;
  const isHook = hook !== undefined && (COUNTER_HOOKS as readonly string[]).includes(hook);
  if (hook === undefined) problems.push({ field: 'hook', message: 'which traffic is missing: input (to the router itself), output (from it) or forward (through it)' });
  else if (!isHook) problems.push({ field: 'hook', message: `${quoted(hook)} is not input, output or forward` });
  for (const field of ['inIf', 'outIf'] as const) {
    const raw = input[field];
    if (raw !== undefined && !INTERFACE.test(raw)) problems.push({ field, message: `${quoted(raw)} is not an interface name (1–15 letters, digits, _ . : @ -)` });
  }
  if (hook === 'output' && input.inIf !== undefined) problems.push({ field: 'inIf', message: 'output traffic comes from the router itself, on no incoming interface: match its outgoing one instead' });
  if (hook === 'input' && input.outIf !== undefined) problems.push({ field: 'outIf', message: 'input traffic ends at the router itself, on no outgoing interface: match its incoming one instead' });
  const src = network(input.src, 'src', problems);
  const dst = network(input.dst, 'dst', problems);
  if (src !== undefined && dst !== undefined && src.family !== dst.family) {
    problems.push({ field: 'dst', message: `${dst.cidr} is IPv${dst.family} but the source ${src.cidr} is IPv${src.family}: one counter counts one address family` });
  }
  const proto = input.proto;
  const isProto = proto !== undefined && (COUNTER_PROTOCOLS as readonly string[]).includes(proto);
  if (proto !== undefined && !isProto) problems.push({ field: 'proto', message: `${quoted(proto)} is not tcp, udp or icmp` });
  const sport = port(input.sport, 'sport', problems);
  const dport = port(input.dport, 'dport', problems);
  for (const [field, value] of [['sport', input.sport], ['dport', input.dport]] as const) {
    if (value !== undefined && (proto === undefined || (isProto && !PORTED.has(proto as CounterProtocol)))) {
      problems.push({ field, message: proto === undefined ? 'a port needs the protocol: tcp or udp' : `${proto} has no ports: only tcp and udp do` });
    }
  }
  if (problems.length > 0) return { counter: null, problems };
  const family: CounterFamily = src !== undefined ? (src.family === 4 ? 'ipv4' : 'ipv6') : dst !== undefined ? (dst.family === 4 ? 'ipv4' : 'ipv6') : 'both';
  const counter: CustomCounter = { name: name!, hook: hook as CounterHook, family };
  if (input.inIf !== undefined) counter.inIf = input.inIf;
  if (input.outIf !== undefined) counter.outIf = input.outIf;
  if (src !== undefined) counter.src = { cidr: src.cidr, negated: src.negated };
  if (dst !== undefined) counter.dst = { cidr: dst.cidr, negated: dst.negated };
  if (isProto) counter.proto = proto as CounterProtocol;
  if (sport !== undefined) counter.sport = sport;
  if (dport !== undefined) counter.dport = dport;
  return { counter, problems: [] };
}

/** Whether a counter counts traffic of this address family. */
export function isCounterOfFamily(c: CustomCounter, family: AddressFamily): boolean {
  return c.family === 'both' || c.family === (family === 4 ? 'ipv4' : 'ipv6');
}

const networkText = (n: CounterNetwork) => `${n.negated ? '!' : ''}${n.cidr}`;

/**
 * The stable key of a counter's matches, the name left out, every value canonical and in a fixed
 * order: `forward in=eth0 src=!198.51.100.0/24 proto=tcp dport=22`. Equal matches, equal keys.
 */
export function counterKey(c: CustomCounter): string {
  const parts: string[] = [c.hook];
  if (c.inIf !== undefined) parts.push(`in=${c.inIf}`);
  if (c.outIf !== undefined) parts.push(`out=${c.outIf}`);
  if (c.src !== undefined) parts.push(`src=${networkText(c.src)}`);
  if (c.dst !== undefined) parts.push(`dst=${networkText(c.dst)}`);
  if (c.proto !== undefined) parts.push(`proto=${c.proto}`);
  if (c.sport !== undefined) parts.push(`sport=${c.sport}`);
  if (c.dport !== undefined) parts.push(`dport=${c.dport}`);
  return parts.join(' ');
}

const KEY_FIELDS: Readonly<Record<string, keyof CounterInput>> = { in: 'inIf', out: 'outIf', src: 'src', dst: 'dst', proto: 'proto', sport: 'sport', dport: 'dport' };

/**
 * The counter a stored key and name describe, re-validated (a row read back from the database);
 * null when they are not one lantop would write, or not in canonical form.
 */
export function counterOfKey(key: string, name: string): CustomCounter | null {
  if (typeof key !== 'string' || key.length > 300) return null;
  const [hook, ...rest] = key.split(' ');
  const input: CounterInput = { name, hook: hook ?? '' };
  for (const part of rest) {
    const eq = part.indexOf('=');
    const field = eq < 0 ? undefined : KEY_FIELDS[part.slice(0, eq)];
    if (field === undefined || input[field] !== undefined) return null;
    input[field] = part.slice(eq + 1);
  }
  const { counter } = makeCustomCounter(input);
  return counter !== null && counterKey(counter) === key ? counter : null;
}

/**
 * The counter's short id on the router: 12 hex digits of a 64-bit FNV-1a hash of counterKey. The
 * rules carry this, never the name; two counters with the same matches share it (and one rule).
 */
export function counterId(c: CustomCounter): string {
  let hash = 0xcbf29ce484222325n;
  const key = counterKey(c);
  for (let i = 0; i < key.length; i++) {
    hash ^= BigInt(key.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16).padStart(16, '0').slice(0, 12);
}

export function compareCounters(a: CustomCounter, b: CustomCounter): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

/** Each id once (counters with the same matches collapse into the first), in id order: what the router holds. */
export function distinctCounterMatches(counters: readonly CustomCounter[]): CustomCounter[] {
  const out = new Map<string, CustomCounter>();
  for (const c of counters) {
    const valid = c !== null && typeof c === 'object' ? counterOfKey(counterKey(c), c.name) : null;
    if (valid !== null && !out.has(counterId(valid))) out.set(counterId(valid), valid);
  }
  return [...out.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, c]) => c);
}
