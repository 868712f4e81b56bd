// BusyBox `grep` as the emulated routers' shells run it (issue 19: lantop filters the connection
// table on the router with `grep -F -e 'src=IP ' -e 'dst=IP ' /proc/net/nf_conntrack`). BusyBox's
// grep.c: options through getopt32 (clustered `-Fe X`, `-eX`), every -e a pattern, the first
// operand the pattern when there is no -e, the rest files (none: stdin), `FILE:` before lines when
// there are several files, -F fixed strings, -i -v -x -w -c -q -s -h -H -n, basic regular
// expressions otherwise (-E extended); exit 0 on a match, 1 on none, 2 on a file it could not open.
// Pure: files come from the persona's reader.

export interface GrepResult {
  stdout: string;
  stderr: string;
  status: number;
}

const USAGE =
  'BusyBox v1.36.1 (2023-10-09 21:45:35 UTC) multi-call binary.\n\nUsage: grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...\n';
const FLAGS = 'FEivxwcqshHnlL';

/** A basic (or extended) regular expression as a JavaScript one; null when it does not compile. */
function compileRegex(pattern: string, isExtended: boolean, isIgnoreCase: boolean): RegExp | null {
  let source = pattern;
  if (!isExtended) {
    // BRE: \( \) \{ \} \| are the operators, bare ( ) { } | + ? are literal characters.
    source = '';
    for (let i = 0; i < pattern.length; i++) {
      const ch = pattern[i] as string;
      if (ch === '\\' && i + 1 < pattern.length) {
        const next = pattern[++i] as string;
        source += '(){}|+?'.includes(next) ? next : `\\${next}`;
      } else source += '(){}|+?'.includes(ch) ? `\\${ch}` : ch;
    }
  }
  try {
    return new RegExp(source, isIgnoreCase ? 'i' : '');
  } catch {
    return null;
  }
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function runGrep(args: readonly string[], stdin: string, readFile: (path: string) => string | null): GrepResult {
  const patterns: string[] = [];
  const flags = new Set<string>();
  const operands: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--') {
      operands.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      operands.push(arg);
      continue;
    }
    for (let j = 1; j < arg.length; j++) {
      const letter = arg[j] as string;
      if (letter === 'e') {
        const rest = arg.slice(j + 1);
        const value = rest !== '' ? rest : args[++i];
        if (value === undefined) return { stdout: '', stderr: `grep: option requires an argument -- 'e'\n${USAGE}`, status: 2 };
        patterns.push(value);
        break;
      }
      if (!FLAGS.includes(letter)) return { stdout: '', stderr: `grep: invalid option -- '${letter}'\n${USAGE}`, status: 2 };
      flags.add(letter);
    }
  }
  if (patterns.length === 0) {
    const first = operands.shift();
    if (first === undefined) return { stdout: '', stderr: USAGE, status: 2 };
    patterns.push(first);
  }
  const isIgnoreCase = flags.has('i');
  const isWhole = flags.has('x');
  const isWord = flags.has('w');
  const matchers: RegExp[] = [];
  for (const pattern of patterns) {
    // Each pattern may hold several, one per line (as -e 'a\nb' or -f would give).
    for (const one of pattern.split('\n')) {
      let source: string;
      if (flags.has('F')) source = escapeRegex(one);
      else {
        const compiled = compileRegex(one, flags.has('E'), isIgnoreCase);
        if (compiled === null) return { stdout: '', stderr: `grep: bad regex '${one}'\n`, status: 2 };
        source = compiled.source;
      }
      if (isWhole) source = `^(?:${source})$`;
      else if (isWord) source = `(?:^|[^A-Za-z0-9_])(?:${source})(?=$|[^A-Za-z0-9_])`;
      matchers.push(new RegExp(source, isIgnoreCase ? 'i' : ''));
    }
  }
  const files = operands.length === 0 ? ['-'] : operands;
  const isNamed = flags.has('H') || (files.length > 1 && !flags.has('h'));
  const isInverted = flags.has('v');
  let stdout = '';
  let stderr = '';
  let isMatched = false;
  let hasOpenError = false;
  for (const file of files) {
    const text = file === '-' ? stdin : readFile(file);
    if (text === null) {
      if (!flags.has('s')) stderr += `grep: ${file}: No such file or directory\n`;
      hasOpenError = true;
      continue;
    }
    const label = file === '-' ? '(standard input)' : file;
    const lines = text.split('\n');
    if (lines[lines.length - 1] === '') lines.pop();
    let count = 0;
    for (let n = 0; n < lines.length; n++) {
      const line = lines[n] as string;
      let isHit = false;
      for (const matcher of matchers) {
        if (matcher.test(line)) {
          isHit = true;
          break;
        }
      }
      if (isHit === isInverted) continue;
      count++;
      isMatched = true;
      if (flags.has('q')) return { stdout: '', stderr: '', status: 0 };
      if (flags.has('c') || flags.has('l') || flags.has('L')) continue;
      stdout += `${isNamed ? `${label}:` : ''}${flags.has('n') ? `${n + 1}:` : ''}${line}\n`;
    }
    if (flags.has('c')) stdout += `${isNamed ? `${label}:` : ''}${count}\n`;
    else if (flags.has('l') && count > 0) stdout += `${label}\n`;
    else if (flags.has('L') && count === 0) stdout += `${label}\n`;
  }
  return { stdout, stderr, status: hasOpenError && !(flags.has('q') && isMatched) ? 2 : isMatched ? 0 : 1 };
}
