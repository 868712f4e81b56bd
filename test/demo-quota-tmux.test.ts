// test-file-timeout: 180
// `lantop demo` shows quotas act (issue 16), in a real terminal (tmux): the demo's quota on its
// busiest device notifies at 80 % (the notice line), blocks it at 100 % (its traffic stops, the
// quota column says BLOCKED), the Quotas screen lists the quota and the block in its log, and the
// live screen's U unblocks it with confirmation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { hasTmux, tmuxSession } from './helpers/tmux.js';

const CLI = fileURLToPath(new URL('../dist/cli.js', import.meta.url));

test('lantop demo: the quota notice at 80 %, the block at 100 % (traffic stops), the Quotas screen, U unblocks', { skip: !hasTmux && 'tmux not installed', timeout: 170_000 }, async () => {
  const s = tmuxSession('demo-quota', `NO_COLOR=1 LANTOP_CONFIG_DIR=/nonexistent-lantop-config node ${CLI} demo`, { columns: 160, rows: 34 });
  try {
    await s.waitFor((x) => x.includes('❯ 1 Connected devices') && x.includes('6 Quotas and blocks'), 'the menu with Quotas', 20_000);
    s.keys('2');
    await s.waitFor((x) => x.includes('QUOTA') && /seedbox .*% .* left ↻\d+m/.test(x), 'the quota column on the busiest device', 30_000);
    await s.waitFor((x) => /seedbox \([0-9a-f:]+\) at 80 % of the traffic quota/.test(x), 'the 80 % notice', 90_000);
    await s.waitFor((x) => /seedbox .*BLOCKED \dm left/.test(x), 'the block at 100 %', 60_000);
    // The rate shown is the last interval's: the poll after the block reads 0 both ways.
    await s.waitFor((x) => /seedbox\s+198\.51\.100\.\d+\s+0 B\/s\s+0 B\/s.*BLOCKED/.test(x), "the blocked device's traffic stops", 10_000);
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 2 Live usage'), 'menu');
    s.keys('6');
    const quotas = await s.waitFor((x) => x.includes('Block log') && /block\s+seedbox · by quota/.test(x), 'the Quotas screen with the block in its log', 15_000);
    assert.match(quotas, /1\s+seedbox\s+.*of 60\.0 MB total\/5m/);
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 6 Quotas and blocks'), 'menu');
    s.keys('2');
    await s.waitFor((x) => /seedbox .*BLOCKED/.test(x), 'live again');
    s.keys('U');
    await s.waitFor((x) => x.includes('Unblock seedbox? y/n'), 'the unblock confirmation');
    s.keys('y');
    await s.waitFor((x) => x.includes('seedbox unblocked.'), 'unblocked');
    s.keys('q');
    await s.waitFor((x) => x.includes('❯ 2 Live usage'), 'menu');
    s.keys('q');
    assert.equal(await s.exitCode(20_000), '0');
  } finally {
    s.close();
  }
});
