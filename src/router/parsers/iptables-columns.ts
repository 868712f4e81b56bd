// The character-level reading of `iptables -L -v -x -n` columns for parseIptablesListing (issue
// 21: a 10,000-rule listing in < 10 ms): the text as a typed array of UTF-16 code units, and
// column checks run on index ranges of it, so a rule's fields are checked before any string is cut
// out of the listing. Each check accepts exactly what the regex in its comment accepts
// (iptables-columns.test.ts holds them to it).

/** What String.prototype.trim removes (ECMAScript WhiteSpace and LineTerminator), one code unit. */
export function isTrimmed(code: number): boolean {
  if (code <= 32) return code === 32 || (code >= 9 && code <= 13);
  if (code < 160) return false;
  return code === 160 || code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 || code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000 || code === 0xfeff;
}

// The text's UTF-16 code units in a typed array: reading it costs less than half of
// text.charCodeAt per character (V8 11, Node 20: a tokenising loop over a 1.2 MB listing took
// 4.7 ms with charCodeAt, 2.0 ms with the array, copy included; every character of a listing is
// read, which was most of the parse). One array is reused while it stays small: the parser is
// synchronous and done with it before the next call.
const SCRATCH_KEEP_UNITS = 1 << 21;
let scratch = new Uint16Array(0);
const IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** text's code units at [0, text.length); the array may be longer (read no further than that). */
export function codeUnitsOf(text: string): Uint16Array {
  const units = text.length <= scratch.length ? scratch : new Uint16Array(Math.max(text.length, 1024));
  if (typeof Buffer === 'function') {
    // 'utf16le' copies code units as they are, lone surrogates included.
    const bytes = Buffer.from(units.buffer, units.byteOffset, text.length * 2);
    bytes.write(text, 0, 'utf16le');
    if (!IS_LITTLE_ENDIAN) bytes.swap16();
  } else {
    for (let i = 0; i < text.length; i++) units[i] = text.charCodeAt(i);
  }
  if (units.length <= SCRATCH_KEEP_UNITS) scratch = units;
  return units;
}

/** A plain decimal counter (the -x case) without a regex or an object; -1 when it is not one. */
export function plainCounter(codes: Uint16Array, start: number, end: number): number {
  if (end - start > 20) return -1;
  let value = 0;
  for (let i = start; i < end; i++) {
    const digit = codes[i]! - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return end > start ? value : -1;
}

// Character classes for the column checks below (ASCII; anything else is in no class).
const LOWER = 1; // a-z
const IFACE_CHAR = 2; // [A-Za-z0-9_.:@+*-]
const PROT_CHAR = 4; // [a-z0-9-]
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  CLASS[c] = (/[a-z]/.test(ch) ? LOWER : 0) | (/[A-Za-z0-9_.:@+*-]/.test(ch) ? IFACE_CHAR : 0) | (/[a-z0-9-]/.test(ch) ? PROT_CHAR : 0);
}

function isClass(code: number, bit: number): boolean {
  return code < 128 && (CLASS[code]! & bit) !== 0;
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** /^!?[A-Za-z0-9_.:@+*-]{1,16}$/ (an interface column) on codes[start, end). */
export function isIfaceAt(codes: Uint16Array, start: number, end: number): boolean {
  const from = start < end && codes[start] === 33 ? start + 1 : start; // '!'
  if (end - from < 1 || end - from > 16) return false;
  for (let i = from; i < end; i++) if (!isClass(codes[i]!, IFACE_CHAR)) return false;
  return true;
}

/** /^!?(?:all|\d{1,3}|[a-z][a-z0-9-]*)$/ (a protocol column) on codes[start, end). */
export function isProtAt(codes: Uint16Array, start: number, end: number): boolean {
  const from = start < end && codes[start] === 33 ? start + 1 : start;
  if (from >= end) return false;
  if (isClass(codes[from]!, LOWER)) {
    for (let i = from + 1; i < end; i++) if (!isClass(codes[i]!, PROT_CHAR)) return false;
    return true;
  }
  if (end - from > 3) return false;
  for (let i = from; i < end; i++) if (!isDigit(codes[i]!)) return false;
  return true;
}

/** The end of a dotted quad (\d{1,3} four times, '.' between) at codes[i], or -1. */
function dottedQuadEnd(codes: Uint16Array, i: number, end: number): number {
  for (let group = 0; group < 4; group++) {
    if (group > 0) {
      if (i >= end || codes[i] !== 46) return -1; // '.'
      i++;
    }
    const from = i;
    while (i < end && i - from < 4 && isDigit(codes[i]!)) i++;
    if (i === from || i - from > 3) return -1;
  }
  return i;
}

/**
 * /^!?\d{1,3}(?:\.\d{1,3}){3}(?:\/(?:\d{1,2}|\d{1,3}(?:\.\d{1,3}){3}))?$/ (an IPv4 address column,
 * /len or /mask) on codes[start, end). False means "ask the full address regex" (IPv6, names).
 */
export function isIpv4ColumnAt(codes: Uint16Array, start: number, end: number): boolean {
  const from = start < end && codes[start] === 33 ? start + 1 : start;
  const quadEnd = dottedQuadEnd(codes, from, end);
  if (quadEnd < 0) return false;
  if (quadEnd === end) return true;
  if (codes[quadEnd] !== 47) return false; // '/'
  const len = end - quadEnd - 1;
  if (len >= 1 && len <= 2 && isDigit(codes[quadEnd + 1]!) && isDigit(codes[end - 1]!)) return true;
  return dottedQuadEnd(codes, quadEnd + 1, end) === end;
}
