// `lantop schedule add|list|remove|send` through the built binary (dist/cli.js): stored in
// reports.json (0600), clear errors for bad input, and a report sent now to an SMTP server on loopback.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCliAsync } from './helpers/run-cli.js';
import { startSmtpRecorder } from './helpers/smtp-recorder.js';
import { mimeParts } from './helpers/mime.js';
import { recordHistory } from './helpers/report-history.js';

test('schedule add / list / remove, and the errors for a bad channel, cron, name or duplicate', { timeout: 90_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-schedule-cli-'));
  const env = { LANTOP_CONFIG_DIR: dir };
  try {
    assert.equal((await runCliAsync(['alert', 'add', 'email', '--smtp', 'smtp://127.0.0.1:2525', '--from', 'a@example.net', '--to', 'b@example.net'], env)).code, 0);
    assert.equal((await runCliAsync(['alert', 'add', 'command', '--', '/bin/true'], env)).code, 0);

    const added = await runCliAsync(['schedule', 'add', 'daily', '--every', 'daily', '--channel', '1'], env);
    assert.equal(added.code, 0, added.stderr);
    assert.match(added.stdout, /^added report schedule daily {2}every daily → channel 1 \(attachment\); next \d{4}-\d\d-\d\d 00:05 for \d{4}-\d\d-\d\d\n$/);
    const cron = await runCliAsync(['schedule', 'add', 'mon', '--every', '0 7 * * 1', '--covers', 'weekly', '--channel', '1', '--as', 'both'], env);
    assert.equal(cron.code, 0, cron.stderr);
    const file = join(dir, 'reports.json');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { schedules: Array<{ name: string; every: unknown; as: string }> };
    assert.deepEqual(saved.schedules.map((s) => [s.name, s.every, s.as]), [
      ['daily', { kind: 'daily' }, 'attachment'],
      ['mon', { kind: 'cron', expression: '0 7 * * 1', covers: { kind: 'weekly' } }, 'both'],
    ]);

    const errors: Array<[string[], RegExp]> = [
      [['--every', 'daily', '--channel', '9'], /--channel: there is no alert channel 9\.\n {2}→ See the ids with `lantop alert list`/],
      [['--every', 'daily', '--channel', 'x'], /--channel: 'x' is not a channel id/],
      [['--every', 'daily', '--channel', '2'], /channel 2 runs a command; reports go to email or webhook channels/],
      [['--every', 'daily'], /needs --channel ID/],
      [['--every', '61 * * * *', '--channel', '1'], /--every: '61 \* \* \* \*' is not a valid cron expression: .*minute: 61/],
      [['--every', '*/10 * * * *', '--channel', '1'], /fires more than once an hour/],
      [['--every', 'fortnightly', '--channel', '1'], /neither daily, weekly, monthly, cycle:N nor a cron expression/],
      [['--channel', '1'], /needs --every/],
      [['--every', 'daily', '--channel', '1', '--router', 'nope'], /--router: no saved profile 'nope'/],
    ];
    for (const [args, expected] of errors) {
      const result = await runCliAsync(['schedule', 'add', 'other', ...args], env);
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, expected);
    }
    const duplicate = await runCliAsync(['schedule', 'add', 'daily', '--every', 'weekly', '--channel', '1'], env);
    assert.equal(duplicate.code, 2);
    assert.match(duplicate.stderr, /already a report schedule named 'daily'/);
    const badName = await runCliAsync(['schedule', 'add', 'a b', '--every', 'weekly', '--channel', '1'], env);
    assert.match(badName.stderr, /is not a schedule name/);

    const list = await runCliAsync(['schedule', 'list'], env);
    assert.equal(list.code, 0);
    assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.split('  ')[0]), ['daily', 'mon']);
    assert.match(list.stdout, /mon {2}every 0 7 \* \* 1 \(covers weekly\) → channel 1 \(both\); next \d{4}-\d\d-\d\d 07:00/);
    const json = JSON.parse((await runCliAsync(['schedule', 'list', '--json'], env)).stdout) as Array<{ name: string; next: { atMs: number } }>;
    assert.equal(json.length, 2);
    assert.ok(json[0]!.next.atMs > Date.now());

    assert.equal((await runCliAsync(['schedule', 'remove', 'daily'], env)).code, 0);
    const gone = await runCliAsync(['schedule', 'remove', 'daily'], env);
    assert.equal(gone.code, 2);
    assert.match(gone.stderr, /No report schedule 'daily'/);
    assert.deepEqual((await runCliAsync(['schedule', 'list'], env)).stdout.trim().split('\n').map((l) => l.split('  ')[0]), ['mon']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('schedule send NAME --period DAY sends that day\'s report now, and says which channel took it', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-schedule-send-'));
  const smtp = await startSmtpRecorder({ disabledCommands: ['STARTTLS', 'AUTH'] });
  const db = join(dir, 'history.sqlite');
  const env = { LANTOP_CONFIG_DIR: dir, TZ: 'UTC' };
  try {
    recordHistory(db);
    await runCliAsync(['alert', 'add', 'email', '--smtp', `smtp://127.0.0.1:${smtp.port}`, '--from', 'a@example.net', '--to', 'b@example.net'], env);
    assert.equal((await runCliAsync(['schedule', 'add', 'daily', '--every', 'daily', '--channel', '1'], env)).code, 0);
    const sent = await runCliAsync(['--host', '198.51.100.1', '--db', db, 'schedule', 'send', 'daily', '--period', '2026-03-09'], env);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /^ok {8}1 {2}email smtp:\/\/127\.0\.0\.1:\d+ → b@example\.net\n$/);
    assert.equal(smtp.mails.length, 1);
    const parts = mimeParts(smtp.mails[0]!.raw);
    assert.match(parts.find((p) => p.contentType === 'text/plain')!.body, /Download: 3\.30 MB \(3300000 B\)/);
    assert.ok(parts.some((p) => p.filename === 'lantop-report-2026-03-09.html'));
    const bad = await runCliAsync(['--host', '198.51.100.1', '--db', db, 'schedule', 'send', 'daily', '--period', 'someday'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--period is last, current, daily, weekly, monthly, cycle:N or a day YYYY-MM-DD/);
  } finally {
    await smtp.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
