// Splits one shell command line into words the way BusyBox ash would for the simple lines the
// emulator understands: blanks separate words, '…' and "…" quote, backslash escapes outside single
// quotes. No globbing, no variables except what the caller expands. Pure.

export interface ShellWordsResult {
  words: string[];
  /** True when a quote was left open (ash would wait for more input; the emulator reports an error). */
  isUnterminated: boolean;
}

export function splitShellWords(line: string): ShellWordsResult {
  const words: string[] = [];
  let current = '';
  let hasWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote === "'") {
      if (ch === "'") quote = null;
      else current += ch;
      continue;
    }
    if (quote === '"') {
      if (ch === '"') quote = null;
      else if (ch === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1] as string)) current += line[++i];
      else current += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      hasWord = true;
    } else if (ch === '\\' && i + 1 < line.length) {
      current += line[++i];
      hasWord = true;
    } else if (ch === ' ' || ch === '\t') {
      if (hasWord) words.push(current);
      current = '';
      hasWord = false;
    } else {
      current += ch;
      hasWord = true;
    }
  }
  if (hasWord) words.push(current);
  return { words, isUnterminated: quote !== null };
}

/**
 * Splits a line into commands at unquoted `;`, `&&` and `||`. Each part keeps its raw text and the
 * operator that joins it to the previous part. Pipes and redirections other than the few the shells
 * strip themselves are not interpreted.
 */
export interface CommandPart {
  text: string;
  /** How this part follows the previous one; ';' for the first. */
  joiner: ';' | '&&' | '||';
}

export function splitCommandList(line: string): CommandPart[] {
  const parts: CommandPart[] = [];
  let current = '';
  let joiner: CommandPart['joiner'] = ';';
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i] as string;
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) {
        current += ch + (line[++i] as string);
        continue;
      }
      current += ch;
      continue;
    }
    if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
      continue;
    }
    if (ch === '\\' && i + 1 < line.length) {
      current += ch + (line[++i] as string);
      continue;
    }
    const two = line.slice(i, i + 2);
    if (ch === ';' || two === '&&' || two === '||') {
      parts.push({ text: current, joiner });
      joiner = ch === ';' ? ';' : (two as '&&' | '||');
      if (ch !== ';') i++;
      current = '';
      continue;
    }
    current += ch;
  }
  parts.push({ text: current, joiner });
  return parts.filter((part) => part.text.trim() !== '' || part.joiner !== ';');
}
