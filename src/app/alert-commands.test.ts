// `lantop alert …` end to end through the real CLI (src/cli.ts under tsx): channels saved in a
// temporary config directory, a webhook server, an SMTP server and a script on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startHttpRecorder } from '../../test/helpers/http-recorder.js';
import { readMail, startSmtpRecorder } from '../../test/helpers/smtp-recorder.js';

const CLI = fileURLToPath(new URL('../cli.ts', import.meta.url));

function lantop(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.end();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('alert add, list, test and remove through the CLI', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-alert-cli-'));
  const web = await startHttpRecorder();
  const smtp = await startSmtpRecorder({ disabledCommands: ['STARTTLS'], allowInsecureAuth: true, users: { alerts: 'smtp-secret' } });
  const env = { LANTOP_CONFIG_DIR: dir, LANTOP_SMTP_PASSWORD: '' };
  try {
    const script = join(dir, 'on-alert');
    writeFileSync(script, `#!/bin/sh\ncat > "$1"\n`);
    chmodSync(script, 0o755);
    const received = join(dir, 'received.json');

    assert.equal((await lantop(['alert', 'add', 'webhook', `${web.url}/lantop?token=tok123`, '--format', 'ntfy', '--header', 'Authorization: Bearer hdr456'], env)).code, 0);
    const add = await lantop(['alert', 'add', 'email', '--smtp', `smtp://127.0.0.1:${smtp.port}`, '--from', 'lantop@example.net', '--to', 'a@example.net,b@example.net', '--smtp-user', 'alerts', '--save-password'], { ...env, LANTOP_SMTP_PASSWORD: 'smtp-secret' });
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /obfuscated, NOT encrypted/);
    assert.equal((await lantop(['alert', 'add', 'command', '--', script, received], env)).code, 0);

    const list = await lantop(['alert', 'list'], env);
    assert.equal(list.code, 0);
    assert.equal(list.stdout, [`  1  webhook ntfy ${web.url}/lantop?token=***`, `  2  email smtp://127.0.0.1:${smtp.port} → a@example.net, b@example.net`, `  3  command ${script} ${received}`, ''].join('\n'));
    const json = await lantop(['alert', 'list', '--json'], env);
    assert.doesNotMatch(json.stdout, /tok123|hdr456|smtp-secret|c210cC1zZWNyZXQ/);
    const channels = JSON.parse(json.stdout);
    assert.equal(channels[0].headers.Authorization, '***');
    assert.equal(channels[1].password, '(saved, obfuscated)');
    const file = join(dir, 'alerts.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(readFileSync(file, 'utf8'), /smtp-secret/);

    const ok = await lantop(['alert', 'test'], env);
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stdout, /^ok +1 +webhook ntfy .*\(\d+ ms\)\nok +2 +email .*\nok +3 +command .*\n$/);
    assert.equal(web.requests.length, 1);
    assert.equal(web.requests[0]!.headers.authorization, 'Bearer hdr456');
    assert.equal(web.requests[0]!.headers.title, 'lantop: test alert');
    assert.equal(smtp.mails.length, 1);
    assert.equal(smtp.mails[0]!.user, 'alerts');
    assert.deepEqual(smtp.mails[0]!.to, ['a@example.net', 'b@example.net']);
    assert.equal(readMail(smtp.mails[0]!.raw).subject, 'lantop: test alert');
    assert.equal(JSON.parse(readFileSync(received, 'utf8')).kind, 'test');

    // One channel fails: its line says why, and the exit code is not 0.
    web.script.push(500);
    const failed = await lantop(['alert', 'test'], env);
    assert.equal(failed.code, 4);
    assert.match(failed.stdout, /^failed +1 +webhook ntfy .*: HTTP 500 from .*: status 500 from the test server$/m);
    assert.match(failed.stdout, /^ok +2 /m);
    assert.match(failed.stderr, /1 of 3 channels failed/);

    assert.equal((await lantop(['alert', 'remove', '1'], env)).code, 0);
    const after = await lantop(['alert', 'list'], env);
    assert.doesNotMatch(after.stdout, /webhook/);
    assert.match(after.stdout, /^ {2}2 {2}email/);
  } finally {
    await web.close();
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input is a usage error and changes nothing', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-alert-cli-'));
  const env = { LANTOP_CONFIG_DIR: dir, LANTOP_SMTP_PASSWORD: '' };
  try {
    const cases: [string[], RegExp][] = [
      [['alert', 'add', 'webhook', 'ftp://example.net/x'], /starts with http:\/\/ or https:\/\//],
      [['alert', 'add', 'webhook', 'https://example.net/x', '--header', 'no-colon'], /--header: a header is 'Name: value'/],
      [['alert', 'add', 'email', '--smtp', 'smtp://u:p@mail.example.net', '--from', 'a@example.net', '--to', 'b@example.net'], /must not carry a user or password/],
      [['alert', 'add', 'email', '--smtp', 'smtp://mail.example.net', '--from', 'a@example.net', '--to', 'b@example.net', '--smtp-user', 'u', '--save-password'], /no password in LANTOP_SMTP_PASSWORD and stdin is not a terminal/],
      [['alert', 'add', 'command', 'notify "unclosed'], /unclosed double quote/],
      [['alert', 'remove', '9'], /No alert channel 9/],
      [['alert', 'test'], /No alert channels to test/],
    ];
    for (const [args, message] of cases) {
      const result = await lantop(args, env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const list = await lantop(['alert', 'list', '--json'], env);
    assert.deepEqual(JSON.parse(list.stdout), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
