// The lab routers' fast-path reporters (lab-offload-standins.ts) against their sources, without a
// lab: the fcctl stand-in's `status` text byte for byte against the sample built from the SDK's
// printf formats (fixtures/offload/broadcom-fcctl/), the uci stand-in's answers as openwrt/uci's
// cli.c gives them, and the firewall config with offloading switched on. Runs the scripts with the
// machine's /bin/sh (dash, as on the vendor routers) and BusyBox ash (as on the OpenWrt router).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FASTPATH_INSERTED_FILE, FCCTL_STATUS_HEAD, fcctlLearningLine, fcctlScript, firewallConfig, uciScript,
} from './lab-offload-standins.js';

const fixture = (name: string): string => readFileSync(new URL(`../../fixtures/offload/broadcom-fcctl/${name}`, import.meta.url), 'utf8');
const firewallDefault = readFileSync(new URL('./openwrt/firewall.config', import.meta.url), 'utf8');
const hasBusybox = spawnSync('busybox', ['true']).status === 0;

function withDir<T>(body: (dir: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-standin-'));
  try {
    return body(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function runScript(shell: string[], script: string, args: string[]): { code: number | null; stdout: string; stderr: string } {
  const result = spawnSync(shell[0]!, [...shell.slice(1), '-c', script, 'script', ...args], { encoding: 'utf8', timeout: 5_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('fcctl status: the SDK sample, line for line; the Flow Learning line from its printf format', () => {
  const disabled = fixture('fcctl-status-502L04-disabled.txt').split('\n');
  const enabled = fixture('fcctl-status-502L04-enabled.txt').split('\n');
  assert.deepEqual(disabled.slice(0, 8), [...FCCTL_STATUS_HEAD], 'the eight fixed lines (accel mode L3)');
  assert.deepEqual(enabled.slice(0, 8).filter((_, i) => i !== 3), FCCTL_STATUS_HEAD.filter((_, i) => i !== 3));
  assert.equal(fcctlLearningLine(false, 0, 972), disabled[8]);
  assert.equal(fcctlLearningLine(true, 12, 972), enabled[8]);
  assert.equal(fcctlLearningLine(true, 5, 3), '\tFlow Learning Enabled : Max<16383>, Active<5>, Cummulative [ 3 - 0 ]', 'never a negative remove count');
});

test('fcctl stand-in, offload off: prints the disabled sample byte for byte; anything but `status` exits 1 silently', () => {
  withDir((dir) => {
    writeFileSync(join(dir, FASTPATH_INSERTED_FILE), '972\n');
    const script = fcctlScript(null, dir);
    const status = runScript(['/bin/sh'], script, ['status']);
    assert.deepEqual(status, { code: 0, stdout: fixture('fcctl-status-502L04-disabled.txt'), stderr: '' });
    for (const args of [[], ['disable'], ['status', 'x'], ['flush']]) {
      assert.deepEqual(runScript(['/bin/sh'], script, args), { code: 1, stdout: '', stderr: '' }, `fcctl ${args.join(' ')}`);
    }
    rmSync(join(dir, FASTPATH_INSERTED_FILE));
    assert.match(runScript(['/bin/sh'], script, ['status']).stdout, /\tFlow Learning Disabled : Max<16383>, Active<0>, Cummulative \[ 0 - 0 \]\n$/, 'no count file: zeros');
  });
});

test('uci stand-in: `uci -q get firewall.@defaults[0].flow_offloading` as openwrt/uci answers it', () => {
  const shells = [['/bin/sh'], ...(hasBusybox ? [['busybox', 'sh']] : [])];
  withDir((dir) => {
    const on = join(dir, 'on');
    const off = join(dir, 'off');
    writeFileSync(on, firewallConfig(firewallDefault, true));
    writeFileSync(off, firewallConfig(firewallDefault, false));
    for (const shell of shells) {
      const uci = (config: string, ...args: string[]) => runScript(shell, uciScript().replace('/etc/config/firewall', config), args);
      const where = shell.join(' ');
      assert.deepEqual(uci(on, '-q', 'get', 'firewall.@defaults[0].flow_offloading'), { code: 0, stdout: '1\n', stderr: '' }, where);
      assert.deepEqual(uci(on, '-q', 'get', 'firewall.@defaults[0].flow_offloading_hw'), { code: 1, stdout: '', stderr: '' }, `${where}: unset → nothing, exit 1`);
      assert.deepEqual(uci(off, '-q', 'get', 'firewall.@defaults[0].flow_offloading'), { code: 1, stdout: '', stderr: '' }, where);
      assert.deepEqual(uci(off, 'get', 'firewall.@defaults[0].flow_offloading'), { code: 1, stdout: '', stderr: 'uci: Entry not found\n' }, `${where}: without -q the error`);
      assert.deepEqual(uci(off, '-q', 'get', 'firewall.@defaults[0].syn_flood'), { code: 0, stdout: '1\n', stderr: '' }, `${where}: another defaults option`);
      assert.deepEqual(uci(off, '-q', 'get', 'firewall.@defaults[0].name'), { code: 1, stdout: '', stderr: '' }, `${where}: zone options are not the defaults'`);
      for (const args of [['show', 'firewall'], ['-q', 'get', 'network.lan.ipaddr'], ['-q', 'get', 'firewall.@defaults[0].$(id)'], ['set', 'firewall.@defaults[0].flow_offloading=0'], []]) {
        assert.deepEqual(uci(on, ...args), { code: 1, stdout: '', stderr: '' }, `${where}: uci ${args.join(' ')}`);
      }
    }
  });
});

test('firewall config: offloading on adds one `option flow_offloading` line to config defaults, nothing else', () => {
  assert.equal(firewallConfig(firewallDefault, false), firewallDefault);
  const on = firewallConfig(firewallDefault, true);
  const added = on.split('\n').filter((line) => !firewallDefault.split('\n').includes(line));
  assert.deepEqual(added, ["\toption flow_offloading '1'"]);
  assert.match(on, /^config defaults\n(?:\t[^\n]*\n)*\toption flow_offloading '1'\n/);
  assert.throws(() => firewallConfig('config zone\n', true), /no config defaults/);
});
