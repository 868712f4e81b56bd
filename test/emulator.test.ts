// The emulated router seen from outside: the real telnet-client 2.2.14 and raw sockets on loopback.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { Telnet } from 'telnet-client';
import { startEmulatedRouter, runIptables, type EmulatedRouter, type EmulatedRouterOptions } from '../src/emulator/index.js';
import { TelnetStreamDecoder } from '../src/transport/telnet-decoder.js';

// The option set issue 4 found to work with telnet-client 2.2.14.
const CLIENT_OPTIONS = {
  encoding: 'utf8' as const,
  irs: '\n',
  newlineReplace: '\n',
  loginPrompt: /login[: ]*$/i,
  passwordPrompt: /password[: ]*$/i,
  shellPrompt: /[^\r\n]*> *$/,
  failedLoginMatch: /incorrect|denied|fail/i,
  timeout: 3000,
  execTimeout: 3000,
};

async function withRouter(options: EmulatedRouterOptions, body: (router: EmulatedRouter) => Promise<void>): Promise<void> {
  const router = await startEmulatedRouter(options);
  try {
    await body(router);
  } finally {
    await router.close();
  }
}

async function login(router: EmulatedRouter, overrides: Record<string, unknown> = {}): Promise<Telnet> {
  const client = new Telnet();
  await client.connect({ host: router.host, port: router.port, username: router.user, password: router.password, ...CLIENT_OPTIONS, ...overrides });
  return client;
}

const lines = (text: string): string[] => text.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.trim() !== '');

/** A raw loopback client that records every 'data' event (one per TCP read) and the bytes so far. */
class RawClient {
  readonly chunks: Buffer[] = [];
  readonly socket: net.Socket;
  isClosed = false;
  constructor(router: EmulatedRouter) {
    this.socket = net.connect(router.port, router.host);
    this.socket.setNoDelay(true);
    this.socket.on('data', (chunk: Buffer) => this.chunks.push(chunk));
    this.socket.on('close', () => (this.isClosed = true));
    this.socket.on('error', () => undefined);
  }
  bytes(): Buffer {
    return Buffer.concat(this.chunks);
  }
  /** Text with every telnet sequence removed. */
  text(): string {
    return new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(this.bytes()).data.toString('utf8');
  }
  async waitFor(predicate: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${JSON.stringify(this.text().slice(-300))}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
  async waitForText(needle: string | RegExp, timeoutMs = 3000): Promise<void> {
    await this.waitFor(() => (typeof needle === 'string' ? this.text().includes(needle) : needle.test(this.text())), String(needle), timeoutMs);
  }
  write(data: string | Buffer | number[]): void {
    this.socket.write(Array.isArray(data) ? Buffer.from(data) : data);
  }
  destroy(): void {
    this.socket.destroy();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('emulated Broadcom router through telnet-client 2.2.14', () => {
  test('logs in and runs arp show, lanhosts show all and the TRAFFIC counter listing', async () => {
    await withRouter({ seed: 7, churn: false }, async (router) => {
      const client = await login(router);
      try {
        const arp = lines(await client.exec('arp show'));
        assert.equal(arp[0], 'IP address       HW type     Flags       HW address            Mask     Device');
        const present = router.state.hosts.filter((host) => host.arp !== 'absent');
        assert.ok(present.length >= 5);
        assert.equal(arp.length, present.length + 1);
        for (const host of present) {
          assert.ok(arp.some((row) => row.startsWith(host.ip.padEnd(17)) && row.includes(host.mac) && row.endsWith(' br0')), `arp row for ${host.ip}`);
        }

        const lanhosts = (await client.exec('lanhosts show all')).split('\n').filter((line) => line !== '');
        assert.equal(lanhosts[0], 'Bridge br0');
        assert.equal(lanhosts[1], '   MAC Addr          IP Addr     Lease Time Remaining    Hostname');
        const leased = router.state.hosts.filter((host) => host.leaseEndsAtMs !== null);
        assert.equal(lanhosts.length, leased.length + 2);
        for (const host of leased) {
          const row = lanhosts.find((line) => line.startsWith(`${host.mac}  ${host.ip} `));
          assert.ok(row, `lanhosts row for ${host.mac}`);
          assert.match(row, new RegExp(`^${host.mac}  ${host.ip.replace(/\./g, '\\.')}        \\d+              ${escapeRegExp(host.hostname)}$`));
        }
        assert.ok(leased.some((host) => host.hostname === ''), 'the default LAN has a host without a name');

        // lantop's set-up: one rule per direction for one host only.
        const [target, bystander] = router.state.hosts.filter((host) => host.isOnline && host.kind !== 'iot');
        assert.ok(target && bystander);
        for (const command of ['iptables -N TRAFFIC', 'iptables -I FORWARD -j TRAFFIC', `iptables -A TRAFFIC -i ppp0 -d ${target.ip}`, `iptables -A TRAFFIC -s ${target.ip} -o ppp0`]) {
          assert.equal((await client.exec(command)).trim(), '', command);
        }
        router.tick(60_000);
        const listing = await client.exec('iptables -L TRAFFIC -v -x -n');
        const expected = runIptables(router.state.iptables, ['-L', 'TRAFFIC', '-v', '-x', '-n']).stdout;
        assert.deepEqual(lines(listing), lines(expected));
        assert.match(lines(listing)[0] ?? '', /^Chain TRAFFIC \(1 references\)$/);
        const [down, up] = lines(listing).slice(2).map((row) => row.trim().split(/\s+/).slice(0, 2).map(Number));
        // Counters are exactly the target's traffic; the bystander moved bytes too, uncounted.
        assert.deepEqual(down, [router.state.iptables.tables.get('filter')?.chains.find((c) => c.name === 'TRAFFIC')?.rules[0]?.packets, BigInt(target.downBytes)].map(Number));
        assert.equal(up?.[1], target.upBytes);
        assert.ok(target.downBytes > 0 && target.upBytes > 0);
        assert.ok(bystander.downBytes > 0);
      } finally {
        await client.destroy();
      }
    });
  });

  test('an unknown command is answered like the Broadcom CLI, iptables errors come through verbatim', async () => {
    await withRouter({ seed: 3 }, async (router) => {
      const client = await login(router);
      try {
        assert.match((await client.exec('xyz --now')).trim(), /^telnetd:error:\d+\.\d{3}:processInput:406:unrecognized command xyz --now$/);
        assert.equal((await client.exec('iptables -L TRAFFIC -v -x -n')).trim(), 'iptables: No chain/target/match by that name.');
        assert.equal((await client.exec('iptables -N TRAFFIC')).trim(), '');
        assert.equal((await client.exec('iptables -N TRAFFIC')).trim(), 'iptables: Chain already exists.');
        assert.equal((await client.exec('iptables -D TRAFFIC 1')).trim(), 'iptables: Index of deletion too big.');
        assert.equal((await client.exec('iptables -A TRAFFIC -s 198.51.100.300')).trim(), "iptables v1.4.21: host/network `198.51.100.300' not found\nTry `iptables -h' or 'iptables --help' for more information.");
        assert.deepEqual(router.stats.commands.slice(-1), ['iptables -A TRAFFIC -s 198.51.100.300']);
      } finally {
        await client.destroy();
      }
    });
  });

  test('a wrong password is detected by failedLoginMatch when failure text and Login: come as two writes', async () => {
    await withRouter({ seed: 1 }, async (router) => {
      const client = new Telnet();
      const failed = once(client, 'failedlogin');
      const connecting = client.connect({ host: router.host, port: router.port, username: router.user, password: 'wrong', ...CLIENT_OPTIONS }).catch(() => undefined);
      const [text] = (await Promise.race([failed, sleep(2500).then(() => ['timeout'])])) as [string];
      assert.match(text, /Login incorrect/);
      assert.equal(router.stats.failedLogins, 1);
      await connecting;
      await client.destroy();
    });
  });

  test('LF-only line ends and no echo work with irs "\\n" and echoLines 0', async () => {
    await withRouter({ seed: 2, lineEnding: '\n', echo: false }, async (router) => {
      const client = await login(router, { echoLines: 0 });
      try {
        const arp = lines(await client.exec('arp show'));
        assert.equal(arp[0], 'IP address       HW type     Flags       HW address            Mask     Device');
      } finally {
        await client.destroy();
      }
    });
  });

  test('reboot over the CLI drops the session and zeroes everything; router.reboot() does the same', async () => {
    await withRouter({ seed: 5, churn: false }, async (router) => {
      let client = await login(router);
      await client.exec('iptables -N TRAFFIC');
      await client.exec('iptables -I FORWARD -j TRAFFIC');
      await client.exec(`iptables -A TRAFFIC -i ppp0 -d ${router.state.hosts[0]?.ip}`);
      router.tick(30_000);
      const before = lines(await client.exec('iptables -L FORWARD -v -x -n'));
      assert.ok(Number(before[2]?.trim().split(/\s+/)[1]) > 0, 'traffic was counted before the reboot');
      const closed = once(client, 'close');
      client.exec('reboot').catch(() => undefined);
      await Promise.race([closed, sleep(2500).then(() => assert.fail('session not dropped by reboot'))]);
      await client.destroy();

      client = await login(router);
      assert.equal((await client.exec('iptables -L TRAFFIC -v -x -n')).trim(), 'iptables: No chain/target/match by that name.');
      assert.equal(lines(await client.exec('iptables -L FORWARD -v -x -n'))[0], 'Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)');
      const dropped = once(client, 'close');
      await router.reboot();
      await Promise.race([dropped, sleep(2500).then(() => assert.fail('router.reboot() kept the session'))]);
      assert.equal(router.connectionCount(), 0);
      assert.equal(router.state.bootCount, 3);
      await client.destroy();
    });
  });
});

describe('emulated router clock', () => {
  test('an injected clock is read before every command: counters move only when it does', async () => {
    let now = Date.UTC(2024, 5, 1, 12, 0, 0);
    await withRouter({ seed: 6, churn: false, clock: () => now }, async (router) => {
      const client = await login(router);
      try {
        await client.exec('iptables -N TRAFFIC');
        await client.exec('iptables -I FORWARD -j TRAFFIC');
        const bytes = async () => Number(lines(await client.exec('iptables -L FORWARD -v -x -n'))[2]?.trim().split(/\s+/)[1]);
        assert.equal(await bytes(), 0);
        assert.equal(await bytes(), 0, 'no time passed, no traffic');
        now += 10_000;
        const after = await bytes();
        assert.ok(after > 0);
        assert.equal(after, router.state.hosts.reduce((sum, host) => sum + host.downBytes + host.upBytes, 0));
        assert.equal(router.state.nowMs, now);
      } finally {
        await client.destroy();
      }
    });
  });
});

describe('emulated router on a raw socket', () => {
  test('opens with WILL ECHO, WILL SGA, DO TTYPE, DO NAWS and copes with answers split across TCP writes', async () => {
    await withRouter({ seed: 1 }, async (router) => {
      const raw = new RawClient(router);
      try {
        await raw.waitForText('Login: ');
        assert.deepEqual([...raw.bytes().subarray(0, 12)], [255, 251, 1, 255, 251, 3, 255, 253, 24, 255, 253, 31]);
        // DO ECHO, DO SGA, WILL TTYPE, WILL NAWS + NAWS 80x24 — one byte or a few per write.
        const answers = [255, 253, 1, 255, 253, 3, 255, 251, 24, 255, 251, 31, 255, 250, 31, 0, 80, 0, 24, 255, 240];
        for (const piece of [[255], [253], [1, 255, 253], [3, 255], [251, 24], [255, 251, 31, 255], [250, 31, 0], [80, 0, 24, 255], [240]]) {
          raw.write(piece);
          await sleep(3);
        }
        assert.equal(answers.length, 21);
        // The only answer due: TTYPE SEND, because we asked for TTYPE and it was granted.
        const ttypeSend = Buffer.from([255, 250, 24, 1, 255, 240]);
        await raw.waitFor(() => raw.bytes().includes(ttypeSend), 'SB TTYPE SEND');
        raw.write([255, 250, 24, 0]);
        raw.write(Buffer.from('XTERM'));
        raw.write([255, 240]);
        // Text with IAC NOP in the middle of the user name, and an unsupported option asked for.
        raw.write(Buffer.concat([Buffer.from('ad'), Buffer.from([255, 241]), Buffer.from('min\r\n'), Buffer.from([255, 253, 0])]));
        await raw.waitFor(() => raw.bytes().includes(Buffer.from([255, 252, 0])), 'WONT BINARY (refused)');
        await raw.waitForText('Password: ');
        raw.write(`${router.password}\r\n`);
        await raw.waitForText(' > ');
        const afterLogin = raw.bytes().length;
        // No negotiation loop: nothing more arrives without input.
        await sleep(50);
        assert.equal(raw.bytes().length, afterLogin);
        // A data byte 0xFF typed as IAC IAC comes back from echo (BusyBox) doubled again.
        raw.write('sh\r\n');
        await raw.waitForText('# ');
        raw.write(Buffer.concat([Buffer.from('echo A'), Buffer.from([255, 255]), Buffer.from('B\r\n')]));
        await raw.waitFor(() => raw.bytes().includes(Buffer.from([0x41, 255, 255, 0x42, 13, 10])), 'echoed A IAC IAC B');
      } finally {
        raw.destroy();
      }
    });
  });

  for (const isOneWrite of [false, true]) {
    test(`a failed login sends "Login incorrect" and the next "Login: " in ${isOneWrite ? 'one TCP write' : 'two TCP writes'}`, async () => {
      await withRouter({ seed: 1, loginFailureOneWrite: isOneWrite }, async (router) => {
        const raw = new RawClient(router);
        try {
          await raw.waitForText('Login: ');
          raw.write('admin\r\n');
          await raw.waitForText('Password: ');
          raw.write('nope\r\n');
          await raw.waitForText(/incorrect\. Try again\.\r\nLogin: $/);
          const decoded = raw.chunks.map((chunk) => new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(chunk).data.toString('utf8'));
          const failureChunk = decoded.find((text) => text.includes('Login incorrect. Try again.'));
          assert.ok(failureChunk !== undefined);
          assert.equal(failureChunk.endsWith('Login: '), isOneWrite);
          if (!isOneWrite) assert.equal(decoded[decoded.indexOf(failureChunk) + 1], 'Login: ');
        } finally {
          raw.destroy();
        }
      });
    });
  }

  test('disconnects after three failed logins', async () => {
    await withRouter({ seed: 1 }, async (router) => {
      const raw = new RawClient(router);
      try {
        for (let attempt = 1; attempt <= 3; attempt++) {
          await raw.waitFor(() => (raw.text().match(/Login: /g) ?? []).length === attempt, `login prompt ${attempt}`);
          raw.write('admin\r\n');
          await raw.waitFor(() => (raw.text().match(/Password: /g) ?? []).length === attempt, `password prompt ${attempt}`);
          raw.write(`wrong${attempt}\r\n`);
        }
        await raw.waitFor(() => raw.isClosed, 'the server to close the connection');
        assert.match(raw.text(), /Authorization failed after trying 3 times!!!\.\r\n$/);
        assert.equal(router.stats.failedLogins, 3);
        assert.equal(router.stats.logins, 0);
      } finally {
        raw.destroy();
      }
    });
  });

  test('splitWrites and iacInterleave change how bytes arrive, never what the text says', async () => {
    const transcript = async (options: EmulatedRouterOptions): Promise<{ text: string; reads: Buffer[] }> => {
      let result = { text: '', reads: [] as Buffer[] };
      await withRouter({ seed: 11, churn: false, ...options }, async (router) => {
        const raw = new RawClient(router);
        try {
          await raw.waitForText('Login: ');
          raw.write('admin\r\n');
          await raw.waitForText('Password: ');
          raw.write('admin\r\n');
          await raw.waitForText(' > ');
          raw.write('lanhosts show all\r\n');
          await raw.waitFor(() => raw.text().endsWith(' > ') && raw.text().includes('Hostname'), 'lanhosts and prompt', 8000);
          result = { text: raw.text(), reads: raw.chunks };
        } finally {
          raw.destroy();
        }
      });
      return result;
    };
    const plain = await transcript({});
    // 5 ms between writes so even a busy machine reads most of them separately.
    const faulty = await transcript({ splitWrites: true, iacInterleave: true, chunkDelayMs: 5 });
    assert.equal(faulty.text, plain.text);
    assert.ok(faulty.reads.length > plain.reads.length * 3, `many more TCP reads (${faulty.reads.length} vs ${plain.reads.length})`);
    const loneIac = faulty.reads.filter((read) => read[0] === 255 && new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(read).data.length === 0);
    assert.ok(loneIac.length > 0, 'some reads carry nothing but an IAC sequence');
    const textWithIac = faulty.reads.filter((read) => read.includes(255) && new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(read).data.length > 0);
    assert.ok(textWithIac.length > 0, 'some reads carry IAC sequences inside text');
  });
});

describe('emulated BusyBox/OpenWrt router', () => {
  test('login:, a # prompt, /proc/net/arp, dnsmasq leases, probes and not-found like ash', async () => {
    await withRouter({ flavour: 'busybox', seed: 4, churn: false }, async (router) => {
      const client = await login(router, { shellPrompt: /root@OpenWrt:~# $/ });
      try {
        const arp = lines(await client.exec('cat /proc/net/arp'));
        assert.equal(arp[0], 'IP address       HW type     Flags       HW address            Mask     Device');
        const leases = lines(await client.exec('cat /tmp/dhcp.leases'));
        const leased = router.state.hosts.filter((host) => host.leaseEndsAtMs !== null);
        assert.equal(leases.length, leased.length);
        for (const row of leases) assert.match(row, /^\d{10} ([0-9a-f]{2}:){5}[0-9a-f]{2} 198\.51\.100\.\d+ \S+ \S+$/);
        assert.match((await client.exec('uname -a')).trim(), /^Linux OpenWrt \S+ .* GNU\/Linux$/);
        assert.equal((await client.exec('which nft')).trim(), '');
        assert.equal((await client.exec('echo $?')).trim(), '1');
        assert.equal((await client.exec('which iptables')).trim(), '/usr/sbin/iptables');
        assert.equal((await client.exec('foo')).trim(), '-sh: foo: not found');
        assert.equal((await client.exec('iptables -X NOPE; echo $?')).trim(), 'iptables: No chain/target/match by that name.\n1');
        assert.equal((await client.exec('iptables -X NOPE 2>/dev/null || echo missing')).trim(), 'missing');
        assert.match((await client.exec('cat /proc/uptime')).trim(), /^\d+\.\d{2} \d+\.\d{2}$/);
      } finally {
        await client.destroy();
      }
    });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
