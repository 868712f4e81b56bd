// test-file-timeout: 120
// Self-tests of the lab's router variants: each one, driven by the small raw telnet client (not by
// lantop), answers as the published capture or firmware source it is modelled on (SOURCE.md):
// login dialogue, prompt, help text, the answer to an unknown command, the lanhosts layout, the
// hidden shell, chunked delivery, the telnet server, the missing lease file.
// Needs root; skipped with one loud line otherwise (an error with LANTOP_REQUIRE_LAB=1, as in CI).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { closeSsh, destroySsh, sshExec } from '../helpers/close-ssh.js';
import { startLab, variantSkipReason, type Lab, type LabVariantName } from './lab.js';
import { loginRouter, type RawTelnet } from './raw-telnet.js';
import { runSyncQuiet } from './run-command.js';

const fixture = (path: string): string => readFileSync(new URL(`../../fixtures/${path}`, import.meta.url), 'latin1');

/** What a command printed: CRs, the echoed line and the final prompt removed. */
function reply(transcript: string, prompt: RegExp): string {
  const text = transcript.replace(/\r/g, '');
  const firstNewline = text.indexOf('\n');
  const body = firstNewline < 0 ? '' : text.slice(firstNewline + 1);
  return body.replace(prompt, '');
}

async function withLab(variant: LabVariantName, body: (lab: Lab) => Promise<void>, options: { hosts?: number } = {}): Promise<void> {
  const lab = await startLab({ hosts: options.hosts ?? 2, variant, password: `v-${variant}` });
  try {
    await body(lab);
  } finally {
    await lab.stop();
  }
}

/** Command names of the processes in the router's network namespace. */
function routerProcesses(lab: Lab): string[] {
  const pids = runSyncQuiet(['ip', 'netns', 'pids', lab.routerNs]).stdout.split('\n').filter((p) => /^\d+$/.test(p));
  return pids.map((pid) => {
    try {
      return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      return '';
    }
  });
}

async function login(lab: Lab): Promise<RawTelnet> {
  return loginRouter(lab.routerIp, lab.telnetPort, lab.user, lab.password, lab.dialogue);
}

function variantSuite(variant: LabVariantName, name: string, body: (lab: Lab) => Promise<void>): void {
  describe(`lab variant ${variant}`, { skip: variantSkipReason(variant), timeout: 60_000 }, () => {
    test(name, () => withLab(variant, body));
  });
}

variantSuite('cms', 'Comtrend help without sh/iptables; hidden sh and iptables work; telnetd:error answer; CMS lanhosts', async (lab) => {
  const cli = await login(lab);
  try {
    assert.match(cli.transcript, /BCM96358 Broadband Router\r?\nLogin: /);
    const help = reply(await cli.command('help', lab.dialogue.prompt), lab.dialogue.prompt);
    assert.equal(help, fixture('broadcom-cli/comtrend-bcm96328/help.txt'), 'help is the published Comtrend BCM96328 list');
    assert.ok(!help.split('\n').includes('sh') && !help.split('\n').includes('iptables'));
    assert.match(await cli.command('?', lab.dialogue.prompt), /lanhosts/);
    assert.match(reply(await cli.command('iptables -V', / > $/), / > $/), /^iptables v1\.8\.\d+ \(legacy\)\n$/);
    const unknown = reply(await cli.command('ls -l', / > $/), / > $/);
    assert.match(unknown, /^telnetd:error:\d+\.\d+:processInput:406:unrecognized command ls -l\n$/);
    const lanhosts = reply(await cli.command('lanhosts show all', / > $/), / > $/);
    const lines = lanhosts.split('\n');
    assert.equal(lines[0], 'Bridge br0');
    assert.equal(lines[1], '   MAC Addr          IP Addr     Lease Time Remaining    Hostname');
    for (const host of lab.hosts) assert.ok(lines.some((l) => new RegExp(`^${host.mac}  ${host.ip.replace(/\./g, '\\.')}        \\d+              ${host.hostname}$`).test(l)), `${host.ip} row`);
    await cli.command('sh', /# $/);
    assert.match(await cli.command('cat /tmp/dhcp.leases', /# $/), new RegExp(lab.hosts[0]!.mac));
    await cli.command('exit', / > $/);
    await cli.command('logout', /Bye bye\. Have a nice day!!!/);
    assert.equal(await cli.waitClosed(), true);
  } finally {
    cli.close();
  }
});

variantSuite('unknown-silent', 'an unknown command gets only the next prompt', async (lab) => {
  const cli = await login(lab);
  try {
    assert.equal(reply(await cli.command('ls -l', / > $/), / > $/), '');
    assert.equal(reply(await cli.command('cat /etc/openwrt_release 2>/dev/null', / > $/), / > $/).includes('error'), false);
    assert.match(reply(await cli.command('help', / > $/), / > $/), /^lanhosts$/m, 'known commands still answer');
  } finally {
    cli.close();
  }
});

variantSuite('unknown-consoled', 'an unknown command gets the ZyXEL consoled error line', async (lab) => {
  const cli = await login(lab);
  try {
    const unknown = reply(await cli.command('dir', / > $/), / > $/);
    assert.match(unknown, /^consoled:error:\d{1,3}\.\d{3}:processInput:395:unrecognized command dir\n$/);
    // Same shape as the published line (fixtures/broadcom-cli/zyxel-vmg1312).
    const published = fixture('broadcom-cli/zyxel-vmg1312/unrecognized-command.txt');
    assert.equal(unknown.replace(/error:[\d.]+:/, 'error:T:'), published.replace(/error:[\d.]+:/, 'error:T:'));
  } finally {
    cli.close();
  }
});

variantSuite('lanhosts-sdk', 'lanhosts show all in the SDK layout of the published MitraStar output', async (lab) => {
  const cli = await login(lab);
  try {
    const lines = reply(await cli.command('lanhosts show all', / > $/), / > $/).split('\n').filter(Boolean);
    const published = fixture('broadcom-cli/mitrastar-hgu/lanhosts-show-all.txt').split('\n');
    assert.equal(lines[0], published[0], 'Bridge line');
    assert.equal(lines[1], published[1], 'header, byte for byte');
    // Where each field starts: the published row and the lab's rows put them in the same columns.
    const starts = (row: string) => [...row.matchAll(/\S+/g)].map((m) => m.index);
    const fields = (row: string) => [...row.matchAll(/\S+/g)].map((m) => m[0]);
    const sample = published[2]!;
    assert.equal(lines.length, 2 + lab.hosts.length);
    for (const host of lab.hosts) {
      const row = lines.find((l) => l.includes(host.mac));
      assert.ok(row, `${host.ip} row`);
      assert.deepEqual(fields(row), ['[v]', host.mac, host.ip, 'unknown', '0', 'DHCP'], `${host.ip}: no hostname column`);
      assert.deepEqual(starts(row), starts(sample), `${host.ip} columns as published:\n${row}\n${sample}`);
    }
  } finally {
    cli.close();
  }
});

variantSuite('huawei-atp', 'ATP Cli banner, ATP> prompt, help and ?, Command failed., hidden shell', async (lab) => {
  const cli = await login(lab);
  try {
    assert.ok(cli.transcript.replace(/\r/g, '').trimStart().startsWith(`${fixture('huawei-atp/hg533/banner.txt')}Login: `), JSON.stringify(cli.transcript.slice(0, 200)));
    const p = lab.dialogue.prompt;
    assert.equal(reply(await cli.command('help', p), p), fixture('huawei-atp/hg533/help.txt'));
    assert.equal(reply(await cli.command('?', p), p), fixture('huawei-atp/hg533/question-mark.txt'));
    assert.equal(reply(await cli.command('ls', p), p), fixture('huawei-atp/hg655d/command-failed.txt'));
    for (const other of ['arp show', 'lanhosts show all', 'iptables -V', 'sh']) {
      assert.equal(reply(await cli.command(other, p), p), 'Command failed.\n', `${other} is not an ATP command`);
    }
    const shell = await cli.command('shell', /# $/);
    assert.match(shell, /built-in shell \(ash\)\r?\nEnter 'help' for a list of built-in commands\./);
    assert.match(await cli.command('iptables -V', /# $/), /iptables v1\.8/);
    await cli.command('exit', p);
    cli.send('exit');
    assert.equal(await cli.waitClosed(), true, '`exit` ends the session');
  } finally {
    cli.close();
  }
});

variantSuite('tplink-hash', 'username:/password:, TP-Link banner, TP-Link(conf)# prompt, published help, hidden sh', async (lab) => {
  const cli = await login(lab);
  try {
    const p = lab.dialogue.prompt;
    assert.ok(cli.transcript.replace(/\r/g, '').endsWith(`${fixture('tplink-cli/vx231v/banner.txt')}TP-Link(conf)#`), JSON.stringify(cli.transcript.slice(-300)));
    assert.equal(reply(await cli.command('help', p), p), fixture('tplink-cli/vx231v/help.txt'));
    assert.equal(reply(await cli.command('ls', p), p), '', 'no published answer to unknown commands: the lab prints nothing');
    await cli.command('sh', /# $/);
    assert.match(await cli.command('cat /proc/net/arp', /# $/), /HW address/);
    await cli.command('exit', p);
  } finally {
    cli.close();
  }
});

variantSuite('inetutils-telnetd', 'GNU inetutils telnetd under inetd serves the CMS CLI (its own negotiation)', async (lab) => {
  assert.ok(routerProcesses(lab).includes('inetutils-inetd'), `inetd runs in the router: ${routerProcesses(lab).join(',')}`);
  const cli = await login(lab);
  try {
    // inetutils telnetd asks for terminal type and linemode; BusyBox telnetd asks for neither.
    const asked = cli.negotiation.filter((n) => n.verb === 'DO').map((n) => n.option);
    assert.ok(asked.includes(24) && asked.includes(34), `DO TTYPE and DO LINEMODE: ${JSON.stringify(cli.negotiation)}`);
    // Debian's default: host information before the login program starts (no -h).
    assert.match(cli.transcript, /^\r\n\S+ \S+ \(\S+\) \(pts\/\d+\)\r\n\r\nBCM96358 Broadband Router\r\nLogin: /);
    assert.equal(reply(await cli.command('help', / > $/), / > $/), fixture('broadcom-cli/comtrend-bcm96328/help.txt'));
    // The CLI's "\r\n" is "\r\r\n" on the pty; inetutils sends the bare CR as CR NUL (RFC 854).
    assert.ok(cli.crNulCount > 0, 'CR NUL on the wire');
    assert.match(reply(await cli.command('iptables -V', / > $/), / > $/), /^iptables v1\.8/);
    await cli.command('sh', /# $/);
    await cli.command('exit', / > $/);
    // inetd forked one telnetd for this session; killTelnetd ends it with inetd.
    assert.equal(routerProcesses(lab).filter((name) => name === 'telnetd').length, 1, 'one telnetd per session');
    await lab.killTelnetd({ downMs: 100 });
    assert.equal(await cli.waitClosed(), true, 'the session dropped with telnetd');
  } finally {
    cli.close();
  }
  (await login(lab)).close();
});

describe('lab variant busybox telnetd negotiation (contrast for inetutils)', { skip: variantSkipReason('cms'), timeout: 60_000 }, () => {
  test('BusyBox telnetd does not ask for terminal type or linemode', () => withLab('cms', async (lab) => {
    const cli = await login(lab);
    try {
      const asked = cli.negotiation.filter((n) => n.verb === 'DO').map((n) => n.option);
      assert.ok(!asked.includes(24) && !asked.includes(34), JSON.stringify(cli.negotiation));
    } finally {
      cli.close();
    }
  }, { hosts: 1 }));
});

variantSuite('slow-chunked', 'output arrives in small pieces a few ms apart; prompt and text intact', async (lab) => {
  const cli = await login(lab);
  try {
    const before = cli.arrivals.length;
    const started = Date.now();
    const text = reply(await cli.command('help', / > $/), / > $/);
    const ms = Date.now() - started;
    assert.equal(text, fixture('broadcom-cli/comtrend-bcm96328/help.txt'), 'nothing lost or reordered');
    const pieces = cli.arrivals.slice(before);
    const bytes = pieces.reduce((sum, p) => sum + p.bytes, 0);
    const chunk = lab.profile.chunking!;
    // TCP coalesces small writes while an ACK is outstanding (Nagle + delayed ACK), as it would
    // from a real slow router: the client sees many reads spread over time, not one.
    const largest = Math.max(...pieces.map((p) => p.bytes));
    assert.ok(pieces.length >= 5 && largest <= bytes / 2, `${pieces.length} reads for ${bytes} bytes, largest ${largest}`);
    assert.ok(ms >= (bytes / chunk.bytes) * chunk.delayMs * 0.5, `${bytes} bytes took ${ms} ms`);
    // The prompt itself may be split across reads: the client sees it only once it is whole.
    await cli.command('sh', /# $/);
    assert.match(await cli.command('iptables -V', /# $/), /iptables v1\.8/);
    await cli.command('exit', / > $/);
    await cli.command('logout', /Bye bye\. Have a nice day!!!/, 10_000);
  } finally {
    cli.close();
  }
});


variantSuite('ssh-no-leases', 'the SSH shell has no /tmp/dhcp.leases; the CLI still lists names', async (lab) => {
  const client = await new Promise<Client>((resolve, reject) => {
    const c = new Client();
    c.once('ready', () => resolve(c));
    c.once('error', (error) => { destroySsh(c); reject(error); });
    c.connect({ host: lab.routerIp, port: lab.sshPort, username: lab.user, password: lab.password, readyTimeout: 8_000 });
  });
  try {
    const leases = await sshExec(client, 'cat /tmp/dhcp.leases');
    assert.notEqual(leases.code, 0);
    assert.match(leases.stderr, /No such file/);
    assert.match((await sshExec(client, 'cat /proc/net/arp')).stdout, new RegExp(lab.hosts[0]!.mac));
  } finally {
    await closeSsh(client);
  }
  const cli = await login(lab);
  try {
    assert.match(await cli.command('lanhosts show all', / > $/), new RegExp(`${lab.hosts[0]!.mac}.*${lab.hosts[0]!.hostname}`));
  } finally {
    cli.close();
  }
});
