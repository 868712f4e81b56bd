import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { quotaEvent } from '../../test/helpers/alert-events.js';
import { createCommandChannel, splitCommand } from './command.js';

const signal = new AbortController().signal;

function scriptDir(): { dir: string; script(name: string, body: string): string; dispose(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-alert-cmd-'));
  return {
    dir,
    script(name, body) {
      const path = join(dir, name);
      writeFileSync(path, `#!/bin/sh\n${body}\n`);
      chmodSync(path, 0o755);
      return path;
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}

test('a real script gets the event JSON on stdin and LANTOP_ALERT_* in its environment; argv stays as configured', async () => {
  const t = scriptDir();
  try {
    const out = join(t.dir, 'out');
    const script = t.script('on-alert', `cat > "$1.json"; printf '%s\\n' "$LANTOP_ALERT_KIND" "$LANTOP_ALERT_SUBJECT" "$LANTOP_ALERT_PERCENT" "$#" > "$1.env"`);
    const event = quotaEvent({ subject: { kind: 'device', id: 'aa:bb:cc:dd:ee:02', name: `e\u001b[2Jv\nil $(touch ${t.dir}/pwned);rm -rf /` } });
    await createCommandChannel({ id: '1', argv: [script, out] }).deliver(event, signal);
    const body = JSON.parse(readFileSync(`${out}.json`, 'utf8'));
    assert.equal(body.kind, 'quota-threshold');
    assert.equal(body.subject.id, 'aa:bb:cc:dd:ee:02');
    const env = readFileSync(`${out}.env`, 'utf8').split('\n');
    assert.equal(env[0], 'quota-threshold');
    assert.equal(env[1], `evil $(touch ${t.dir}/pwned);rm -rf / (aa:bb:cc:dd:ee:02)`);
    assert.equal(env[2], '80');
    assert.equal(env[3], '1', 'one argument: the event never reaches argv');
    assert.equal(existsSync(join(t.dir, 'pwned')), false, 'nothing in the name was run');
  } finally {
    t.dispose();
  }
});

test('a non-zero exit fails with its stderr; a missing program is not retryable; a hanging one is killed at the timeout', async () => {
  const t = scriptDir();
  try {
    const failing = t.script('fail', 'cat >/dev/null; echo "quota service down" >&2; exit 3');
    await assert.rejects(createCommandChannel({ id: '1', argv: [failing] }).deliver(quotaEvent(), signal), /fail exited with 3: quota service down$/);
    await assert.rejects(createCommandChannel({ id: '2', argv: [join(t.dir, 'missing')] }).deliver(quotaEvent(), signal), (error: Error & { isRetryable?: boolean }) => {
      assert.match(error.message, /cannot run .*missing: ENOENT/);
      assert.equal(error.isRetryable, false);
      return true;
    });
    const hanging = t.script('hang', 'exec sleep 30');
    const started = Date.now();
    await assert.rejects(createCommandChannel({ id: '3', argv: [hanging], timeoutMs: 300 }).deliver(quotaEvent(), signal), /killed after 300 ms without finishing/);
    assert.ok(Date.now() - started < 5000);
    // A program that ignores its stdin still succeeds.
    await createCommandChannel({ id: '4', argv: ['true'] }).deliver(quotaEvent(), signal);
  } finally {
    t.dispose();
  }
});

test('splitCommand: quotes and backslashes like sh, nothing expanded', () => {
  assert.deepEqual(splitCommand('notify-send -u critical "lantop alert"'), ['notify-send', '-u', 'critical', 'lantop alert']);
  assert.deepEqual(splitCommand(`/bin/x 'a "b" $HOME' "c \\"d\\" \\\\" e\\ f ''`), ['/bin/x', 'a "b" $HOME', 'c "d" \\', 'e f', '']);
  assert.deepEqual(splitCommand('  a   b  '), ['a', 'b']);
  assert.deepEqual(splitCommand('echo $(id) `id` ; | &'), ['echo', '$(id)', '`id`', ';', '|', '&']);
  assert.throws(() => splitCommand('a "b'), /unclosed double quote/);
  assert.throws(() => splitCommand("a 'b"), /unclosed single quote/);
});
