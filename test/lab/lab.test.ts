// test-file-timeout: 120 (measured 19 s alone; waits for the lab lock count, and each suite allows 60-90 s)
// Self-tests of the router lab, on both iptables backends: the topology is what README.md says, the
// real telnetd/CLI and dropbear answer, the oracle counts exactly what a TRAFFIC chain counts, reboot
// and daemon kills behave like a router's, and hostile lease names are never executed.
// Needs root; otherwise skipped with one loud line (an error with LANTOP_REQUIRE_LAB=1, as in CI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Client } from 'ssh2';
import { closeSsh, destroySsh, sshExec } from '../helpers/close-ssh.js';
import { labSkipReason, startLab, type IptablesBackend, type Lab } from './lab.js';
import { RawTelnet, loginCli } from './raw-telnet.js';
import { run } from './run-command.js';

const skip = labSkipReason();

function sshConnect(lab: Lab, password = lab.password): Promise<Client> {
  return new Promise((resolve, reject) => {
    const client = new Client();
    client.once('ready', () => resolve(client));
    client.once('error', (error) => {
      destroySsh(client);
      reject(error);
    });
    client.connect({ host: lab.routerIp, port: lab.sshPort, username: lab.user, password, readyTimeout: 8_000 });
  });
}

/** `iptables -L TRAFFIC -v -x -n` → bytes/packets per (host, direction), read by the test itself. */
function parseTraffic(listing: string, ips: readonly string[]): Record<string, { down: [number, number]; up: [number, number] }> {
  const result: Record<string, { down: [number, number]; up: [number, number] }> = {};
  for (const ip of ips) result[ip] = { down: [-1, -1], up: [-1, -1] };
  for (const line of listing.split('\n')) {
    const m = /^\s*(\d+)\s+(\d+)\s+\S+\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    const [, pkts, bytes, inIf, outIf, source, destination] = m;
    if (inIf === 'ppp0' && result[destination!]) result[destination!]!.down = [Number(pkts), Number(bytes)];
    if (outIf === 'ppp0' && result[source!]) result[source!]!.up = [Number(pkts), Number(bytes)];
  }
  return result;
}

for (const backend of ['legacy', 'nft'] as const satisfies readonly IptablesBackend[]) {
  describe(`router lab (${backend})`, { skip, timeout: 90_000 }, () => {
    let lab: Lab;
    let bootSave = '';

    before(async () => {
      lab = await startLab({ hosts: 3, backend, password: `pw-${backend}-1` });
      bootSave = await lab.iptablesSave();
    });
    after(async () => {
      await lab?.stop();
    });

    test('topology: namespaces, addresses, ARP, NAT only route back, one root-namespace route', async () => {
      const namespaces = (await run(['ip', 'netns', 'list'])).stdout;
      for (const ns of [lab.routerNs, lab.ispNs, ...lab.hosts.map((h) => h.ns)]) assert.match(namespaces, new RegExp(`^${ns}\\b`, 'm'));
      const links = (await lab.exec(['ip', '-o', 'addr', 'show'])).stdout;
      assert.match(links, /br0\s+inet 198\.51\.100\.1\/24/);
      assert.match(links, /ppp0\s+inet 203\.0\.113\.2\//);
      assert.equal((await lab.exec(['cat', '/proc/sys/net/ipv4/ip_forward'])).stdout.trim(), '1');

      const arp = (await lab.exec(['cat', '/proc/net/arp'])).stdout;
      for (const host of lab.hosts) assert.match(arp, new RegExp(`^${host.ip.replace(/\./g, '\\.')}\\s+0x1\\s+0x2\\s+${host.mac}\\s+\\*\\s+br0`, 'm'));
      assert.match(arp, new RegExp(`^198\\.51\\.100\\.254\\s+0x1\\s+0x2\\s+${lab.console.mac}`, 'm'));
      assert.deepEqual(new Set(lab.hosts.map((h) => h.mac)).size, lab.hosts.length);

      const ispRoute = await run(['ip', '-n', lab.ispNs, 'route', 'get', lab.hosts[0]!.ip]);
      assert.notEqual(ispRoute.code, 0, 'the ISP must have no route to the LAN');
      const rootRoutes = (await run(['ip', '-o', 'route', 'show', 'dev', lab.console.iface])).stdout.trim().split('\n');
      assert.deepEqual(rootRoutes.map((r) => r.split(' ')[0]), ['198.51.100.0/24']);

      const version = (await lab.exec(['iptables', '-V'])).stdout;
      assert.match(version, backend === 'legacy' ? /\(legacy\)/ : /\(nf_tables\)/);
    });

    test('telnet: real BusyBox telnetd, Broadcom CLI login, arp / lanhosts / iptables / sh', async () => {
      const bad = await RawTelnet.connect(lab.routerIp, lab.telnetPort);
      try {
        await bad.expect(/Login: $/);
        bad.send(lab.user);
        await bad.expect(/Password: $/);
        const from = bad.transcript.length;
        bad.send('wrong-password');
        await bad.expect(/Login incorrect\. Try again\.\r?\nLogin: $/, { from });
        assert.doesNotMatch(bad.transcript, /wrong-password/, 'the password is not echoed');
      } finally {
        bad.close();
      }

      const cli = await loginCli(lab.routerIp, lab.telnetPort, lab.user, lab.password);
      try {
        assert.match(cli.transcript, /BCM96358/);
        const arp = await cli.command('arp show', / > $/);
        for (const host of lab.hosts) assert.match(arp, new RegExp(`${host.ip.replace(/\./g, '\\.')}\\s+0x1\\s+0x2\\s+${host.mac}`));

        const lanhosts = await cli.command('lanhosts show all', / > $/);
        assert.match(lanhosts, /MAC Addr\s+IP Addr\s+Lease Time Remaining\s+Hostname/);
        for (const host of lab.hosts) {
          assert.match(lanhosts, new RegExp(`${host.mac}\\s+${host.ip.replace(/\./g, '\\.')}\\s+\\d+\\s+${host.hostname}\\r?\\n`));
        }

        const direct = (await lab.exec(['iptables', '-L', 'FORWARD', '-n'])).stdout;
        const viaCli = await cli.command('iptables -L FORWARD -n', / > $/);
        assert.equal(viaCli.replace(/\r/g, '').split('\n').slice(1, -1).join('\n'), direct.trimEnd(), 'CLI iptables prints the real output');
        const error = await cli.command('iptables -L NO_SUCH_CHAIN', / > $/);
        const realError = (await lab.exec(['iptables', '-L', 'NO_SUCH_CHAIN'])).stderr.trim();
        assert.ok(realError.length > 0);
        assert.ok(error.replace(/\r/g, '').includes(realError), `CLI shows the real error: ${error}`);

        await cli.command('sh', /# $/);
        const leases = await cli.command('cat /tmp/dhcp.leases', /# $/);
        for (const host of lab.hosts) assert.match(leases, new RegExp(`^\\d+ ${host.mac} ${host.ip.replace(/\./g, '\\.')} ${host.hostname || '\\*'} `, 'm'));
        const shellArp = await cli.command('cat /proc/net/arp', /# $/);
        assert.match(shellArp, /HW address/);
        const backendInShell = await cli.command('iptables -V', /# $/);
        assert.match(backendInShell, backend === 'legacy' ? /legacy/ : /nf_tables/);
        await cli.command('exit', / > $/);
        await cli.command('logout', /Bye/);
        assert.equal(await cli.waitClosed(), true);
      } finally {
        cli.close();
      }
    });

    test('ssh: real dropbear, password login, shell commands; wrong password refused', async () => {
      await assert.rejects(sshConnect(lab, 'not-the-password'), /authentication/i);
      const client = await sshConnect(lab);
      try {
        const arp = await sshExec(client, 'cat /proc/net/arp');
        assert.equal(arp.code, 0);
        for (const host of lab.hosts) assert.match(arp.stdout, new RegExp(`${host.ip.replace(/\./g, '\\.')}\\s+0x1\\s+0x2\\s+${host.mac}`));
        const leases = await sshExec(client, 'cat /tmp/dhcp.leases');
        assert.match(leases.stdout, new RegExp(lab.hosts[0]!.mac));
        const version = await sshExec(client, 'iptables -V');
        assert.match(version.stdout, backend === 'legacy' ? /\(legacy\)/ : /\(nf_tables\)/);
        const failing = await sshExec(client, 'iptables -L NO_SUCH_CHAIN');
        assert.notEqual(failing.code, 0, 'iptables exit codes pass through SSH');
      } finally {
        await closeSsh(client);
      }
    });

    test('transfer + oracle: exact application bytes, and the oracle equals a hand-made TRAFFIC chain', async () => {
      const ips = lab.hosts.map((h) => h.ip);
      const setup = [['-N', 'TRAFFIC'], ['-I', 'FORWARD', '1', '-j', 'TRAFFIC']];
      for (const ip of ips) setup.push(['-A', 'TRAFFIC', '-i', 'ppp0', '-d', ip], ['-A', 'TRAFFIC', '-s', ip, '-o', 'ppp0']);
      for (const args of setup) assert.equal((await lab.exec(['iptables', ...args])).code, 0, args.join(' '));
      const before = await lab.oracle();

      // Two hosts at once, then a one-byte transfer: exactness must not depend on timing.
      const rounds = [
        [{ host: 1, downBytes: 300_000, upBytes: 20_000 }, { host: 2, downBytes: 0, upBytes: 150_000 }],
        [{ host: 1, downBytes: 1, upBytes: 0 }],
      ];
      for (const round of rounds) {
        const results = await Promise.all(round.map((step) => lab.transfer(step.host, step)));
        results.forEach((result, i) => {
          assert.equal(result.downBytes, round[i]!.downBytes);
          assert.equal(result.upBytes, round[i]!.upBytes);
        });
      }
      const oracle = await lab.settle();
      const traffic = parseTraffic((await lab.exec(['iptables', '-L', 'TRAFFIC', '-v', '-x', '-n'])).stdout, ips);
      for (const ip of ips) {
        const o = oracle[ip]!;
        const b = before[ip]!;
        assert.deepEqual(traffic[ip], { down: [o.downPackets, o.downBytes], up: [o.upPackets, o.upBytes] }, `TRAFFIC vs oracle for ${ip}`);
        assert.ok(o.downBytes >= b.downBytes && o.upBytes >= b.upBytes);
      }
      const h1 = oracle[ips[0]!]!;
      const h2 = oracle[ips[1]!]!;
      const h3 = oracle[ips[2]!]!;
      // IP-level bytes are application bytes plus headers; nothing else flows through ppp0.
      assert.ok(h1.downBytes > 300_001 && h1.downBytes < 300_001 * 1.2, `h1 down ${h1.downBytes}`);
      assert.ok(h2.upBytes > 150_000 && h2.upBytes < 150_000 * 1.2, `h2 up ${h2.upBytes}`);
      assert.ok(h2.downBytes > 0 && h2.downBytes < 20_000, 'h2 downloads only ACKs');
      assert.deepEqual(h3, { downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0 });

      await lab.resetOracle();
      const zero = await lab.oracle();
      assert.equal(zero[ips[0]!]!.downBytes, 0);
    });

    test('reboot: iptables back to the boot firewall with zero counters, sessions dropped, daemons back', async () => {
      assert.equal((await lab.exec(['iptables', '-N', 'LEFTOVER'])).code, 0);
      assert.notEqual(await lab.iptablesSave(), bootSave);
      const session = await loginCli(lab.routerIp, lab.telnetPort, lab.user, lab.password);
      const ssh = await sshConnect(lab);
      const sshClosed = new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), 8_000);
        ssh.once('close', () => { clearTimeout(timer); resolve(true); });
      });
      try {
        await lab.reboot();
        assert.equal(await session.waitClosed(), true, 'telnet session dropped');
        assert.equal(await sshClosed, true, 'ssh session dropped');
      } finally {
        session.close();
        await closeSsh(ssh);
      }
      assert.equal(await lab.iptablesSave(), bootSave);
      const counters = (await lab.exec(['iptables', '-L', 'FORWARD', '-v', '-x', '-n'])).stdout;
      for (const line of counters.split('\n').slice(2).filter(Boolean)) assert.match(line, /^\s*0\s+0\s/, line);
      const again = await loginCli(lab.routerIp, lab.telnetPort, lab.user, lab.password);
      again.close();
      const sshAgain = await sshConnect(lab);
      await closeSsh(sshAgain);
      const oracle = await lab.oracle();
      assert.ok(oracle[lab.hosts[0]!.ip], 'the oracle survives the reboot');
    });

    test('killTelnetd drops sessions and telnetd comes back; LAN and WAN flaps recover', async () => {
      const session = await loginCli(lab.routerIp, lab.telnetPort, lab.user, lab.password);
      await lab.killTelnetd({ downMs: 200 });
      assert.equal(await session.waitClosed(), true);
      (await loginCli(lab.routerIp, lab.telnetPort, lab.user, lab.password)).close();

      await lab.flapWan(300);
      await lab.transfer(3, { downBytes: 10_000, upBytes: 10_000 });
      const cli = await loginCli(lab.routerIp, lab.telnetPort, lab.user, lab.password);
      try {
        const flap = lab.flapLan(1_000);
        await new Promise((resolve) => setTimeout(resolve, 300));
        const down = await run(['ip', '-o', 'link', 'show', lab.console.iface]);
        assert.match(down.stdout, /NO-CARRIER|LOWERLAYERDOWN|state DOWN/);
        await flap;
        await cli.command('arp show', / > $/, 8_000); // the session survives a short flap
      } finally {
        cli.close();
      }
    });

    test('hostile lease names reach the CLI, the shell and SSH as data, never as commands', async () => {
      const hostile = lab.hostileHostnames();
      await lab.setLeases(hostile.map((hostname, i) => ({ mac: `02:1a:b0:00:01:${(i + 1).toString(16).padStart(2, '0')}`, ip: `198.51.100.${100 + i}`, hostname })));
      const cli = await loginCli(lab.routerIp, lab.telnetPort, lab.user, lab.password);
      try {
        const table = await cli.command('lanhosts show all', / > $/, 8_000);
        assert.ok(table.includes('x'.repeat(5000)), 'the long name is listed in full');
        assert.ok(table.includes(`$(touch /tmp/${lab.markerName})`));
        assert.ok(table.includes('\u00ff\u00fe'), 'non-UTF-8 bytes are passed through raw');
        await cli.command(`iptables -L $(touch /tmp/${lab.markerName}) \`touch /tmp/${lab.markerName}\``, / > $/);
        await cli.command(`arp show;touch /tmp/${lab.markerName}`, / > $/);
        await cli.command('sh', /# $/);
        await cli.command('cat /tmp/dhcp.leases', /# $/);
        const ssh = await sshConnect(lab);
        try {
          const leases = await sshExec(ssh, 'cat /tmp/dhcp.leases');
          assert.ok(leases.stdout.includes(`\`touch /tmp/${lab.markerName}\``));
        } finally {
          await closeSsh(ssh);
        }
        assert.equal(lab.markerExists(), false, 'a hostile name was executed');

        // The check itself must be able to fail: a real command in the router's shell trips it.
        await cli.command(`touch /tmp/${lab.markerName}`, /# $/);
        assert.equal(lab.markerExists(), true);
        await cli.command(`rm /tmp/${lab.markerName}`, /# $/);
        assert.equal(lab.markerExists(), false);
      } finally {
        cli.close();
      }
    });
  });
}

describe('lab cleanup', { skip, timeout: 60_000 }, () => {
  const labModule = new URL('./lab.ts', import.meta.url).pathname;
  const cleanupScript = new URL('./cleanup.sh', import.meta.url).pathname;

  /** Starts a lab in a child process running `then` (JS) after startLab; returns the lab prefix and the child. */
  function childLab(then: string): { prefix: Promise<string>; exited: Promise<number | null>; kill: () => void } {
    const code = `const { startLab } = await import(${JSON.stringify(labModule)});
const lab = await startLab({ hosts: 1 });
process.stdout.write(lab.prefix + '\\n');
${then}`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (status) => { clearTimeout(timer); resolve(status); }));
    const prefix = new Promise<string>((resolve, reject) => {
      child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      void exited.then(() => reject(new Error('child exited before its lab was up')));
    });
    return { prefix, exited, kill: () => child.kill('SIGKILL') };
  }

  async function leftovers(prefix: string): Promise<string> {
    const namespaces = (await run(['ip', 'netns', 'list'])).stdout.split('\n').filter((l) => l.startsWith(`${prefix}-`));
    const link = (await run(['ip', 'link', 'show', `${prefix}c`])).code === 0 ? [`${prefix}c`] : [];
    const route = (await run(['ip', '-o', 'route', 'show', 'root', '198.51.100.0/24'])).stdout.trim();
    return [...namespaces, ...link, ...(route ? [route] : [])].join(', ');
  }

  test('a process that exits without stop() leaves nothing behind', async () => {
    const child = childLab('process.exit(0);');
    const prefix = await child.prefix;
    assert.match(prefix, /^lt\d+[a-z]$/);
    assert.equal(await child.exited, 0);
    assert.equal(await leftovers(prefix), '');
  });

  test('a SIGKILLed owner: its daemons die with it, cleanup.sh removes namespaces, veth and route', async () => {
    const child = childLab('setInterval(() => {}, 1000);');
    const prefix = await child.prefix;
    assert.notEqual(await leftovers(prefix), '', 'the lab is up');
    child.kill();
    await child.exited;
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal((await run(['ip', 'netns', 'pids', `${prefix}-r`])).stdout.trim(), '', 'no orphaned router processes');
    assert.notEqual(await leftovers(prefix), '', 'namespaces outlive a SIGKILL');
    const cleaned = await run([cleanupScript], { timeoutMs: 20_000 });
    assert.equal(cleaned.code, 0, cleaned.stderr);
    assert.match(cleaned.stdout, new RegExp(`removed lab ${prefix}`));
    assert.equal(await leftovers(prefix), '');
  });
});

describe('lab options', { skip, timeout: 60_000 }, () => {
  test('root login, custom banner, BusyBox ash with line editing; one lab per process at a time', async () => {
    const lab = await startLab({ hosts: 1, backend: 'nft', user: 'root', password: 'p w$1', banner: 'DSL-2750U', shell: 'busybox' });
    try {
      await assert.rejects(startLab({ hosts: 1 }), /already runs a lab/);
      const cli = await loginCli(lab.routerIp, lab.telnetPort, 'root', 'p w$1');
      try {
        assert.match(cli.transcript, /^\s*DSL-2750U\r?\nLogin: /);
        const help = await cli.command('help', / > $/);
        // The real firmware's help (Comtrend BCM96328, CMS cliCmdTable): sh and iptables are hidden.
        for (const command of ['arp', 'lanhosts', 'logout']) assert.match(help, new RegExp(`^${command}\\r*$`, 'm'));
        for (const hidden of ['iptables', 'sh']) assert.doesNotMatch(help, new RegExp(`^${hidden}\\r*$`, 'm'));
        assert.match(await cli.command('iptables -V', / > $/), /iptables v1\.8/, 'the hidden iptables still runs');
        const unknown = await cli.command('ls -l', / > $/);
        assert.match(unknown, /telnetd:error:\d+\.\d+:processInput:406:unrecognized command ls -l/);
        // Debian's BusyBox ash asks the terminal for the cursor position after each prompt.
        const shell = await cli.command('sh', /# \u001b\[6n$/);
        assert.match(shell, /BusyBox v\S+ .*built-in shell \(ash\)/);
      } finally {
        cli.close();
      }
      const ssh = await sshConnect(lab);
      try {
        const id = await sshExec(ssh, 'id -u; iptables -V');
        assert.match(id.stdout, /^0\n.*nf_tables/s);
      } finally {
        // Before lab.stop(): toward the deleted namespace an ended socket would hang the file (issue 13).
        await closeSsh(ssh);
      }
    } finally {
      await lab.stop();
    }
  });
});
