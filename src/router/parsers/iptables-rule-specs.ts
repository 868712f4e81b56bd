// `iptables -S CHAIN` / `ip6tables -S CHAIN` (the rules as iptables-save writes them) → one record
// per `-N`/`-P`/`-A` line, its words split as a shell would (iptables quotes a comment with blanks
// or quotes in it: xtables_save_string). Example rows (iptables v1.8.9 legacy, captured in a
// network namespace, fixtures/blocking/SOURCE.md):
//   -N LANTOP_BLOCK
//   -A LANTOP_BLOCK -s 198.51.100.10/32 -m time --datestop 2030-01-01T00:00:00 -m comment --comment "lantop-block:ip:198.51.100.10@1893456000" -j DROP
//   -A FORWARD -j LANTOP_BLOCK
// A missing chain answers `iptables: No chain/target/match by that name.` (isMissingChain).
// Lines that are none of these are skipped and reported; the parser never throws.

export interface RuleSpecLine {
  kind: '-N' | '-P' | '-A';
  chain: string;
  /** The words after the chain name (for -P: the policy). */
  args: string[];
}

export interface RuleSpecReport {
  lines: RuleSpecLine[];
  /** The chain does not exist (the tool said so). */
  isMissingChain: boolean;
  skipped: string[];
}

const CHAIN_NAME = /^[A-Za-z0-9_.-]{1,28}$/;

/** Shell-like words: blanks split, "…" and '…' group (a backslash escapes inside "…"); null on an open quote. */
export function splitWords(line: string): string[] | null {
  const words: string[] = [];
  let word = '';
  let hasWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quote !== null) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) word += line[++i];
      else word += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      hasWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (hasWord) words.push(word);
      word = '';
      hasWord = false;
    } else {
      word += ch;
      hasWord = true;
    }
  }
  if (quote !== null) return null;
  if (hasWord) words.push(word);
  return words;
}

export function parseRuleSpecs(text: string): RuleSpecReport {
  const lines: RuleSpecLine[] = [];
  const skipped: string[] = [];
  let isMissingChain = false;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/\r$/, '').trim();
    if (line === '') continue;
    if (/No chain\/target\/match by that name|chain .* does not exist|doesn't exist/i.test(line)) {
      isMissingChain = true;
      continue;
    }
    const words = line.startsWith('-') ? splitWords(line) : null;
    const kind = words?.[0];
    const chain = words?.[1];
    if (words === null || (kind !== '-N' && kind !== '-P' && kind !== '-A') || chain === undefined || !CHAIN_NAME.test(chain)) {
      skipped.push(line);
      continue;
    }
    lines.push({ kind, chain, args: words.slice(2) });
  }
  return { lines, isMissingChain, skipped };
}
