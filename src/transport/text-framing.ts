// Pure text helpers for interactive sessions (telnet, SSH shell): line ends, terminal rendering of a
// line, the prompt/login/pager patterns seen on routers, and stripping the echoed command.

/** `Login:`, `login:`, `DD-WRT login: `, `Username:`, `User Name:` — at the very end of the text. */
export const LOGIN_PROMPT = /(?:login|user\s?name)[ \t]*:[ \t]*$/i;
/** `Password:`, `password: ` — at the very end of the text. */
export const PASSWORD_PROMPT = /password[ \t]*:[ \t]*$/i;
/** What routers print after a refused login (BusyBox: "Login incorrect"; others: "Access denied"…). */
export const LOGIN_FAILED = /incorrect|denied|fail|invalid|bad password|wrong/i;
/** A shell or vendor CLI prompt: ` > `, `>`, `ATP>`, `# `, `$ `, `root@DD-WRT:~# `, `%`. */
export const PROMPT_LIKE = /[#$>%][ \t]*$/;
/** Pagers at the end of the text: `--More--`, ` --More-- (45%)`, `---- More ----`. */
export const PAGER = /(?:^|[ \t])-{2,} ?more ?-*(?: ?\(\d+%\))?[ \t]*$/i;

const MAX_PROMPT_LENGTH = 160;

/**
 * Incremental line-end normalisation: CR LF, CR CR LF → LF; CR NUL → CR; lone NUL dropped. A CR at
 * the end of a chunk is held back until the next chunk shows whether an LF follows. Lone CRs stay:
 * they mean "back to column 0" and renderTerminalLine handles them.
 */
export class LineEndNormalizer {
  private pending = '';

  push(text: string): string {
    let joined = this.pending + text;
    this.pending = '';
    // Trailing CRs by index: /\r+$/ tried a match at every CR of a CR LF listing, per arrival.
    let end = joined.length;
    while (end > 0 && joined.charCodeAt(end - 1) === 13) end--;
    if (end < joined.length) {
      this.pending = joined.slice(end);
      joined = joined.slice(0, end);
    }
    return normalizeLineEnds(joined);
  }

  /** Whatever was held back (the connection ended). */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    return rest;
  }
}

function normalizeLineEnds(text: string): string {
  const lines = text.includes('\r') ? text.replace(/\r+\n/g, '\n') : text;
  return lines.includes('\0') ? lines.replace(/\r\0/g, '\r').replace(/\0/g, '') : lines;
}

// CSI sequences (ESC [ params final) and other ESC sequences.
const CSI = /^\u001b\[([0-?]*)[ -/]*([@-~])/;
const OTHER_ESCAPE = /^\u001b(?:\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_]|.)?/;

/**
 * Renders one line as a terminal would show it: CR returns to column 0 and overwrites, BS moves
 * back, ESC[K erases to the end, ESC[nG moves to a column, other escape sequences vanish.
 * Pagers erase their `--More--` this way, so the rendered line carries no pager residue.
 */
export function renderTerminalLine(line: string): string {
  if (!/[\r\b\u001b]/.test(line)) return line;
  const cells: string[] = [];
  let cursor = 0;
  let index = 0;
  while (index < line.length) {
    const char = line[index]!;
    if (char === '\r') {
      cursor = 0;
      index += 1;
    } else if (char === '\b') {
      cursor = Math.max(0, cursor - 1);
      index += 1;
    } else if (char === '\u001b') {
      const rest = line.slice(index);
      const csi = CSI.exec(rest);
      if (csi) {
        const parameter = Number.parseInt(csi[1] ?? '', 10);
        const final = csi[2];
        if (final === 'K') {
          if (!parameter) cells.length = Math.min(cells.length, cursor);
          else if (parameter === 2) cells.length = 0;
        } else if (final === 'G') {
          cursor = Math.max(0, (Number.isNaN(parameter) ? 1 : parameter) - 1);
        } else if (final === 'D') {
          cursor = Math.max(0, cursor - (Number.isNaN(parameter) ? 1 : parameter));
        }
        index += csi[0].length;
      } else {
        index += Math.max(1, OTHER_ESCAPE.exec(rest)?.[0].length ?? 1);
      }
    } else {
      while (cells.length < cursor) cells.push(' ');
      cells[cursor] = char;
      cursor += 1;
      index += 1;
    }
  }
  // Erasing with spaces (`\r        \r`) leaves trailing blanks that were never output.
  return cells.join('').replace(/[ \t]+$/, '');
}

/** Every line rendered; line ends must already be normalised. */
export function renderText(text: string): string {
  if (!/[\r\b\u001b]/.test(text)) return text;
  return text.split('\n').map(renderTerminalLine).join('\n');
}

export function lastLine(text: string): string {
  return text.slice(text.lastIndexOf('\n') + 1);
}

/** True when the (rendered) last line looks like a shell or CLI prompt waiting for input. */
export function isPromptLike(line: string): boolean {
  return line.trim().length > 0 && line.length <= MAX_PROMPT_LENGTH && PROMPT_LIKE.test(line);
}

/**
 * Removes the echoed command from the start of a reply. The echo may be wrapped by the terminal
 * (line breaks, `␠\r` inserted at the right margin), so it is matched character by character,
 * skipping line-break characters; if the reply does not start with the command (a server that does
 * not echo), the text is returned unchanged.
 */
export function stripEcho(text: string, sentLine: string): string {
  const wanted = sentLine.replace(/\s+$/, '');
  if (wanted.length === 0) return text.startsWith('\n') ? text.slice(1) : text;
  let at = 0;
  // A prompt's trailing space that arrived late sits before the echo.
  while (text[at] === ' ') at += 1;
  let matched = 0;
  while (at < text.length && matched < wanted.length) {
    const char = text[at]!;
    if (char === wanted[matched]) {
      matched += 1;
      at += 1;
    } else if (char === '\n' || char === '\r' || (char === ' ' && /^ ?[\r\n]/.test(text.slice(at + 1)))) {
      at += 1;
    } else {
      return text;
    }
  }
  if (matched < wanted.length) return text;
  const lineEnd = text.indexOf('\n', at);
  return lineEnd < 0 ? '' : text.slice(lineEnd + 1);
}

/** Last lines of what the router printed, for "not a shell we understand" errors (unsanitised). */
export function tailLines(text: string, count = 8): string {
  return text.split('\n').slice(-count).join('\n');
}
