// `lantop demo` in a real terminal (tmux): a newcomer's walk through every menu entry — devices,
// live usage with rates and shares changing, flush and set up with confirmation, history — and a
// clean quit that restores the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { hasTmux, tmuxSession } from './helpers/tmux.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

test('lantop demo: every menu entry by keyboard, live rates change, q quits cleanly', { skip: !hasTmux && 'tmux not installed', timeout: 120_000 }, async () => {
  const s = tmuxSession('demo', `NO_COLOR=1 LANTOP_CONFIG_DIR=/nonexistent-lantop-config node ${CLI} demo`, { columns: 110, rows: 34 });
  try {
    await s.waitFor((x) => x.includes('❯ 1 Connected devices'), 'the menu', 20_000);
    s.keys('2');
    const rowsOf = (x: string) => x.split('\n').filter((l) => /198\.51\.100\.\d+/.test(l) && /%/.test(l));
    const screen = await s.waitFor((x) => rowsOf(x).length >= 3 && /kB\/s|MB\/s/.test(x), 'live rows with rates');
    assert.match(screen, /▶ /, 'the top talker is marked');
    assert.match(screen, /TOTAL/);
    const before = rowsOf(screen).join('\n');
    const changed = await s.waitFor((x) => rowsOf(x).length >= 3 && rowsOf(x).join('\n') !== before, 'rates and totals change live', 15_000);
    assert.match(changed, /\d+\.\d%/, 'shares shown as percentages');
    s.keys('t');
    await s.waitFor((x) => x.includes('sorted by total'), 'sort by total');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 2 Live usage'), 'menu');
    s.keys('1');
    const devices = await s.waitFor((x) => /Router reports \d+ active devices/.test(x), 'connected devices');
    assert.match(devices, /198\.51\.100\.\d+\s+[0-9a-f]{2}(:[0-9a-f]{2}){5}\s+yes/, 'devices are counted after the demo set up its rules');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 1 Connected devices'), 'back at the menu');

    s.keys('4');
    await s.waitFor((x) => x.includes('iptables -F TRAFFIC_DOWN') && x.includes('[y/n]'), 'flush plan with confirmation');
    s.keys('y');
    await s.waitFor((x) => x.includes('✓ Verified'), 'flush applied');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 4 Flush accounting rules'), 'menu');
    s.keys('3');
    // A host rule of the default layout (the tree's TRAFFIC_DOWN_<k>; split's TRAFFIC_DOWN before issue 21).
    await s.waitFor((x) => /iptables -A TRAFFIC_DOWN(?:_\d+)? -d 198\.51\.100\.\d+ -m comment --comment lantop -j RETURN/.test(x) && x.includes('[y/n]'), 'setup plan with the exact commands');
    s.keys('y');
    await s.waitFor((x) => x.includes('✓ Verified'), 'setup applied');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 3 Set up accounting rules'), 'menu');

    s.keys('5');
    await s.waitFor((x) => x.includes('History · today') && /198\.51\.100\.\d+/.test(x), 'history of today');
    s.keys('m');
    await s.waitFor((x) => x.includes('History · this month') || x.includes('History · month'), 'history of the month');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 5 History'), 'menu');
    s.keys('q');
    assert.equal(await s.exitCode(20_000), '0');
    assert.match(s.stty(), /(^|\s)icanon(\s|$)/, 'canonical mode restored');
    assert.match(s.stty(), /(^|\s)echo(\s|$)/, 'echo restored');
  } finally {
    s.close();
  }
});
