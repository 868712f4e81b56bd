// A small MIME reader for the scheduled-report tests: splits a raw message (as smtp-recorder.ts
// records it) into its leaf parts, nested multiparts included, each decoded from base64 or
// quoted-printable. Enough for what nodemailer writes; not a general parser.

export interface MimePart {
  /** Lower-cased header names, unfolded values. */
  headers: Record<string, string>;
  contentType: string;
  filename: string | null;
  body: string;
}

function splitHead(raw: string): { headers: Record<string, string>; body: string } {
  const at = raw.indexOf('\r\n\r\n');
  const head = (at < 0 ? raw : raw.slice(0, at)).replace(/\r\n[ \t]+/g, ' ');
  const headers: Record<string, string> = {};
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { headers, body: at < 0 ? '' : raw.slice(at + 4) };
}

function decode(body: string, encoding: string | undefined): string {
  switch ((encoding ?? '').toLowerCase()) {
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    case 'quoted-printable':
      return Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
    default:
      return body;
  }
}

/** Every leaf part of the message, in order (a single-part message is one part). */
export function mimeParts(raw: string): MimePart[] {
  const { headers, body } = splitHead(raw);
  const type = headers['content-type'] ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const pieces = body.split(`--${boundary}`);
    return pieces.slice(1, -1).flatMap((piece) => mimeParts(piece.replace(/^\r\n/, '').replace(/\r\n$/, '')));
  }
  const disposition = headers['content-disposition'] ?? '';
  const filename = /filename="?([^";]+)"?/i.exec(disposition)?.[1] ?? null;
  return [{ headers, contentType: type.split(';')[0]!.trim().toLowerCase(), filename, body: decode(body, headers['content-transfer-encoding']).replace(/\r\n/g, '\n') }];
}
