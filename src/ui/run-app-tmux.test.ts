// The app in a real terminal: tmux gives it a pty (raw mode, alternate screen, resize), keys are
// sent with send-keys and the screen is read with capture-pane. Checks that the screens work and
// that quitting — with q or Ctrl-C — leaves the terminal as it was (cooked mode, main screen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const root = new URL('../..', import.meta.url).pathname;

function session(name: string) {
  const socket = `lantop-ui-${process.pid}-${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-tmux-'));
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const exitFile = join(dir, 'exit-code');
  const sttyFile = join(dir, 'stty');
  // After the app, record the terminal mode so the test can see raw mode was undone.
  const command = `cd ${root} && NO_COLOR=1 node --import tsx test/fakes/fake-app-main.ts ${exitFile}; stty -a > ${sttyFile}; sleep 30`;
  tmux('new-session', '-d', '-x', '100', '-y', '30', '-s', 'app', 'sh', '-c', command);
  const screen = () => tmux('capture-pane', '-p', '-t', 'app');
  return {
    keys: (...keys: string[]) => tmux('send-keys', '-t', 'app', ...keys),
    screen,
    resize: (columns: number, rows: number) => tmux('resize-window', '-t', 'app', '-x', String(columns), '-y', String(rows)),
    async waitFor(predicate: (screen: string) => boolean, what: string, timeoutMs = 15_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = screen();
        if (predicate(current)) return current;
        if (Date.now() > deadline) throw new Error(`tmux: timed out waiting for ${what}; screen:\n${current}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async exitCode(timeoutMs = 10_000): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(sttyFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return existsSync(exitFile) ? readFileSync(exitFile, 'utf8') : '(no exit code)';
    },
    stty: () => (existsSync(sttyFile) ? readFileSync(sttyFile, 'utf8') : ''),
    close() {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

test('real terminal: menu → live usage → sort → help → setup → back, q quits with 0 and restores the terminal', { skip: !hasTmux && 'tmux not installed', timeout: 60_000 }, async () => {
  const s = session('walk');
  try {
    await s.waitFor((x) => x.includes('❯ 1 Connected devices'), 'the menu');
    s.keys('2');
    let screen = await s.waitFor((x) => /▶ laptop\s+198\.51\.100\.10/.test(x), 'live usage rows');
    assert.match(screen, /tv\s+198\.51\.100\.11/, 'hostile name shown cleaned');
    assert.ok(!screen.includes('[31m'));
    s.keys('u');
    await s.waitFor((x) => x.includes('sorted by ↑ rate'), 'sort by upload');
    s.resize(60, 20);
    screen = await s.waitFor((x) => /NAME\s+↓RATE\s+↑RATE▼/.test(x), 're-flow at 60 columns');
    for (const line of screen.split('\n')) assert.ok([...line].length <= 60, `fits 60 columns: ${line}`);
    s.resize(100, 30);
    s.keys('?');
    await s.waitFor((x) => x.includes('Help · keys'), 'help');
    s.keys('Escape');
    await s.waitFor((x) => x.includes('Live usage'), 'help closed');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 2 Live usage'), 'back at the menu');
    s.keys('3');
    await s.waitFor((x) => x.includes('Apply these 2 commands? [y/n]'), 'setup plan');
    s.keys('y');
    await s.waitFor((x) => x.includes('✓ Verified'), 'setup result');
    s.keys('Escape');
    await s.waitFor((x) => x.includes('❯ 3 Set up TRAFFIC rules'), 'menu again');
    s.keys('q');
    assert.equal(await s.exitCode(), '0');
    const after = s.screen();
    assert.ok(!after.includes('Connected devices'), 'the alternate screen was left: the app is gone from view');
    assert.match(s.stty(), /(^|\s)icanon(\s|$)/, 'canonical mode restored');
    assert.match(s.stty(), /(^|\s)echo(\s|$)/, 'echo restored');
  } finally {
    s.close();
  }
});

test('real terminal: Ctrl-C on the live screen exits with 130 and restores the terminal', { skip: !hasTmux && 'tmux not installed', timeout: 60_000 }, async () => {
  const s = session('ctrlc');
  try {
    await s.waitFor((x) => x.includes('❯ 1 Connected devices'), 'the menu');
    s.keys('2');
    await s.waitFor((x) => x.includes('▶ laptop'), 'live usage');
    s.keys('C-c');
    assert.equal(await s.exitCode(), '130');
    assert.match(s.stty(), /(^|\s)icanon(\s|$)/);
    assert.match(s.stty(), /(^|\s)echo(\s|$)/);
  } finally {
    s.close();
  }
});
