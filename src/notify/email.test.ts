import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HOSTILE_NAME, quotaEvent } from '../../test/helpers/alert-events.js';
import { makeSelfSignedCert, readMail, startSmtpRecorder } from '../../test/helpers/smtp-recorder.js';
import { checkEmailAddress, createEmailChannel, parseSmtpUrl } from './email.js';
import { ChannelError } from './channel.js';

const signal = new AbortController().signal;
const FROM = 'lantop@example.net';
const TO = ['owner@example.net'];

test('plain SMTP (no STARTTLS offered): the message, its subject and body, a hostile name kept on one line', async () => {
  const server = await startSmtpRecorder({ disabledCommands: ['STARTTLS', 'AUTH'] });
  try {
    const event = quotaEvent({ subject: { kind: 'device', id: 'aa:bb:cc:dd:ee:02', name: HOSTILE_NAME } });
    await createEmailChannel({ id: '1', smtpUrl: `smtp://127.0.0.1:${server.port}`, from: FROM, to: TO, timeoutMs: 5000 }).deliver(event, signal);
    assert.equal(server.mails.length, 1);
    const mail = server.mails[0]!;
    assert.equal(mail.isSecure, false);
    assert.equal(mail.from, FROM);
    assert.deepEqual(mail.to, TO);
    const { headers, subject, body } = readMail(mail.raw);
    assert.equal(subject, 'lantop: evilSubject: pwned"} (aa:bb:cc:dd:ee:02) at 80 % of the download quota');
    assert.equal(headers.filter((h) => /^subject:/i.test(h)).length, 1, 'the name adds no header');
    assert.ok(body.startsWith('lantop: evilSubject: pwned"} (aa:bb:cc:dd:ee:02) at 80 % of the download quota; 8.00 GB of 10.0 GB used'), body);
    const json = JSON.parse(body.slice(body.indexOf('{')));
    assert.equal(json.subject.id, 'aa:bb:cc:dd:ee:02');
    assert.doesNotMatch(mail.raw, /\u001b/);
  } finally {
    await server.close();
  }
});

test('STARTTLS with a self-signed certificate, trusted through ca, and a login with user and password', async () => {
  const cert = makeSelfSignedCert();
  const server = await startSmtpRecorder({ key: cert.key, cert: cert.cert, users: { alerts: 'pa ss:wörd' } });
  try {
    const url = `smtp://127.0.0.1:${server.port}`;
    await createEmailChannel({ id: '1', smtpUrl: url, from: FROM, to: TO, user: 'alerts', password: 'pa ss:wörd', requireTLS: true, ca: cert.cert, timeoutMs: 5000 }).deliver(quotaEvent(), signal);
    assert.equal(server.mails.length, 1);
    assert.equal(server.mails[0]!.isSecure, true, 'upgraded with STARTTLS');
    assert.equal(server.mails[0]!.user, 'alerts');
    // A wrong password: refused, and not worth retrying.
    const wrong = createEmailChannel({ id: '2', smtpUrl: url, from: FROM, to: TO, user: 'alerts', password: 'nope', ca: cert.cert, timeoutMs: 5000 });
    await assert.rejects(wrong.deliver(quotaEvent(), signal), (error: unknown) => {
      assert.ok(error instanceof ChannelError);
      assert.match(error.message, /^smtp:\/\/127\.0\.0\.1:\d+ refused the login: .*535/);
      assert.equal(error.isRetryable, false);
      return true;
    });
    // Without the CA the self-signed certificate is refused.
    const untrusted = createEmailChannel({ id: '3', smtpUrl: url, from: FROM, to: TO, user: 'alerts', password: 'pa ss:wörd', timeoutMs: 5000 });
    await assert.rejects(untrusted.deliver(quotaEvent(), signal), /cannot send through smtp:\/\/127\.0\.0\.1:\d+.*(self-signed|certificate)/i);
    // A user without a password never connects.
    await assert.rejects(createEmailChannel({ id: '4', smtpUrl: url, from: FROM, to: TO, user: 'alerts' }).deliver(quotaEvent(), signal), /no SMTP password for alerts/);
    assert.equal(server.mails.length, 1);
  } finally {
    await server.close();
    cert.dispose();
  }
});

test('requireTLS refuses a server that offers no STARTTLS; smtps:// is TLS from the first byte', async () => {
  const cert = makeSelfSignedCert();
  const plain = await startSmtpRecorder({ disabledCommands: ['STARTTLS', 'AUTH'] });
  const tls = await startSmtpRecorder({ secure: true, key: cert.key, cert: cert.cert, disabledCommands: ['AUTH'] });
  try {
    const strict = createEmailChannel({ id: '1', smtpUrl: `smtp://127.0.0.1:${plain.port}`, from: FROM, to: TO, requireTLS: true, timeoutMs: 5000 });
    await assert.rejects(strict.deliver(quotaEvent(), signal), /STARTTLS/i);
    assert.equal(plain.mails.length, 0);
    await createEmailChannel({ id: '2', smtpUrl: `smtps://127.0.0.1:${tls.port}`, from: FROM, to: TO, ca: cert.cert, timeoutMs: 5000 }).deliver(quotaEvent({ kind: 'test' }), signal);
    assert.equal(tls.mails.length, 1);
    assert.equal(tls.mails[0]!.isSecure, true);
    assert.equal(readMail(tls.mails[0]!.raw).subject, 'lantop: test alert');
  } finally {
    await plain.close();
    await tls.close();
    cert.dispose();
  }
});

test('SMTP URLs and addresses are checked', () => {
  assert.deepEqual(parseSmtpUrl('smtp://mail.example.net'), { host: 'mail.example.net', port: 587, isImplicitTls: false });
  assert.deepEqual(parseSmtpUrl('smtps://mail.example.net'), { host: 'mail.example.net', port: 465, isImplicitTls: true });
  assert.deepEqual(parseSmtpUrl('smtp://[2001:db8::1]:25'), { host: '2001:db8::1', port: 25, isImplicitTls: false });
  assert.throws(() => parseSmtpUrl('smtp://user:pw@mail.example.net'), /must not carry a user or password/);
  assert.throws(() => parseSmtpUrl('https://mail.example.net'), /starts with smtp:\/\//);
  assert.throws(() => parseSmtpUrl('mail.example.net'), /not an SMTP URL/);
  assert.equal(checkEmailAddress(' a@example.net '), 'a@example.net');
  assert.throws(() => checkEmailAddress('a@example.net\r\nBcc: x@example.net'), RangeError);
  assert.throws(() => checkEmailAddress('Name <a@example.net>'), RangeError);
});
