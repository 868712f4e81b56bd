import '../../test/helpers/no-ci.js';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController } from '../../test/fakes/fake-controller.js';
import { FakeStdin, FakeStdout, KEY, settle } from '../../test/fakes/fake-terminal.js';
import { runApp } from './run-app.js';

const streams = () => ({ stdin: new FakeStdin(true), stdout: new FakeStdout(100, 30), stderr: new FakeStdout(100, 30) });
const started: Array<() => void> = [];
afterEach(() => started.splice(0).forEach((stop) => stop()));

async function waitForOutput(stdout: FakeStdout, text: string) {
  for (let i = 0; i < 200 && !stdout.frames.join('').includes(text); i += 1) await settle(10);
  assert.ok(stdout.frames.join('').includes(text), `output shows ${text}`);
}

function run(fake: FakeController, s: ReturnType<typeof streams>, extra: { isAlternateScreen?: boolean } = {}) {
  const exit = runApp({
    controller: fake,
    stdin: s.stdin as unknown as NodeJS.ReadStream,
    stdout: s.stdout as unknown as NodeJS.WriteStream,
    stderr: s.stderr as unknown as NodeJS.WriteStream,
    isColor: false,
    ...extra,
  });
  // Should a test fail before quitting, Ctrl-C still ends the app so no timer outlives the test.
  started.push(() => s.stdin.write(KEY.ctrlC));
  return exit;
}

test('runApp resolves 0 when the user quits from the menu, and restores raw mode and the screen', async () => {
  const fake = new FakeController().expectConnect();
  const s = streams();
  const exit = run(fake, s, { isAlternateScreen: true });
  await waitForOutput(s.stdout, '1 Connected devices');
  await settle(20);
  s.stdin.write('q');
  assert.equal(await exit, 0);
  const output = s.stdout.frames.join('');
  assert.ok(output.startsWith('\u001b[?1049h'), 'entered the alternate screen');
  assert.ok(output.endsWith('\u001b[?1049l'), 'left the alternate screen last');
  assert.equal(s.stdin.rawModeCalls.at(-1), false, 'raw mode off again');
  fake.verify();
});

test('runApp resolves 130 on Ctrl-C and does not use the alternate screen on a non-TTY stdout by default', async () => {
  const fake = new FakeController().expectConnect();
  const s = streams();
  s.stdout.isTTY = false;
  const exit = run(fake, s);
  await waitForOutput(s.stdout, '1 Connected devices');
  await settle(20);
  s.stdin.write(KEY.ctrlC);
  assert.equal(await exit, 130);
  assert.ok(!s.stdout.frames.join('').includes('\u001b[?1049h'));
  fake.verify();
});

test('runApp hands the typed password to onPassword before connecting', async () => {
  const fake = new FakeController().expectConnect();
  const s = streams();
  const passwords: string[] = [];
  const exit = runApp({
    controller: fake,
    stdin: s.stdin as unknown as NodeJS.ReadStream,
    stdout: s.stdout as unknown as NodeJS.WriteStream,
    stderr: s.stderr as unknown as NodeJS.WriteStream,
    isColor: false,
    isAlternateScreen: false,
    needsPassword: true,
    onPassword: (pw) => passwords.push(pw),
  });
  started.push(() => s.stdin.write(KEY.ctrlC));
  await waitForOutput(s.stdout, 'Password for');
  for (const key of ['p', 'w', KEY.enter]) {
    await settle(10);
    s.stdin.write(key);
  }
  await waitForOutput(s.stdout, '1 Connected devices');
  await settle(20);
  s.stdin.write('q');
  assert.equal(await exit, 0);
  assert.deepEqual(passwords, ['pw']);
  fake.verify();
});
