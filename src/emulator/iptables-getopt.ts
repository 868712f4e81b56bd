// GNU getopt_long as iptables 1.4 calls it, with optstring
// "-:A:C:D:R:I:L::S::M:F::Z::N:X::E:P:Vh::o:p:s:d:j:i:fbvwnt:m:xc:g:46": one option per call,
// clusters (`-vnx`) taken apart, unique long-option prefixes accepted (`--line` → --line-numbers),
// and the long options of the loaded extensions (`--comment` once `-m comment` was seen). What the
// options mean is iptables-argv.ts's business. Pure.

export type ArgKind = 'none' | 'required' | 'optional';

const SHORT_OPTIONS: Record<string, ArgKind> = {
  A: 'required', C: 'required', D: 'required', R: 'required', I: 'required', L: 'optional', S: 'optional',
  M: 'required', F: 'optional', Z: 'optional', N: 'required', X: 'optional', E: 'required', P: 'required',
  V: 'none', h: 'optional', o: 'required', p: 'required', s: 'required', d: 'required', j: 'required',
  i: 'required', f: 'none', b: 'none', v: 'none', w: 'none', n: 'none', t: 'required', m: 'required',
  x: 'none', c: 'required', g: 'required', '4': 'none', '6': 'none',
};
const LONG_OPTIONS: ReadonlyArray<[string, string]> = [
  ['append', 'A'], ['delete', 'D'], ['check', 'C'], ['insert', 'I'], ['replace', 'R'], ['list', 'L'],
  ['list-rules', 'S'], ['flush', 'F'], ['zero', 'Z'], ['new-chain', 'N'], ['delete-chain', 'X'],
  ['rename-chain', 'E'], ['policy', 'P'], ['source', 's'], ['destination', 'd'], ['src', 's'], ['dst', 'd'],
  ['protocol', 'p'], ['in-interface', 'i'], ['jump', 'j'], ['table', 't'], ['match', 'm'], ['numeric', 'n'],
  ['out-interface', 'o'], ['verbose', 'v'], ['wait', 'w'], ['exact', 'x'], ['fragments', 'f'], ['version', 'V'],
  ['help', 'h'], ['line-numbers', '0'], ['modprobe', 'M'], ['set-counters', 'c'], ['goto', 'g'], ['ipv4', '4'],
  ['ipv6', '6'],
];
const LONG_KIND: Record<string, ArgKind> = { ...SHORT_OPTIONS, '0': 'none' };

/**
 * What one getopt call returned: an option (a letter; '0' for --line-numbers; `--comment` and the
 * like for extension options), a lone `!`, or a word that is no option (iptables says "Bad argument").
 */
export type CommandLineWord =
  | { type: 'option'; option: string; optarg: string | null; word: string }
  | { type: 'bang' }
  | { type: 'argument'; word: string };

export class IptablesGetopt {
  private readonly argv: string[];
  private index = 0;

  constructor(
    argv: readonly string[],
    /** Called for unknown options and missing arguments (iptables' PARAMETER_PROBLEM). */
    private readonly fail: (message: string) => never,
  ) {
    this.argv = [...argv];
  }

  hasMore(): boolean {
    return this.index < this.argv.length;
  }

  /** The next word when it is a plain argument (iptables' optind peek: not starting with '-' or '!'), consumed. */
  takePlain(): string | null {
    const next = this.argv[this.index];
    if (next === undefined || next.startsWith('-') || next.startsWith('!')) return null;
    this.index++;
    return next;
  }

  next(extensionOptions: ReadonlyMap<string, ArgKind>): CommandLineWord {
    const argv = this.argv;
    const word = argv[this.index++] as string;
    if (word.startsWith('--') && word.length > 2) {
      const eq = word.indexOf('=');
      const name = word.slice(2, eq === -1 ? undefined : eq);
      const inline = eq === -1 ? null : word.slice(eq + 1);
      const candidates: Array<[string, string, ArgKind]> = [
        ...LONG_OPTIONS.map(([long, short]): [string, string, ArgKind] => [long, short, LONG_KIND[short] ?? 'none']),
        ...[...extensionOptions].map(([long, kind]): [string, string, ArgKind] => [long, `--${long}`, kind]),
      ];
      const exact = candidates.filter(([long]) => long === name);
      const prefixed = candidates.filter(([long]) => long.startsWith(name));
      const uniqueTargets = new Set(prefixed.map(([, short]) => short));
      const match = exact[0] ?? (uniqueTargets.size === 1 ? prefixed[0] : undefined);
      if (!match) this.fail(`unknown option "${word}"`);
      const [, option, kind] = match as [string, string, ArgKind];
      let optarg: string | null = null;
      if (kind === 'required') {
        optarg = inline ?? argv[this.index++] ?? null;
        if (optarg === null) this.fail(`option "${word}" requires an argument`);
      } else if (kind === 'optional') {
        optarg = inline;
      } else if (inline !== null) {
        this.fail(`unknown option "${word}"`);
      }
      return { type: 'option', option, optarg, word };
    }
    if (word.startsWith('-') && word.length > 1 && !word.startsWith('--')) {
      // One short option per call; the rest of a cluster is handled by re-queueing it.
      const letter = word[1] as string;
      const rest = word.slice(2);
      const kind = SHORT_OPTIONS[letter];
      if (kind === undefined) this.fail(`unknown option "${word}"`);
      let optarg: string | null = null;
      if (kind === 'required') {
        optarg = rest !== '' ? rest : (argv[this.index++] ?? null);
        if (optarg === null) this.fail(`option "${word}" requires an argument`);
      } else if (kind === 'optional') {
        optarg = rest !== '' ? rest : null;
      } else if (rest !== '') {
        // "-vnx": process "-v" now, "-nx" next.
        argv.splice(this.index, 0, `-${rest}`);
      }
      return { type: 'option', option: letter, optarg, word };
    }
    return word === '!' ? { type: 'bang' } : { type: 'argument', word };
  }
}
