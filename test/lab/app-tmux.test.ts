// The interactive app (the real binary in a real terminal, via tmux) against the netns lab router,
// over telnet and over SSH: connect, set up with confirmation, live usage that shows a real
// transfer, connected devices, flush, quit with the terminal restored.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labSkipReason, startLab, type Lab } from './lab.js';
import { hasTmux, tmuxSession } from '../helpers/tmux.js';

const skip = labSkipReason() || (!hasTmux && 'tmux not installed');
const CLI = new URL('../../dist/cli.js', import.meta.url).pathname;

describe('the Ink app against the lab router', { skip, timeout: 240_000 }, () => {
  let lab: Lab;
  let dir: string;
  before(async () => {
    lab = await startLab({ hosts: 2, backend: 'legacy' });
    dir = mkdtempSync(join(tmpdir(), 'lantop-app-lab-'));
  });
  after(async () => {
    await lab?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const protocol of ['telnet', 'ssh'] as const) {
    test(`over ${protocol}: set up, watch a real transfer live, flush, quit cleanly`, async () => {
      const port = protocol === 'ssh' ? lab.sshPort : lab.telnetPort;
      // The password goes through a 0600 file, as a user would do, not argv.
      const passwordFile = join(dir, `pw-${protocol}`);
      writeFileSync(passwordFile, `${lab.password}\n`, { mode: 0o600 });
      const command = `NO_COLOR=1 LANTOP_CONFIG_DIR=${join(dir, `conf-${protocol}`)} LANTOP_DB=${join(dir, `db-${protocol}.sqlite`)} node ${CLI} --host ${lab.routerIp} --port ${port} --protocol ${protocol} --user ${lab.user} --password-file ${passwordFile} --timeout 5000`;
      const s = tmuxSession(`lab-${protocol}`, command, { columns: 120, rows: 30 });
      try {
        await s.waitFor((x) => x.includes('❯ 1 Connected devices'), 'connected, the menu', 30_000);
        s.keys('3');
        // After the telnet run's flush, chain and jump are still there: the plan is then only the host rules.
        await s.waitFor((x) => x.includes('[y/n]') && /iptables -A TRAFFIC_DOWN -d /.test(x), 'the setup plan');
        s.keys('y');
        await s.waitFor((x) => x.includes('✓ Verified'), 'setup verified', 30_000);
        s.keys('q');
        await s.waitFor((x) => x.includes('❯ 3 Set up accounting rules'), 'menu');
        s.keys('1');
        const h1 = lab.hosts[0]!;
        const devices = await s.waitFor((x) => x.includes(h1.ip) && /yes/.test(x), 'devices, counted');
        assert.ok(devices.includes(h1.mac), 'MAC shown');
        s.keys('q');
        await s.waitFor((x) => x.includes('❯ 1 Connected devices'), 'menu');
        s.keys('2');
        await s.waitFor((x) => x.includes('Live usage') && x.includes(h1.ip), 'live usage');
        await lab.transfer(h1, { downBytes: 4_000_000, upBytes: 500_000 });
        const live = await s.waitFor((x) => new RegExp(`${h1.ip.replace(/\./g, '\\.')}.*(MB|kB)`).test(x) && /[1-9]\d*\.\d%/.test(x), 'the transfer shows in live usage', 30_000);
        assert.match(live, /▶ /, 'top talker marked');
        s.keys('q');
        await s.waitFor((x) => x.includes('❯ 2 Live usage'), 'menu');
        s.keys('4');
        await s.waitFor((x) => x.includes('iptables -F TRAFFIC_DOWN') && x.includes('[y/n]'), 'flush plan');
        s.keys('y');
        await s.waitFor((x) => x.includes('✓ Verified'), 'flushed', 30_000);
        s.keys('q');
        await s.waitFor((x) => x.includes('❯ 4 Flush accounting rules'), 'menu');
        s.keys('q');
        assert.equal(await s.exitCode(20_000), '0');
        assert.match(s.stty(), /(^|\s)icanon(\s|$)/);
        assert.match(s.stty(), /(^|\s)echo(\s|$)/);
      } finally {
        s.close();
      }
    });
  }
});
