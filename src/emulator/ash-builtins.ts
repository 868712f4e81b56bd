// BusyBox ash's builtins that scripts lean on, as BusyBox 1.36 behaves (checked against this
// machine's BusyBox 1.35 in ash-shell.test.ts): `echo` (-n, -e, -E; no escapes without -e),
// `printf` (the format reused while arguments remain, %s %b %c %d %i %u %o %x %X %%, widths and
// precisions, \NNN \xHH escapes, "invalid number 'x'"), and `test`/`[` for strings, numbers and
// the files the emulated router has. Pure.

export interface BuiltinResult {
  stdout: string;
  stderr: string;
  status: number;
}

const SIMPLE_ESCAPES: Record<string, string> = { '\\': '\\', a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '"': '"', "'": "'" };

/** Backslash escapes of printf formats and %b arguments; `stop` set when \c ends the output. */
function unescape(text: string, isPercentB: boolean): { text: string; isStopped: boolean } {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (ch !== '\\' || i + 1 >= text.length) {
      out += ch;
      continue;
    }
    const next = text[i + 1] as string;
    if (SIMPLE_ESCAPES[next] !== undefined) {
      out += SIMPLE_ESCAPES[next];
      i++;
    } else if (next === 'c' && isPercentB) return { text: out, isStopped: true };
    else if (next === 'x' && /^[0-9A-Fa-f]/.test(text[i + 2] ?? '')) {
      const hex = /^[0-9A-Fa-f]{1,2}/.exec(text.slice(i + 2))?.[0] as string;
      out += String.fromCharCode(Number.parseInt(hex, 16));
      i += 1 + hex.length;
    } else if (/[0-7]/.test(next)) {
      const digits = /^[0-7]{1,3}/.exec(text.slice(i + (isPercentB && next === '0' ? 2 : 1)))?.[0] ?? '';
      out += String.fromCharCode(Number.parseInt(digits || '0', 8) & 0xff);
      i += (isPercentB && next === '0' ? 1 : 0) + Math.max(1, digits.length);
    } else out += ch;
  }
  return { text: out, isStopped: false };
}

export function runEcho(args: readonly string[]): BuiltinResult {
  let hasNewline = true;
  let hasEscapes = false;
  let at = 0;
  while (at < args.length && /^-[neE]+$/.test(args[at] as string)) {
    for (const flag of (args[at] as string).slice(1)) {
      if (flag === 'n') hasNewline = false;
      else hasEscapes = flag === 'e';
    }
    at++;
  }
  let text = args.slice(at).join(' ');
  if (hasEscapes) {
    const result = unescape(text, true);
    text = result.text;
    if (result.isStopped) hasNewline = false;
  }
  return { stdout: hasNewline ? `${text}\n` : text, stderr: '', status: 0 };
}

const CONVERSION = /%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([sbcdiouxX%])/g;

export function runPrintf(args: readonly string[], shellName: string): BuiltinResult {
  if (args.length === 0) return { stdout: '', stderr: `${shellName}: printf: usage: printf FORMAT [ARGUMENT...]\n`, status: 1 };
  const format = args[0] as string;
  const values = args.slice(1);
  let next = 0;
  let stdout = '';
  let stderr = '';
  let status = 0;
  const take = (): string | undefined => values[next++];
  const number = (text: string | undefined): number => {
    if (text === undefined || text === '') return 0;
    const m = /^\s*([+-]?(?:0[xX][0-9A-Fa-f]+|\d+))/.exec(text);
    if (!m || m[0].trim() !== text.trim()) {
      stderr += `${shellName}: invalid number '${text}'\n`;
      status = 1;
      return m ? Number(m[1]) : 0;
    }
    return Number(m[1]);
  };
  const pad = (text: string, flags: string, width: number): string =>
    text.length >= width ? text : flags.includes('-') ? text.padEnd(width) : flags.includes('0') && /^[+-]?\d/.test(text) ? text.padStart(width, '0') : text.padStart(width);
  const convert = (flags: string, widthSpec: string | undefined, precisionSpec: string | undefined, conversion: string): { text: string; isStopped: boolean } => {
    const width = widthSpec === '*' ? number(take()) : Number(widthSpec ?? 0);
    const precision = precisionSpec === undefined ? undefined : precisionSpec === '*' ? number(take()) : Number(precisionSpec);
    const value = take();
    let text: string;
    let isStopped = false;
    switch (conversion) {
      case 's':
        text = (value ?? '').slice(0, precision);
        break;
      case 'b': {
        const result = unescape(value ?? '', true);
        ({ text, isStopped } = result);
        break;
      }
      case 'c':
        text = (value ?? '').slice(0, 1);
        break;
      case 'o':
        text = (number(value) >>> 0).toString(8);
        break;
      case 'x':
      case 'X': {
        const hex = (number(value) >>> 0).toString(16);
        text = conversion === 'X' ? hex.toUpperCase() : hex;
        break;
      }
      default: {
        const n = number(value);
        text = `${flags.includes('+') && n >= 0 ? '+' : ''}${n}`;
      }
    }
    return { text: pad(text, flags, width), isStopped };
  };
  for (;;) {
    const usedBefore = next;
    // One pass over the format: escapes in its own text, conversions from the arguments.
    let at = 0;
    while (at < format.length) {
      if (format[at] === '%') {
        CONVERSION.lastIndex = at;
        const m = CONVERSION.exec(format);
        if (m && m.index === at) {
          at += m[0].length;
          if (m[4] === '%') {
            stdout += '%';
            continue;
          }
          const { text, isStopped } = convert(m[1] as string, m[2], m[3], m[4] as string);
          stdout += text;
          if (isStopped) return { stdout, stderr, status };
          continue;
        }
      }
      const literalEnd = format.indexOf('%', at + 1);
      const literal = format.slice(at, literalEnd < 0 ? format.length : literalEnd);
      stdout += unescape(literal, false).text;
      at += literal.length;
    }
    // The format is used again while arguments remain (and it consumed some).
    if (next >= values.length || next === usedBefore) break;
  }
  return { stdout, stderr, status };
}

export type FileKind = 'file' | 'dir' | null;

/** `test EXPR` / `[ EXPR ]`: 0 true, 1 false, 2 for a malformed expression. */
export function runTest(name: string, args: readonly string[], fileKind: (path: string) => FileKind, shellName: string): BuiltinResult {
  let words = [...args];
  if (name === '[') {
    if (words[words.length - 1] !== ']') return { stdout: '', stderr: `${shellName}: [: missing ]\n`, status: 2 };
    words = words.slice(0, -1);
  }
  // BusyBox names the bad operand, not the command: "sh: x: bad number".
  const fail = (message: string): BuiltinResult => ({ stdout: '', stderr: `${shellName}: ${message.endsWith('bad number') ? '' : `${name}: `}${message}\n`, status: 2 });
  const evaluate = (w: string[]): boolean | string => {
    if (w.length === 0) return false;
    if (w[0] === '!') {
      const inner = evaluate(w.slice(1));
      return typeof inner === 'string' ? inner : !inner;
    }
    if (w.length === 1) return (w[0] as string) !== '';
    if (w.length === 2) {
      const [op, operand] = w as [string, string];
      switch (op) {
        case '-n': return operand !== '';
        case '-z': return operand === '';
        case '-e': case '-r': case '-w': case '-s': return fileKind(operand) !== null;
        case '-f': return fileKind(operand) === 'file';
        case '-d': return fileKind(operand) === 'dir';
        case '-x': return fileKind(operand) === 'dir';
        default: return `${op}: unknown operand`;
      }
    }
    if (w.length === 3) {
      const [left, op, right] = w as [string, string, string];
      const numeric = (): [number, number] | string =>
        /^-?\d+$/.test(left) && /^-?\d+$/.test(right) ? [Number(left), Number(right)] : `${/^-?\d+$/.test(left) ? right : left}: bad number`;
      switch (op) {
        case '=': case '==': return left === right;
        case '!=': return left !== right;
        case '-eq': case '-ne': case '-lt': case '-le': case '-gt': case '-ge': {
          const pair = numeric();
          if (typeof pair === 'string') return pair;
          const [a, b] = pair;
          return { '-eq': a === b, '-ne': a !== b, '-lt': a < b, '-le': a <= b, '-gt': a > b, '-ge': a >= b }[op];
        }
        default: return `${op}: unknown operand`;
      }
    }
    return 'syntax error';
  };
  const result = evaluate(words);
  if (typeof result === 'string') return fail(result);
  return { stdout: '', stderr: '', status: result ? 0 : 1 };
}
