// `lantop counter add NAME --chain input|output|forward [--in IF] [--out IF] [--src CIDR|!CIDR]
// [--dst CIDR|!CIDR] [--proto tcp|udp|icmp] [--sport N] [--dport N]` (issue 18): the words after
// `counter add` → a CustomCounter (domain/custom-counter.ts decides what is valid), or every problem
// at once, each after the flag it concerns. Here and not in domain/ because the flag is named
// `--chain` (the issue's word), which domain/ may not speak of (test/architecture.test.ts).
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { makeCustomCounter, type CounterInput, type CustomCounter } from '../domain/custom-counter.js';

export const COUNTER_ADD_USAGE = 'lantop counter add NAME --chain input|output|forward [--in IF] [--out IF] [--src CIDR|!CIDR] [--dst CIDR|!CIDR] [--proto tcp|udp|icmp] [--sport N] [--dport N]';

/** Each flag and the field it fills. */
const FLAGS: Readonly<Record<string, Exclude<keyof CounterInput, 'name'>>> = {
  '--chain': 'hook',
  '--in': 'inIf',
  '--out': 'outIf',
  '--src': 'src',
  '--dst': 'dst',
  '--proto': 'proto',
  '--sport': 'sport',
  '--dport': 'dport',
};
const FLAG_OF = new Map<keyof CounterInput, string>(Object.entries(FLAGS).map(([flag, field]) => [field, flag]));

export type CounterSpecResult = { counter: CustomCounter; problems: [] } | { counter: null; problems: string[] };

const quoted = (word: string) => `'${sanitizeText(word, 48)}'`;

/**
 * The words after `counter add`. A flag's value follows it (`--src 198.51.100.0/24`) or an `=`
 * (`--src=!198.51.100.0/24`); `!` before a network negates it (quote it in an interactive shell).
 */
export function parseCounterSpec(words: readonly string[]): CounterSpecResult {
  const problems: string[] = [];
  const input: CounterInput = {};
  const names: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = String(words[i]);
    if (!word.startsWith('--')) {
      names.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    const flag = eq < 0 ? word : word.slice(0, eq);
    const field = FLAGS[flag];
    if (field === undefined) {
      problems.push(`unknown option ${quoted(flag)} (counter add takes ${Object.keys(FLAGS).join(', ')})`);
      if (eq < 0 && i + 1 < words.length && !String(words[i + 1]).startsWith('--')) i++;
      continue;
    }
    let value: string | undefined;
    if (eq >= 0) value = word.slice(eq + 1);
    else if (i + 1 < words.length && !String(words[i + 1]).startsWith('--')) value = String(words[++i]);
    if (value === undefined || value === '') {
      problems.push(`${flag} needs a value`);
      continue;
    }
    if (input[field] !== undefined) {
      problems.push(`${flag} is given twice: one counter has one of each`);
      continue;
    }
    input[field] = value;
  }
  if (names.length === 0) problems.push(`a counter name comes first: ${COUNTER_ADD_USAGE}`);
  else input.name = names[0];
  for (const extra of names.slice(1)) problems.push(`unexpected word ${quoted(extra)}: one counter name, then options`);
  const made = makeCustomCounter(input);
  for (const p of made.problems) {
    // Without a name the usage line above said it already.
    if (p.field === 'name' && input.name === undefined) continue;
    problems.push(p.field === 'name' ? `name: ${p.message}` : `${FLAG_OF.get(p.field)}: ${p.message}`);
  }
  return made.counter !== null && problems.length === 0 ? { counter: made.counter, problems: [] } : { counter: null, problems };
}

/** The problems as the one error `counter add` exits with (exit code 2). */
export function counterSpecError(problems: readonly string[]): UsageError {
  const text = problems.length === 1 ? problems[0]! : `the counter has ${problems.length} problems:\n${problems.map((p) => `  - ${p}`).join('\n')}`;
  return new UsageError(text, `Usage: ${COUNTER_ADD_USAGE}`);
}
