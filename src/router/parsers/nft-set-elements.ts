// `nft list table FAMILY NAME` (text) → the elements of each set with their timeout, expires and
// comment, which the accounting parser does not keep. Sample (nft 1.0.6, captured in a network
// namespace, fixtures/blocking/nft-1.0.6-block-table.txt):
//
//   	set v4 {
//   		type ipv4_addr
//   		flags timeout
//   		elements = { 198.51.100.10 timeout 2h30m expires 2h29m58s comment "lantop-block:02:00:00:00:00:01@1767225600" }
//   	}
//
// Several elements are separated by commas and may wrap over lines; options come in any order
// (src/expression.c, set_elem_expr_print). Pure; never throws; unreadable elements are reported.
import { durationMs } from './nft-duration.js';

export interface SetElementText {
  value: string;
  timeoutMs: number | null;
  expiresMs: number | null;
  comment: string | null;
}

export interface SetElementsReport {
  /** Set name → its elements, for every set listed (a set without elements maps to []). */
  sets: Map<string, SetElementText[]>;
  skipped: string[];
}

const SET_OPEN = /^\s*set\s+([A-Za-z0-9_]{1,64})\s*\{/;

/** Splits at commas outside double quotes. */
function splitElements(body: string): string[] {
  const out: string[] = [];
  let current = '';
  let isQuoted = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '"' && body[i - 1] !== '\\') isQuoted = !isQuoted;
    if (ch === ',' && !isQuoted) {
      out.push(current);
      current = '';
    } else current += ch;
  }
  out.push(current);
  return out.map((e) => e.trim()).filter((e) => e !== '');
}

function parseElement(text: string): SetElementText | null {
  const comment = /\bcomment\s+"((?:[^"\\]|\\.)*)"/.exec(text);
  const rest = comment ? text.slice(0, comment.index) + text.slice(comment.index + comment[0].length) : text;
  const words = rest.trim().split(/\s+/);
  const value = words[0];
  if (value === undefined || value === '' || value.includes('"')) return null;
  let timeoutMs: number | null = null;
  let expiresMs: number | null = null;
  for (let i = 1; i < words.length; i++) {
    if (words[i] === 'timeout') timeoutMs = durationMs(words[++i] ?? '');
    else if (words[i] === 'expires') expiresMs = durationMs(words[++i] ?? '');
  }
  return { value, timeoutMs, expiresMs, comment: comment ? comment[1]!.replace(/\\(.)/g, '$1') : null };
}

export function parseSetElements(text: string): SetElementsReport {
  const sets = new Map<string, SetElementText[]>();
  const skipped: string[] = [];
  const lines = text.split('\n');
  let current: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    const open = SET_OPEN.exec(line);
    if (open) {
      current = open[1]!;
      sets.set(current, []);
      continue;
    }
    if (current === null) continue;
    const at = line.indexOf('elements = {');
    if (at < 0) {
      if (/^\s*}\s*$/.test(line)) current = null;
      continue;
    }
    // Gather until the closing brace outside quotes.
    let body = line.slice(at + 'elements = {'.length);
    while (!closes(body) && i + 1 < lines.length) body += ' ' + lines[++i]!.replace(/\r$/, '').trim();
    const end = closingIndex(body);
    for (const element of splitElements(end < 0 ? body : body.slice(0, end))) {
      const parsed = parseElement(element);
      if (parsed === null) skipped.push(element);
      else sets.get(current)!.push(parsed);
    }
  }
  return { sets, skipped };
}

function closingIndex(body: string): number {
  let isQuoted = false;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '"' && body[i - 1] !== '\\') isQuoted = !isQuoted;
    else if (body[i] === '}' && !isQuoted) return i;
  }
  return -1;
}

function closes(body: string): boolean {
  return closingIndex(body) >= 0;
}
