// test-file-timeout: 120
// Self-tests of the lab's nft-only OpenWrt router (variant 'openwrt-fw4'): over telnet and SSH the
// login lands in BusyBox ash with OpenWrt's prompt and release file, and no iptables exists at any
// path; fw4 reload/restart rewrite only table inet fw4 and fw4 flush deletes every table, as the real
// root/sbin/fw4 does; the oracle, which lives in the hosts, equals what the router forwards per
// address (IPv4 and both IPv6 addresses) and survives fw4 flush; a reboot leaves fw4's ruleset only.
// Needs root; skipped with one loud line otherwise (an error with LANTOP_REQUIRE_LAB=1, as in CI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Client } from 'ssh2';
import { closeSsh, destroySsh, sshExec } from '../helpers/close-ssh.js';
import { startLab, variantSkipReason, type Lab } from './lab.js';
import { loginRouter } from './raw-telnet.js';
import { run } from './run-command.js';

const openwrtFile = (name: string): string => readFileSync(new URL(`./openwrt/${name}`, import.meta.url), 'utf8');

function sshConnect(lab: Lab): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => resolve(client));
    client.once('error', (error) => { destroySsh(client); reject(error); });
    client.connect({ host: lab.routerIp, port: lab.sshPort, username: lab.user, password: lab.password, readyTimeout: 8_000 });
  });
}

/** An interactive SSH shell (pty vt100, as lantop asks for): what arrives until `until` matches. */
function sshShell(client: Client, commands: string, until: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    client.shell({ term: 'vt100', cols: 200, rows: 50 }, (error, channel) => {
      if (error) return reject(error);
      let text = '';
      const timer = setTimeout(() => { channel.close(); reject(new Error(`no ${String(until)} in ${JSON.stringify(text)}`)); }, 8_000);
      let sent = false;
      channel.on('data', (chunk: Buffer) => {
        text += chunk.toString('utf8');
        if (!sent && /# (?:\u001b\[6n)?$/.test(text)) { sent = true; channel.write(`${commands}\n`); }
        if (sent && until.test(text)) { clearTimeout(timer); channel.close(); resolve(text); }
      });
    });
  });
}

/** A table of the test's own in the router: per-address counters in the forward path, after fw4's filter. */
function routerCounters(addresses: readonly string[]): string {
  const name = (dir: string, i: number): string => `${dir}${i}`;
  const lines = ['table inet cmp {'];
  addresses.forEach((_, i) => lines.push(`  counter ${name('d', i)} { }`, `  counter ${name('u', i)} { }`));
  lines.push('  chain count {', '    type filter hook forward priority filter + 10; policy accept;');
  addresses.forEach((address, i) => {
    const family = address.includes(':') ? 'ip6' : 'ip';
    lines.push(`    iifname "ppp0" ${family} daddr ${address} counter name "${name('d', i)}"`);
    lines.push(`    ${family} saddr ${address} oifname "ppp0" counter name "${name('u', i)}"`);
  });
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}

async function readRouterCounters(lab: Lab, addresses: readonly string[]): Promise<Record<string, { downBytes: number; upBytes: number; downPackets: number; upPackets: number }>> {
  const json = JSON.parse((await lab.exec(['nft', '-j', 'list', 'counters', 'table', 'inet', 'cmp'])).stdout) as { nftables: Array<{ counter?: { name: string; packets: number; bytes: number } }> };
  const byName = new Map(json.nftables.flatMap((item) => (item.counter ? [[item.counter.name, item.counter] as const] : [])));
  return Object.fromEntries(addresses.map((address, i) => {
    const down = byName.get(`d${i}`)!;
    const up = byName.get(`u${i}`)!;
    return [address, { downBytes: down.bytes, upBytes: up.bytes, downPackets: down.packets, upPackets: up.packets }];
  }));
}

/** `nft list ruleset` as its tables, sorted: the kernel lists tables in no order the test relies on. */
function tables(ruleset: string): string[] {
  return ruleset.split(/^(?=table )/m).filter(Boolean).sort();
}

describe('lab variant openwrt-fw4', { skip: variantSkipReason('openwrt-fw4'), timeout: 100_000 }, () => {
  let lab: Lab;
  let boot = '';

  before(async () => {
    lab = await startLab({ hosts: 2, variant: 'openwrt-fw4', password: 'owrt-pw' });
    boot = await lab.nftRuleset();
  });
  after(async () => {
    await lab?.stop();
  });

  test('telnet: BusyBox login lands in ash with OpenWrt\'s banner and prompt; no iptables; release file; service', async () => {
    assert.equal(lab.user, 'root');
    const p = lab.dialogue.prompt;
    const cli = await loginRouter(lab.routerIp, lab.telnetPort, lab.user, lab.password, lab.dialogue);
    try {
      const text = cli.transcript.replace(/\r/g, '');
      assert.match(text, /OpenWrt login: root\nPassword: \n/);
      assert.ok(text.includes(openwrtFile('banner')), 'the 24.10.0 banner from /etc/profile');
      assert.match(text, /-----\nroot@OpenWrt:~# (?:\u001b\[6n)?$/);
      const out = (command: string): Promise<string> => cli.command(command, p).then((t) => t.replace(/\r/g, '').split('\n').slice(1, -1).join('\n'));
      // Short lines: BusyBox's line editing redraws a line longer than the 80 columns it assumes.
      assert.equal(await out('which iptables; echo "rc=$?"'), 'rc=1', '`which` finds none');
      assert.equal(await out('iptables -L'), '-ash: iptables: not found');
      assert.equal(await out('/usr/sbin/iptables -V'), '-ash: /usr/sbin/iptables: not found', 'not at the usual path either');
      assert.equal(await out('echo $PATH'), '/usr/sbin:/usr/bin:/sbin:/bin');
      assert.equal(await out('cat /etc/openwrt_release'), openwrtFile('openwrt_release').trimEnd());
      assert.match(await out('nft -v'), /^nftables v1\.\d/);
      assert.match(await out('cat /tmp/dhcp.leases'), new RegExp(`${lab.hosts[0]!.mac} ${lab.hosts[0]!.ip.replace(/\./g, '\\.')} `));
      assert.equal(await out('service firewall restart; echo "rc=$?"'), 'rc=0', 'service from /etc/shinit runs /etc/init.d/firewall');
      assert.equal(await out('nft list tables'), 'table inet fw4');
      cli.send('exit');
      assert.equal(await cli.waitClosed(), true);
    } finally {
      cli.close();
    }
  });

  test('ssh: exec and interactive shell are BusyBox ash; no iptables binary anywhere; release file', async () => {
    const client = await sshConnect(lab);
    try {
      const which = await sshExec(client, 'which iptables; echo "rc=$?"');
      assert.equal(which.stdout, 'rc=1\n');
      for (const name of ['iptables', 'ip6tables', 'iptables-restore', 'iptables-nft', '/usr/sbin/iptables', '/sbin/iptables-legacy']) {
        const result = await sshExec(client, `${name} -V`);
        assert.equal(result.code, 127, name);
        assert.equal(result.stderr, `ash: ${name}: not found\n`);
      }
      assert.equal((await sshExec(client, 'ls /usr/sbin /usr/bin /sbin /bin | grep -c tables')).stdout, '0\n');
      assert.equal((await sshExec(client, 'cat /etc/openwrt_release')).stdout, openwrtFile('openwrt_release'));
      assert.equal((await sshExec(client, 'uname -n')).stdout, 'OpenWrt\n');
      const shell = await sshShell(client, 'cat /etc/openwrt_version', /r28427-6df0e3d02a\r?\nroot@OpenWrt:~# /);
      assert.ok(shell.replace(/\r/g, '').includes(openwrtFile('banner')), 'a login shell: /etc/profile prints the banner');
    } finally {
      await closeSsh(client);
    }
  });

  test('fw4 reload and restart rewrite table inet fw4 only; fw4 flush deletes every table, as the real fw4', async () => {
    assert.match(boot, /^table inet fw4 \{/);
    assert.equal((await lab.exec(['nft', 'list', 'tables'])).stdout, 'table inet fw4\n', 'boot: fw4\'s table only');
    const foreign = 'table inet x {\n\tchain c {\n\t\ttype filter hook forward priority filter + 10; policy accept;\n\t\tcounter packets 0 bytes 0\n\t}\n}\n';
    assert.equal((await lab.exec(['nft', '-f', '-'], { input: foreign })).code, 0);
    const handle = async (): Promise<string> => /table inet fw4 \{ # handle (\d+)/.exec((await lab.exec(['nft', '-a', 'list', 'table', 'inet', 'fw4'])).stdout)?.[1] ?? '';
    const fw4Handle = await handle();

    await lab.fw4('reload');
    assert.equal(await handle(), fw4Handle, 'reload flushes and refills the same table');
    assert.deepEqual(tables(await lab.nftRuleset()), tables(boot + foreign), 'reload keeps the foreign table, and fw4 is as booted');
    await lab.fw4('restart');
    assert.notEqual(await handle(), fw4Handle, 'restart deletes and re-creates table inet fw4');
    assert.deepEqual(tables(await lab.nftRuleset()), tables(boot + foreign));
    const notLoaded = await lab.exec(['fw4', 'start']);
    assert.equal(notLoaded.code, 1);
    assert.equal(notLoaded.stderr, 'The fw4 firewall appears to be already loaded.\n');

    await lab.fw4('stop');
    assert.equal((await lab.exec(['nft', 'list', 'tables'])).stdout, 'table inet x\n', 'stop deletes table inet fw4 only');
    const again = await lab.exec(['fw4', 'stop']);
    assert.deepEqual([again.code, again.stderr], [1, 'The fw4 firewall does not appear to be loaded, try fw4 flush to delete all rules.\n']);
    await lab.fw4('start');

    await lab.fw4('flush');
    assert.equal((await lab.exec(['nft', 'list', 'tables'])).stdout, '', 'flush: every table gone, foreign ones too');
    const reload = await lab.exec(['fw4', 'reload']);
    assert.equal(reload.stderr, 'The fw4 firewall does not appear to be loaded.\n');
    await lab.fw4('start');
    assert.equal(await lab.nftRuleset(), boot);
    assert.equal(await lab.fw4('check'), 'Ruleset passes nftables check.\n');
  });

  test('oracle = what the router forwards, per address (IPv4, stable and temporary IPv6); it survives fw4 flush', async () => {
    const h1 = lab.hosts[0]!;
    const addresses = [h1.ip, h1.ip6!, h1.tempIp6!];
    const added = await lab.exec(['nft', '-f', '-'], { input: routerCounters(addresses) });
    assert.equal(added.code, 0, added.stderr);
    const before = await lab.oracle();
    await lab.transfer(h1, { downBytes: 200_000, upBytes: 30_000 });
    await lab.transfer(h1, { downBytes: 150_000, upBytes: 20_000, family: 6, source: 'stable' });
    // One ~1500-byte packet per segment too (no GSO super-packets from the ISP or the host).
    const segs = async (value: string): Promise<void> => {
      await run(['ip', '-n', lab.ispNs, 'link', 'set', 'wan0', 'gso_max_segs', value]);
      await run(['ip', '-n', h1.ns, 'link', 'set', 'eth0', 'gso_max_segs', value]);
    };
    await segs('1');
    try {
      await lab.transfer(h1, { downBytes: 50_000, upBytes: 120_000, family: 6, source: 'temporary' });
    } finally {
      await segs('65535');
    }
    // Both sides read together until neither moves (a packet between the router's forward hook and
    // the host is counted on one side only while in flight).
    const { oracle, router } = await lab.settleReading(async () => ({ oracle: await lab.oracle(), router: await readRouterCounters(lab, addresses) }));
    for (const address of addresses) {
      const o = oracle[address]!;
      const b = before[address]!;
      assert.deepEqual(router[address], {
        downBytes: o.downBytes - b.downBytes, upBytes: o.upBytes - b.upBytes, downPackets: o.downPackets - b.downPackets, upPackets: o.upPackets - b.upPackets,
      }, `router forward counters vs oracle for ${address}`);
    }
    const temp = oracle[h1.tempIp6!]!.upBytes - before[h1.tempIp6!]!.upBytes;
    assert.ok(temp > 120_000 && temp < 120_000 * 1.2, `temporary address upload ${temp}`);
    const byHost = await lab.oracleByHost();
    assert.deepEqual(byHost['h1']!.ipv4, oracle[h1.ip]);
    assert.equal(byHost['h1']!.ipv6.downBytes, oracle[h1.ip6!]!.downBytes + oracle[h1.tempIp6!]!.downBytes);
    assert.equal(byHost['h2']!.total.downBytes, 0);

    await lab.fw4('flush');
    assert.equal((await lab.exec(['nft', 'list', 'tables'])).stdout, '', 'the router\'s counters are gone with every table');
    const kept = await lab.oracle();
    assert.deepEqual(kept, oracle, 'fw4 flush does not touch the oracle');
    // No firewall, no NAT now; IPv6 is routed and still flows.
    await lab.transfer(h1, { downBytes: 80_000, upBytes: 1_000, family: 6 });
    const later = (await lab.settle())[h1.ip6!]!;
    const down = later.downBytes - oracle[h1.ip6!]!.downBytes;
    assert.ok(down > 80_000 && down < 80_000 * 1.2, `counting went on after the flush: ${down}`);
    await lab.fw4('start');
  });

  test('reboot: sessions drop, fw4\'s boot ruleset only (no other table), daemons back', async () => {
    assert.equal((await lab.exec(['nft', 'add', 'table', 'inet', 'lantop'])).code, 0);
    await lab.reboot();
    assert.equal((await lab.exec(['nft', 'list', 'tables'])).stdout, 'table inet fw4\n');
    assert.equal(await lab.nftRuleset(), boot);
    const cli = await loginRouter(lab.routerIp, lab.telnetPort, lab.user, lab.password, lab.dialogue);
    cli.close();
    assert.ok((await lab.oracle())[lab.hosts[0]!.ip], 'the oracle survives the reboot');
  });
});
