// Local mode's session (issue 18) against this machine's real /bin/sh: framing, big and odd
// output, stderr, timeouts, close, and the sudo path with stand-in sudo programs (a real sudo is
// not assumed: the stand-ins print what sudo 1.9 prints and exit as it does).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthError, ConnectionLostError, RouterError, TimeoutError } from '../errors.js';
import { openSession } from './connect.js';
import { connectLocal, LocalSession, localIdentity, type LocalSessionOptions } from './local-session.js';

const sessions: LocalSession[] = [];
let tempDir: string | null = null;
after(async () => {
  for (const s of sessions) await s.close().catch(() => undefined);
  if (tempDir !== null) await rm(tempDir, { recursive: true, force: true });
});

async function open(options: LocalSessionOptions = {}): Promise<LocalSession> {
  // As root or not, the shell runs as this user: the sudo path has its own tests below.
  const session = await connectLocal({ privilege: 'root', commandTimeoutMs: 3000, ...options });
  sessions.push(session);
  return session;
}

async function stub(name: string, script: string): Promise<string> {
  tempDir ??= await mkdtemp(join(tmpdir(), 'lantop-local-'));
  const path = join(tempDir, name);
  await writeFile(path, `#!/bin/sh\n${script}\n`);
  await chmod(path, 0o755);
  return path;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie still answers kill 0 until reaped.
  const stat = spawnSync('cat', [`/proc/${pid}/stat`], { encoding: 'utf8' }).stdout;
  return stat !== '' && !/^\d+ \([^)]*\) Z/.test(stat);
}

/** Live (not zombie) processes of a process group, from /proc. */
function groupMembers(pgid: number): string[] {
  const out = spawnSync('sh', ['-c', `for f in /proc/[0-9]*/stat; do cat "$f" 2>/dev/null; echo; done`], { encoding: 'utf8' }).stdout;
  return out.split('\n').filter((line) => {
    const fields = line.slice(line.lastIndexOf(')') + 2).split(' ');
    return fields[0] !== 'Z' && fields[0] !== undefined && Number(fields[2]) === pgid;
  });
}

async function waitUntil(check: () => boolean, ms = 2000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return check();
}

describe('LocalSession', () => {
  test('runs commands in one persistent shell: echo, exit status, shell state kept', async () => {
    const s = await open();
    assert.equal(await s.exec('echo hello'), 'hello');
    assert.equal(await s.exec('false; echo $?'), '1');
    await s.exec('LANTOP_TEST_VAR=kept');
    assert.equal(await s.exec('echo "$LANTOP_TEST_VAR"'), 'kept');
    const pid = await s.exec('echo $$');
    assert.equal(await s.exec('echo $$'), pid, 'the same shell answers every command');
    assert.equal(s.mode, 'shell');
    assert.equal(s.loginMode, 'shell');
  });

  test('1 MB of output arrives whole, and onLines hands it over as it comes', async () => {
    const s = await open();
    const handed: string[] = [];
    const started = Date.now();
    const out = await s.exec("head -c 1048576 /dev/zero | tr '\\0' a | fold -w 1023", { onLines: (lines) => handed.push(lines) });
    const lines = out.split('\n');
    assert.equal(lines.length, Math.ceil(1_048_576 / 1023));
    assert.equal(out.replace(/\n/g, '').length, 1_048_576);
    assert.ok(handed.length > 0, 'lines were handed over');
    assert.ok(out.startsWith(handed.join('').slice(0, 2000)), 'what was handed over is the start of the reply');
    assert.ok(Date.now() - started < 3000);
  });

  test('output without a final newline, empty output, and blank lines', async () => {
    const s = await open();
    assert.equal(await s.exec("printf 'no newline'"), 'no newline');
    assert.equal(await s.exec('true'), '');
    assert.equal(await s.exec("printf 'a\\n\\nb\\n'"), 'a\n\nb');
    assert.equal(await s.exec("printf '# '"), '# ');
  });

  test('text that looks like the sentinel or the prompt does not end the reply', async () => {
    const s = await open();
    const fake = 'echo "__LANTOP_END_000000000000_0__"; echo "# "; echo after';
    assert.equal(await s.exec(fake), '__LANTOP_END_000000000000_0__\n# \nafter');
    // The command's own text as output (the echo the channel plays is stripped once only).
    assert.equal(await s.exec("echo 'echo x'"), 'echo x');
  });

  test('stderr is merged into the reply in arrival order', async () => {
    const s = await open();
    assert.equal(await s.exec('echo out; echo err >&2; echo out2'), 'out\nerr\nout2');
    assert.match(await s.exec('ls /nonexistent-lantop-path'), /No such file or directory/);
  });

  test('commands read /dev/null, not the command pipe', async () => {
    const s = await open();
    assert.equal(await s.exec('cat; echo "read $?"'), 'read 0');
    assert.equal(await s.exec('read x; echo "got:$x"'), 'got:');
    assert.equal(await s.exec('echo next'), 'next');
  });

  test('a timed-out command kills the shell with what it started; the next command gets a fresh shell', async () => {
    const s = await open({ commandTimeoutMs: 400 });
    const before = Number(await s.exec('echo $$'));
    await assert.rejects(s.exec('sleep 30 & echo $! > /dev/null; sleep 30'), (error: unknown) => error instanceof TimeoutError && /local shell/.test(error.message) && !/:0/.test(error.message));
    assert.ok(await waitUntil(() => !isRunning(before)), 'the old shell is gone');
    const after = Number(await s.exec('echo $$'));
    assert.notEqual(after, before);
    assert.ok(await waitUntil(() => groupMembers(before).length === 0), `nothing of its process group is left: ${groupMembers(before).join(', ')}`);
  });

  test('a line break in a command is refused before anything is sent', async () => {
    const s = await open();
    await assert.rejects(s.exec('echo a\necho b'), RouterError);
    assert.equal(await s.exec('echo fine'), 'fine');
  });

  test('a shell that exits is replaced by the next command', async () => {
    const s = await open();
    await assert.rejects(s.exec('exit 3'), ConnectionLostError);
    assert.equal(await s.exec('echo back'), 'back');
  });

  test('commands queue: one at a time, in order', async () => {
    const s = await open();
    const replies = await Promise.all([s.exec('sleep 0.1; echo 1'), s.exec('echo 2'), s.exec('echo 3')]);
    assert.deepEqual(replies, ['1', '2', '3']);
  });

  test('close() kills the shell, also mid-command; later commands reject', async () => {
    const s = await open();
    const pid = s.shellPid;
    assert.ok(pid !== null && isRunning(pid));
    const running = s.exec('sleep 30');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await s.close();
    await assert.rejects(running, ConnectionLostError);
    assert.ok(await waitUntil(() => !isRunning(pid!)));
    await assert.rejects(s.exec('echo late'), ConnectionLostError);
    await s.close();
  });

  test('identity: machine-id when there is one, else the host name', () => {
    const withId = localIdentity('root', () => '0123456789ABCDEF0123456789abcdef\n');
    assert.match(withId, /^local\n0123456789abcdef0123456789abcdef\n.+\nroot$/);
    const without = localIdentity('sudo', () => {
      throw new Error('ENOENT');
    });
    assert.match(without, /^local\nhost:.+\n.+\nsudo$/);
    assert.match(localIdentity('root', () => 'not-an-id'), /^local\nhost:/);
  });
});

describe('LocalSession through sudo -n', () => {
  test('a sudo that runs the shell: commands run, close kills it', async () => {
    const sudo = await stub('sudo-ok', '[ "$1" = -n ] || exit 9; shift; exec "$@"');
    const s = await open({ privilege: 'sudo', sudoPath: sudo, commandTimeoutMs: 400 });
    assert.equal(await s.exec('echo via-sudo'), 'via-sudo');
    await assert.rejects(s.exec('sleep 30'), TimeoutError);
    assert.equal(await s.exec('echo again'), 'again');
    const pid = s.shellPid!;
    await s.close();
    assert.ok(await waitUntil(() => !isRunning(pid)));
  });

  test('sudo asking for a password: an AuthError with the next step', async () => {
    const sudo = await stub('sudo-password', 'echo "sudo: a password is required" >&2; exit 1');
    await assert.rejects(connectLocal({ privilege: 'sudo', sudoPath: sudo }), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      assert.match(error.message, /needs a password: sudo: a password is required/);
      assert.match(error.nextStep ?? '', /run as root, or allow sudo without a password for lantop's commands/i);
      return true;
    });
  });

  test('sudo refusing the user, and sudo not installed', async () => {
    const sudo = await stub('sudo-refused', 'echo "Sorry, user nobody is not allowed to execute /bin/sh as root." >&2; exit 1');
    await assert.rejects(connectLocal({ privilege: 'sudo', sudoPath: sudo }), (error: unknown) => error instanceof AuthError && /sudo -n refused: Sorry/.test(error.message));
    await assert.rejects(connectLocal({ privilege: 'sudo', sudoPath: '/nonexistent/lantop-sudo' }), (error: unknown) => error instanceof AuthError && /sudo is not installed/.test(error.message));
  });

  test('openSession opens the local protocol (as root here, else through the real sudo -n)', { skip: process.getuid?.() !== 0 ? 'not root' : false }, async () => {
    const session = await openSession({ host: 'local', port: 0, protocol: 'local', user: '', password: '', connectTimeoutMs: 3000, commandTimeoutMs: 3000 });
    try {
      assert.equal(await session.exec('echo opened', { where: 'shell' }), 'opened');
      assert.equal(session.loginMode, 'shell');
      assert.match(session.identity ?? '', /^local\n/);
      // A vendor-CLI command has nowhere else to go: it runs in the shell, as after a shell login.
      assert.equal(await session.exec('echo cli', { where: 'cli' }), 'cli');
    } finally {
      await session.close();
    }
  });
});
