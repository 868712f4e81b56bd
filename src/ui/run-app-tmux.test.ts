// The app in a real terminal: tmux gives it a pty (raw mode, alternate screen, resize), keys are
// sent with send-keys and the screen is read with capture-pane. Checks that the screens work and
// that quitting — with q or Ctrl-C — leaves the terminal as it was (cooked mode, main screen).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasTmux, tmuxSession } from '../../test/helpers/tmux.js';

const root = new URL('../..', import.meta.url).pathname;

function session(name: string) {
  return tmuxSession(name, `cd ${root} && NO_COLOR=1 node --import tsx test/fakes/fake-app-main.ts`);
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
    // Wait until help is really gone: a q sent right after Escape would arrive as ESC q (meta-q).
    await s.waitFor((x) => x.includes('Live usage') && !x.includes('Help · keys'), 'help closed');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 2 Live usage'), 'back at the menu');
    s.keys('3');
    await s.waitFor((x) => x.includes('Apply these 2 commands? [y/n]'), 'setup plan');
    s.keys('y');
    await s.waitFor((x) => x.includes('✓ Verified'), 'setup result');
    s.keys('Escape');
    await s.waitFor((x) => x.includes('❯ 3 Set up accounting rules'), 'menu again');
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
