// The emulated nft's scanner: nft script text → tokens with the line and columns nft reports in
// its errors. Follows src/scanner.l of nftables 1.0.8 (the version OpenWrt 23.05 ships): the
// longest match wins and, at equal length, the earlier rule (a keyword before a string); an
// address, a time string ("7d") or a number is one token; `#` comments run to the end of the line;
// a backslash before a newline joins lines. Only the global keywords are kept (the scanner's
// context-only ones, like `saddr` after `ip`, read as strings here, which is how the parser uses
// them). Pure.

export type NftTokenKind = 'string' | 'quoted' | 'number' | 'punct' | 'newline' | 'eof' | 'junk';

export interface NftToken {
  kind: NftTokenKind;
  /** The token's text; a quoted string without its quotes. */
  text: string;
  /** 1-based line, and first/last 1-based columns on it (nft's `first_column`/`last_column`). */
  line: number;
  first: number;
  last: number;
  /** Offset of the token's line in the input (to print the line in an error). */
  lineStart: number;
}

/** The global keywords of scanner.l (nftables 1.0.8). */
const KEYWORDS = new Set(
  ('include define redefine undefine describe hook device devices table chain rule set element map flowtable handle ruleset ' +
    'socket tproxy accept drop continue jump goto return inet netdev add replace update create insert delete get list reset ' +
    'flush rename import export monitor destroy position index comment constant interval dynamic auto-merge timeout gc-interval ' +
    'elements expires policy size flow offload meter counter last log queue limit quota hour day reject snat dnat masquerade ' +
    'redirect random th bridge ether type typeof vlan 8021ad 8021q arp ip ecn time icmp icmpv6 igmp ip6 priority ah esp comp ' +
    'flags udp udplite vxlan vni geneve gre gretap tcp dccp sctp rt rt0 rt2 srh hbh frag dst mh meta mark iif iifname iiftype ' +
    'oif oifname oiftype skuid skgid nftrace rtclassid ibriport ibrname obriport obrname pkttype cpu iifgroup oifgroup cgroup ' +
    'ct numgen jhash symhash dup fwd fib osf synproxy notrack all exists missing exthdr ipsec secmark xt ' +
    'eq ne le lt ge gt lshift rshift xor and or not vmap').split(' '),
);

export function isNftKeyword(text: string): boolean {
  return KEYWORDS.has(text);
}

/** How bison names a token in "syntax error, unexpected X" (parser_bison.y's %token strings). */
export function tokenName(token: NftToken): string {
  switch (token.kind) {
    case 'eof':
      return 'end of file';
    case 'newline':
      return 'newline';
    case 'number':
      return 'number';
    case 'quoted':
      return 'quoted string';
    case 'junk':
      return 'junk';
    case 'string':
      return isNftKeyword(token.text) ? token.text : 'string';
    case 'punct':
      return PUNCT_NAMES[token.text] ?? token.text;
  }
}

const PUNCT_NAMES: Record<string, string> = {
  ';': 'semicolon', ',': 'comma', ':': 'colon', '{': "'{'", '}': "'}'", '(': "'('", ')': "')'", '[': "'['", ']': "']'",
  '$': "'$'", '=': "'='", '<': "'<'", '>': "'>'", '!': "'!'",
};

// Multi-character operators first (flex takes the longest).
const PUNCTS = ['==', '!=', '<=', '>=', '<<', '>>', ',', '.', ':', ';', '{', '}', '[', ']', '(', ')', '<', '>', '^', '&', '|', '!', '/', '-', '*', '@', '$', '=', '+'];
const STRING = /[A-Za-z_.][A-Za-z0-9/\-_.]*/y;
const HEX_OR_DOTS = /[0-9A-Fa-f:.]+/y;
const HEXSTRING = /0[xX][0-9A-Fa-f]+/y;
const DECSTRING = /[0-9]+/y;
const TIMESTRING = /(?:[0-9]+d)?(?:[0-9]+h)?(?:[0-9]+m(?!s))?(?:[0-9]+s)?(?:[0-9]+ms)?/y;
// {classid}/[ \t\n:\-},]: "1:2" is one string when one of those follows (the trailing character is
// not consumed, but counts for the longest match).
const CLASSID = /[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}(?=[ \t\n:\-},])/y;
const IPV4 = /^(?:[0-9]{1,3}\.){3}[0-9]{1,3}$/;
const MAC = /^(?:[0-9A-Fa-f]{1,2}:){5}[0-9A-Fa-f]{1,2}$/;

function matchAt(pattern: RegExp, text: string, at: number): number {
  pattern.lastIndex = at;
  const m = pattern.exec(text);
  return m ? m[0].length : 0;
}

function isIpv6Text(text: string): boolean {
  if (!text.includes(':') || /:::/.test(text) || text.split('::').length > 2) return false;
  const groups = text.split(':');
  const last = groups[groups.length - 1] as string;
  const hasV4 = last.includes('.');
  if (hasV4 && !IPV4.test(last)) return false;
  const hexGroups = hasV4 ? groups.slice(0, -1) : groups;
  if (!hexGroups.every((g) => /^[0-9A-Fa-f]{0,4}$/.test(g))) return false;
  const count = hexGroups.filter((g) => g !== '').length + (hasV4 ? 2 : 0);
  return text.includes('::') ? count <= 7 : count === 8 && !hexGroups.includes('');
}

/** Length of the longest address (MAC, IPv4, IPv6) starting at `at`, or 0. */
function addressLength(text: string, at: number): number {
  const run = matchAt(HEX_OR_DOTS, text, at);
  for (let length = run; length > 0; length--) {
    const candidate = text.slice(at, at + length);
    if (MAC.test(candidate) || IPV4.test(candidate) || isIpv6Text(candidate)) return length;
  }
  return 0;
}

export function tokenizeNft(input: string): NftToken[] {
  const tokens: NftToken[] = [];
  let line = 1;
  let lineStart = 0;
  let at = 0;
  const push = (kind: NftTokenKind, text: string, start: number, length: number): void => {
    tokens.push({ kind, text, line, first: start - lineStart + 1, last: start - lineStart + length, lineStart });
  };
  while (at < input.length) {
    const ch = input[at] as string;
    if (ch === ' ' || ch === '\t' || ch === '\r') {
      at++;
      continue;
    }
    if (ch === '#') {
      while (at < input.length && input[at] !== '\n') at++;
      continue;
    }
    if (ch === '\n' || (ch === '\\' && input[at + 1] === '\n')) {
      if (ch === '\n') push('newline', '\n', at, 1);
      at += ch === '\n' ? 1 : 2;
      line++;
      lineStart = at;
      continue;
    }
    if (ch === '"') {
      const end = input.indexOf('"', at + 1);
      if (end >= 0) {
        push('quoted', input.slice(at + 1, end), at, end - at + 1);
        // A quoted string may span lines ([^"]*): keep counting them.
        for (let i = at; i < end; i++) {
          if (input[i] === '\n') {
            line++;
            lineStart = i + 1;
          }
        }
        at = end + 1;
        continue;
      }
    }
    const lengths = [
      ['string', addressLength(input, at)],
      ['string', matchAt(TIMESTRING, input, at)],
      ['number', matchAt(HEXSTRING, input, at)],
      ['number', matchAt(DECSTRING, input, at)],
      ['classid', matchAt(CLASSID, input, at)],
      ['string', matchAt(STRING, input, at)],
    ] as Array<[NftTokenKind | 'classid', number]>;
    const punct = PUNCTS.find((p) => input.startsWith(p, at));
    if (punct !== undefined) lengths.splice(0, 0, ['punct', punct.length]);
    let best: [NftTokenKind | 'classid', number] = ['junk', 0];
    for (const candidate of lengths) {
      const reach = candidate[1] + (candidate[0] === 'classid' && candidate[1] > 0 ? 1 : 0);
      if (reach > best[1] + (best[0] === 'classid' && best[1] > 0 ? 1 : 0)) best = candidate;
    }
    if (best[1] === 0) {
      push('junk', ch, at, 1);
      at++;
      continue;
    }
    let kind: NftTokenKind = best[0] === 'classid' ? 'string' : best[0];
    const text = input.slice(at, at + best[1]);
    // A decimal with a leading 0 is octal; digits it cannot hold make it a string (scanner.l).
    if (kind === 'number' && /^0[0-9]*[89]/.test(text)) kind = 'string';
    push(kind, text, at, best[1]);
    at += best[1];
  }
  push('eof', '', at, 0);
  return tokens;
}

/** The value of a number token (decimal, octal with a leading 0, or 0x hex). */
export function numberValue(token: NftToken): bigint {
  const text = token.text;
  if (/^0[xX]/.test(text)) return BigInt(text);
  if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
  return BigInt(text);
}
