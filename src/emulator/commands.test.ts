// The Broadcom CLI flavour answers as the published Comtrend BCM96328 does (issue 13): its `help`
// is the captured list, byte for byte, and hides `sh` and `iptables` as Broadcom's cli_cmd.c does
// (cliHiddenCmdTable) — while both still work when typed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { createRouterModel } from './model.js';
import { runBroadcomCli, runBusyboxShell } from './commands.js';
import { startEmulatedRouter } from './server.js';
import { TelnetStreamDecoder } from '../transport/telnet-decoder.js';

const fixture = (path: string) => readFileSync(new URL(`../../fixtures/broadcom-cli/${path}`, import.meta.url), 'utf8').replace(/\r\n/g, '\n');
const COMTREND_HELP = fixture('comtrend-bcm96328/help.txt');
const COMTREND_BANNER = fixture('comtrend-bcm96328/banner.txt').trim();

test('help and ? print the published Comtrend BCM96328 list, byte for byte', () => {
  const model = createRouterModel({ flavour: 'broadcom' });
  for (const command of ['help', '?', '  help  ']) {
    const outcome = runBroadcomCli(model, command);
    assert.equal(outcome.output, COMTREND_HELP, command);
    assert.equal(outcome.next, 'cli');
  }
});

test('help lists neither sh nor iptables, yet both work when typed (hidden commands)', () => {
  const model = createRouterModel({ flavour: 'broadcom' });
  const listed = runBroadcomCli(model, 'help').output.split('\n');
  assert.ok(!listed.includes('sh'), 'sh is hidden');
  assert.ok(!listed.includes('iptables'), 'iptables is hidden');
  assert.ok(listed.includes('arp') && listed.includes('lanhosts'), 'the CLI commands lantop reads are listed');

  const sh = runBroadcomCli(model, 'sh');
  assert.equal(sh.next, 'shell');
  assert.match(sh.output, /BusyBox v1\.17\.2 .* built-in shell \(ash\)/);
  assert.equal(runBusyboxShell(model, { lastStatus: 0 }, 'exit', 'broadcom').next, 'cli');
  assert.equal(runBroadcomCli(model, 'iptables -V').output, 'iptables v1.4.21\n');
  assert.equal(runBroadcomCli(model, 'iptables -N TRAFFIC').output, '');
  assert.match(runBroadcomCli(model, 'iptables -L TRAFFIC -v -x -n').output, /^Chain TRAFFIC \(0 references\)/);
});

test('the listed commands lantop reads answer; an unknown word is still the Broadcom error', () => {
  const model = createRouterModel({ flavour: 'broadcom' });
  for (const command of ['arp show', 'lanhosts show all', 'cat /proc/uptime', 'echo lantop']) {
    assert.doesNotMatch(runBroadcomCli(model, command).output, /unrecognized command/, command);
  }
  // An unknown word is still the Sagemcom-style error.
  assert.match(runBroadcomCli(model, 'ls').output, /^telnetd:error:\d+\.\d{3}:processInput:406:unrecognized command ls\n$/);
});

test('the login banner is the one a BCM96328 prints', async () => {
  const router = await startEmulatedRouter({ seed: 2 });
  const socket = net.connect(router.port, router.host);
  try {
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', () => undefined);
    const text = () => new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(Buffer.concat(chunks)).data.toString('utf8');
    const deadline = Date.now() + 3000;
    while (!text().includes('Login: ') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(text().replace(/\r\n/g, '\n'), `${COMTREND_BANNER}\nLogin: `);
  } finally {
    socket.destroy();
    await router.close();
  }
});
