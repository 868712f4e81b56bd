// Error texts of iptables (legacy and nf_tables wording), shells and vendor CLIs → typed results,
// so a failure is never mistaken for "0 rules". Real samples: fixtures/iptables/1.8.9-*/
// iptables-errors.txt, fixtures/broadcom-cli/*/; e.g.
//   iptables: No chain/target/match by that name.
//   iptables v1.8.9 (nf_tables): chain `TRAFFIC' in table `filter' is incompatible, use 'nft' tool.
//   telnetd:error:774.006:processInput:406:unrecognized command ls
//
// Note (measured, iptables 1.8.9 nf_tables): listing a chain that does not exist prints the
// "incompatible, use 'nft' tool" text, not "No chain". The 'incompatible-nft' result therefore
// carries `mayBeMissingChain: true`; callers should check the chain list before concluding.

export type RouterOutputProblem =
  /** The chain (or a jump target / match) does not exist. */
  | { kind: 'no-chain'; line: string; chain: string | null }
  /** `-N` of a chain that exists. */
  | { kind: 'chain-exists'; line: string }
  /** `-X` of a chain still referenced or not empty. */
  | { kind: 'chain-in-use'; line: string }
  /** `-D`/`-C` of a rule that is not there. */
  | { kind: 'no-rule'; line: string }
  /** A rule number beyond the chain (`-I FORWARD 99`, `-D TRAFFIC 7` on a shorter chain). */
  | { kind: 'bad-index'; line: string }
  /** iptables-nft cannot represent the chain (or, on 1.8.9, the chain is missing). */
  | { kind: 'incompatible-nft'; line: string; chain: string | null; table: string | null; mayBeMissingChain: true }
  /** A match/target extension is missing (e.g. `-m comment` on a stripped-down router). */
  | { kind: 'no-extension'; line: string; extension: string | null }
  /** iptables refused an argument: Bad argument, unknown option, Unknown arg, Illegal option, bad address. */
  | { kind: 'bad-argument'; line: string; argument: string | null }
  /** Not root, or no capability. */
  | { kind: 'permission-denied'; line: string }
  /** Another iptables holds the xtables lock. */
  | { kind: 'lock-busy'; line: string }
  /** The kernel lacks the table/module. */
  | { kind: 'kernel-missing'; line: string }
  /** The shell has no such program (`sh: iptables: not found`). */
  | { kind: 'not-found'; line: string; command: string | null }
  /** A vendor CLI does not know the command (`telnetd:error:…:unrecognized command`, `Invalid command`). */
  | { kind: 'unknown-command'; line: string; command: string | null }
  /** A vendor CLI says the command failed without saying why. */
  | { kind: 'command-failed'; line: string }
  /** Some other line in iptables' error format (`iptables vX: …`). */
  | { kind: 'iptables-error'; line: string };

export type RouterOutputKind = RouterOutputProblem['kind'];

interface Matcher {
  re: RegExp;
  make: (m: RegExpExecArray, line: string) => RouterOutputProblem;
}

const EXTENSION_TARGETS = new Set([
  'AUDIT', 'CHECKSUM', 'CLASSIFY', 'CONNMARK', 'CT', 'DNAT', 'DSCP', 'ECN', 'IDLETIMER', 'LED', 'LOG', 'MARK', 'MASQUERADE',
  'NETMAP', 'NFLOG', 'NFQUEUE', 'NOTRACK', 'REDIRECT', 'REJECT', 'SET', 'SNAT', 'TCPMSS', 'TEE', 'TOS', 'TPROXY', 'TRACE', 'TTL', 'ULOG',
]);

const PREFIX = String.raw`(?:ip6?tables(?:-\w+)?(?: v[\d.]+(?: \([^)]*\))?)?: )?`;

// Order matters: specific wording first, the generic iptables format last.
const MATCHERS: Matcher[] = [
  {
    re: new RegExp(String.raw`${PREFIX}chain [\`'"]([^'\`"]+)['\`"] in table [\`'"]([^'\`"]+)['\`"] is incompatible`, 'i'),
    make: (m, line) => ({ kind: 'incompatible-nft', line, chain: m[1] ?? null, table: m[2] ?? null, mayBeMissingChain: true }),
  },
  { re: /No chain\/target\/match by that name/i, make: (_m, line) => ({ kind: 'no-chain', line, chain: null }) },
  { re: /Chain ['`"]([^'`"]+)['`"] does not exist/i, make: (m, line) => ({ kind: 'no-chain', line, chain: m[1] ?? null }) },
  { re: /Chain already exists|File exists/i, make: (_m, line) => ({ kind: 'chain-exists', line }) },
  { re: /Too many links|Directory not empty|Device or resource busy/i, make: (_m, line) => ({ kind: 'chain-in-use', line }) },
  { re: /Index of (?:insertion|deletion|replacement) too big|Invalid rule number|Index out of range/i, make: (_m, line) => ({ kind: 'bad-index', line }) },
  { re: /Bad rule \(does a matching rule exist|does a matching rule exist in that chain/i, make: (_m, line) => ({ kind: 'no-rule', line }) },
  { re: /Couldn't load match [`'"]?([^'`":]+)['`"]?/i, make: (m, line) => ({ kind: 'no-extension', line, extension: m[1] ?? null }) },
  {
    // iptables-legacy 1.8.9 says "Couldn't load target `TRAFFIC'" for a jump to a missing user
    // chain; for a known extension target (LOG, REJECT…) it means the module is missing.
    re: /Couldn't load target [`'"]?([^'`":]+)['`"]?/i,
    make: (m, line) => {
      const name = m[1] ?? null;
      return name !== null && !EXTENSION_TARGETS.has(name)
        ? { kind: 'no-chain', line, chain: name }
        : { kind: 'no-extension', line, extension: name };
    },
  },
  { re: /Permission denied|you must be root|Operation not permitted/i, make: (_m, line) => ({ kind: 'permission-denied', line }) },
  { re: /Another app is currently holding the xtables lock|Resource temporarily unavailable/i, make: (_m, line) => ({ kind: 'lock-busy', line }) },
  { re: /can't initialize ip6?tables table|Table does not exist \(do you need to insmod\?\)|Protocol not supported/i, make: (_m, line) => ({ kind: 'kernel-missing', line }) },
  { re: /^(?:-?\w*sh: )?(?:line \d+: )?([^\s:]+): (?:command )?not found/i, make: (m, line) => ({ kind: 'not-found', line, command: m[1] ?? null }) },
  { re: /^(?:-?\w*sh: )?can't execute '([^']+)'/i, make: (m, line) => ({ kind: 'not-found', line, command: m[1] ?? null }) },
  { re: /unrecognized command\s*(.*)$/i, make: (m, line) => ({ kind: 'unknown-command', line, command: m[1]?.trim() || null }) },
  { re: /^%?\s*(?:Invalid|Unknown|Unrecognized) command\b[.:]?\s*(.*)$/i, make: (m, line) => ({ kind: 'unknown-command', line, command: m[1]?.trim() || null }) },
  { re: /^Command failed\b/i, make: (_m, line) => ({ kind: 'command-failed', line }) },
  { re: /Bad argument [`'"]?([^'`"]*)['`"]?/i, make: (m, line) => ({ kind: 'bad-argument', line, argument: m[1] || null }) },
  { re: /(?:unknown option|Unknown arg(?:ument)?|Illegal option|invalid option)[: ]*[`'"]?([^'`"\s]*)['`"]?/i, make: (m, line) => ({ kind: 'bad-argument', line, argument: m[1] || null }) },
  { re: /host\/network [`'"]([^'`"]+)['`"] not found|invalid (?:mask|port|interface name|TCP port|protocol)[^`'"]*[`'"]?([^'`"]*)/i, make: (m, line) => ({ kind: 'bad-argument', line, argument: m[1] ?? m[2] ?? null }) },
  { re: /option "([^"]+)" must be specified|Multiple .* flags not allowed|can't be specified|requires an argument/i, make: (m, line) => ({ kind: 'bad-argument', line, argument: m[1] ?? null }) },
  { re: new RegExp(String.raw`^ip6?tables(?:-\w+)?(?: v[\d.]+(?: \([^)]*\))?)?: `), make: (_m, line) => ({ kind: 'iptables-error', line }) },
];

/** Classifies one line; null when it is not a recognised error. */
export function classifyRouterLine(line: string): RouterOutputProblem | null {
  const text = line.trim();
  if (text === '' || text.length > 2000) return null;
  for (const { re, make } of MATCHERS) {
    const m = re.exec(text);
    if (m) return make(m, text);
  }
  return null;
}

/**
 * The first recognised error in a command's output, or null when the output carries none.
 * Lines are examined in order; "Try `iptables -h' …" hints are skipped. Never throws.
 */
export function classifyRouterOutput(text: string): RouterOutputProblem | null {
  if (typeof text !== 'string') return null;
  for (const line of text.split(/\r?\n|\r/)) {
    if (/^Try [`']ip6?tables -h'/.test(line.trim())) continue;
    const problem = classifyRouterLine(line);
    if (problem) return problem;
  }
  return null;
}

/** Every recognised error line of an output, in order (for diagnostics). */
export function classifyRouterOutputAll(text: string): RouterOutputProblem[] {
  if (typeof text !== 'string') return [];
  const out: RouterOutputProblem[] = [];
  for (const line of text.split(/\r?\n|\r/)) {
    if (/^Try [`']ip6?tables -h'/.test(line.trim())) continue;
    const problem = classifyRouterLine(line);
    if (problem) out.push(problem);
  }
  return out;
}

/** Alias kept for the wording: classifies iptables error text. */
export const parseIptablesError = classifyRouterOutput;
