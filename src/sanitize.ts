// Text from the router (hostnames, MACs, whole outputs) is hostile: it may carry ANSI escape
// sequences, control bytes or megabytes of junk. Everything shown to a user passes through here.

// CSI (ESC [ … final), OSC (ESC ] … BEL or ESC \), other two-byte ESC sequences, and C1 CSI (0x9b).
const ESCAPE_SEQUENCE = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|\u001b[@-Z\\-_]|\u009b[0-?]*[ -/]*[@-~]/g;
// C0 controls except TAB, DEL, C1 controls; and bidi overrides that can reorder what the user sees.
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** One line of display text: escape sequences removed, controls dropped, tabs to spaces, capped. */
export function sanitizeText(text: string, maxLength = 256): string {
  const clean = text
    .replace(ESCAPE_SEQUENCE, '')
    .replace(/\t/g, ' ')
    .replace(CONTROL, '')
    .replace(/\ufffd/g, '?');
  return clean.length > maxLength ? clean.slice(0, Math.max(0, maxLength - 1)) + '…' : clean;
}

/** Multi-line display text (e.g. "last lines seen" in an error): each line sanitised, line ends kept. */
export function sanitizeBlock(text: string, maxLineLength = 200, maxLines = 20): string {
  const lines = text.split(/\r?\n|\r/);
  return lines
    .slice(-maxLines)
    .map((line) => sanitizeText(line, maxLineLength))
    .join('\n');
}
