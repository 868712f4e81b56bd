// The planner's iptables command lines, re-validated against a small alphabet before any of them is
// joined into a shell line or an iptables-restore script, and quoted for the shell where needed.
// ip6tables plans (issue 15) are read the same way, as family 6: each family accepts only its own
// binary, so an ip6tables line never passes for an iptables one, nor the reverse.
import type { AddressFamily } from '../../../../domain/address.js';

/** Words a shell reads literally without quoting (`!` is history expansion in an interactive bash). */
export const BARE_WORD = /^[A-Za-z0-9_.,:/+=@-]+$/;
const BINARY: Readonly<Record<AddressFamily, RegExp>> = {
  4: /^(?:\/[A-Za-z0-9_./-]*\/)?iptables(?:-legacy|-nft)?$/,
  6: /^(?:\/[A-Za-z0-9_./-]*\/)?ip6tables(?:-legacy|-nft)?$/,
};
const ACTIONS = new Set(['-N', '-A', '-I', '-D', '-F', '-X', '-R']);
/** Actions that must name a chain (-F and -X without one would act on every chain). */
const NEEDS_CHAIN = new Set(['-N', '-A', '-I', '-D', '-R']);

export interface ParsedCommand {
  binary: string;
  action: string;
  chain: string | null;
  /** Everything after the binary, as iptables-restore reads it. */
  words: string[];
}

/**
 * A character iptables-restore or a shell might read as more than itself (quotes, `$`, `#`, `;`,
 * globs, controls…); words are separated by single blanks. One scan per rule: this runs 500 times
 * per set-up.
 */
const UNSAFE_CHAR = /[^A-Za-z0-9_.,:/+=!@ -]/;

/** The binary of the previous command of each family, already checked (plans repeat it on every line). */
const lastBinary: Record<AddressFamily, string> = { 4: '', 6: '' };

/** An iptables (family 6: ip6tables) command line of the planner, or null when it is anything else. */
export function parseIptablesCommand(command: string, family: AddressFamily = 4): ParsedCommand | null {
  if (typeof command !== 'string' || command.length > 2000 || UNSAFE_CHAR.test(command)) return null;
  if (command.startsWith(' ') || command.endsWith(' ') || command.includes('  ')) return null;
  const words = command.split(' ');
  const [binary, action, chain] = words;
  if (binary === undefined || (binary !== lastBinary[family] && !BINARY[family].test(binary))) return null;
  lastBinary[family] = binary;
  if (action === undefined || !ACTIONS.has(action)) return null;
  if (NEEDS_CHAIN.has(action) && chain === undefined) return null;
  for (let i = 2; i < words.length; i++) {
    const word = words[i]!;
    // Another table, or a second command in one line: not what the planner writes.
    if (word === '-t' || word === '--table' || (ACTIONS.has(word) && words[i - 1] !== '-j')) return null;
  }
  return { binary, action, chain: chain ?? null, words: words.slice(1) };
}

/** The words of a command, each quoted only where a shell would read it otherwise. */
export function shellWords(words: readonly string[]): string {
  return words.map((w) => (BARE_WORD.test(w) ? w : shellQuote(w))).join(' ');
}

export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
