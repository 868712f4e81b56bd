// An SMTP server on 127.0.0.1 for the email tests (the `smtp-server` package): records each
// message (envelope, raw text, whether the session was TLS, who logged in). A self-signed
// certificate for STARTTLS and smtps is made with openssl in a temporary directory.
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  isSecure: boolean;
  user: string | null;
}

export interface SmtpRecorder {
  port: number;
  mails: ReceivedMail[];
  close(): Promise<void>;
}

export interface SelfSignedCert {
  key: string;
  cert: string;
  certPath: string;
  dispose(): void;
}

export function makeSelfSignedCert(): SelfSignedCert {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-smtp-cert-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyPath, '-out', certPath, '-days', '2', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { key: readFileSync(keyPath, 'utf8'), cert: readFileSync(certPath, 'utf8'), certPath, dispose: () => rmSync(dir, { recursive: true, force: true }) };
}

export async function startSmtpRecorder(options: SMTPServerOptions & { users?: Record<string, string> }): Promise<SmtpRecorder> {
  const mails: ReceivedMail[] = [];
  const { users, ...rest } = options;
  const server = new SMTPServer({
    authOptional: users === undefined,
    logger: false,
    ...rest,
    onAuth(auth, _session, callback) {
      if (users && users[auth.username ?? ''] === auth.password) callback(null, { user: auth.username });
      else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
    },
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (raw += chunk));
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          isSecure: session.secure,
          user: typeof session.user === 'string' ? session.user : null,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = ((server as unknown as { server: { address(): AddressInfo } }).server.address()).port;
  return { port, mails, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

/** Headers unfolded, and the text body decoded from quoted-printable if it is. */
export function readMail(raw: string): { headers: string[]; subject: string; body: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const headers = head.split('\r\n');
  let body = raw.slice(split + 4);
  if (/^content-transfer-encoding:\s*quoted-printable/im.test(head)) {
    body = Buffer.from(body.replace(/=\r\n/g, '').replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8');
  }
  const encoded = headers.find((h) => /^subject:/i.test(h))?.replace(/^subject:\s*/i, '') ?? '';
  // RFC 2047 encoded words (Q or B), adjacent ones joined without the space between them.
  const subject = encoded
    .replace(/\?=\s+=\?/g, '?==?')
    .replace(/=\?UTF-8\?([QB])\?([^?]*)\?=/gi, (_, how: string, text: string) =>
      how.toUpperCase() === 'B'
        ? Buffer.from(text, 'base64').toString('utf8')
        : Buffer.from(text.replace(/_/g, ' ').replace(/=([0-9A-F]{2})/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1').toString('utf8'),
    );
  return { headers, subject, body: body.replace(/\r\n/g, '\n') };
}
