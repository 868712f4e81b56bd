// test-file-timeout: 300 (measured ~15 s alone; waits for the machine-wide lab lock, up to 5 min)
// Self-test of the gateway lab (issue 18): Debian's sshd and rsyslog in the gateway write real
// auth.log lines for overlapping, ended, reconnected and hostile-named sessions; rotation works as
// logrotate's; the clients' oracle equals counters in the gateway's INPUT/OUTPUT byte for byte and
// is consistent with the bytes pushed; teardown leaves nothing behind.
// Needs root; otherwise skipped with one loud line (an error with LANTOP_REQUIRE_LAB=1, as in CI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { join } from 'node:path';
import {
  HOSTILE_USER, gatewaySkipReason, labNamespacesLeft, startGatewayLab, type GatewayLab, type GatewaySession, type PortCounts,
} from './gateway-lab.js';
import { Client } from 'ssh2';
import { closeSsh, destroySsh, sshExec } from '../helpers/close-ssh.js';
import { run, sleep } from './run-command.js';

const skip = gatewaySkipReason();

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const accepted = (user: string, ip: string, port: number): RegExp =>
  new RegExp(` sshd\\[\\d+\\]: Accepted password for ${escape(user)} from ${escape(ip)} port ${port} ssh2$`);
const closed = (user: string): RegExp => new RegExp(` sshd\\[\\d+\\]: pam_unix\\(sshd:session\\): session closed for user ${escape(user)}$`);

/** Counters in the gateway itself, per session 4-tuple, in the hooks lantop's INPUT/OUTPUT rules use. */
const GATEWAY_CHECK = `table inet gw_check {
  set up { type ipv4_addr . inet_service; size 1024; flags dynamic; }
  set down { type ipv4_addr . inet_service; size 1024; flags dynamic; }
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 22 update @up { ip saddr . tcp sport counter }
  }
  chain output {
    type filter hook output priority 0; policy accept;
    tcp sport 22 update @down { ip daddr . tcp dport counter }
  }
}
`;

function parseGatewayCheck(json: string): Map<string, PortCounts> {
  const result = new Map<string, PortCounts>();
  for (const item of (JSON.parse(json) as { nftables: Array<Record<string, unknown>> }).nftables) {
    const set = item['set'] as { name: string; elem?: Array<{ elem: { val: { concat: [string, number] }; counter: { packets: number; bytes: number } } }> } | undefined;
    if (!set) continue;
    for (const { elem } of set.elem ?? []) {
      const key = `${elem.val.concat[0]}:${elem.val.concat[1]}`;
      const counts = result.get(key) ?? { downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0 };
      if (set.name === 'up') { counts.upBytes += elem.counter.bytes; counts.upPackets += elem.counter.packets; } else { counts.downBytes += elem.counter.bytes; counts.downPackets += elem.counter.packets; }
      result.set(key, counts);
    }
  }
  return result;
}

function fileHash(path: string): string {
  if (!existsSync(path)) return 'absent';
  if (!statSync(path).isFile()) return `not a file, mode ${statSync(path).mode}`;
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}
const MACHINE_FILES = ['/etc/passwd', '/etc/shadow', '/etc/group', '/etc/ssh/sshd_config', '/var/log/auth.log', '/run/sshd', '/run/sshd.pid', '/dev/log'];

describe('gateway lab', { skip }, () => {
  let lab: GatewayLab;
  const pushed: Record<string, { downBytes: number; upBytes: number }> = {};
  const machineBefore = new Map<string, string>();
  let sessions: GatewaySession[] = [];

  const push = async (session: GatewaySession, downBytes: number, upBytes: number): Promise<void> => {
    const moved = await lab.pushThroughTunnel(session, { downBytes, upBytes });
    assert.deepEqual({ down: moved.downBytes, up: moved.upBytes }, { down: downBytes, up: upBytes });
    const sum = (pushed[session.user] ??= { downBytes: 0, upBytes: 0 });
    sum.downBytes += downBytes;
    sum.upBytes += upBytes;
  };

  before(async () => {
    for (const path of MACHINE_FILES) machineBefore.set(path, fileHash(path));
    lab = await startGatewayLab();
    const loaded = await lab.exec(['nft', '-f', '-'], { input: GATEWAY_CHECK });
    assert.equal(loaded.code, 0, loaded.stderr);
  });

  after(async () => {
    await lab?.stop();
  });

  test('sshd and rsyslogd are Debian\'s, in the gateway, logging to its own auth.log', async () => {
    await lab.waitForLog(/ lantop-gw sshd\[\d+\]: Server listening on 0\.0\.0\.0 port 22\.$/);
    // Debian 12's rsyslog default: RFC 3339 timestamps with microseconds, then the host name.
    assert.match(lab.authLog().split('\n')[0]!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}[+-]\d\d:\d\d lantop-gw sshd\[\d+\]: /);
    const pid = await lab.exec(['cat', '/run/sshd.pid']);
    assert.equal(Number(pid.stdout.trim()), lab.sshdPid());
    const check = await lab.exec(['/usr/sbin/sshd', '-t']);
    assert.equal(check.code, 0, check.stderr);
    const users = await lab.exec(['getent', 'passwd', 'alice', 'bob', HOSTILE_USER]);
    assert.equal(users.stdout.trim().split('\n').length, 3);
  });

  test('lantop\'s way in: root over the console link (198.51.100.129) sees the gateway\'s log and sockets', async () => {
    const client = new Client();
    await new Promise<void>((resolve, reject) => {
      client.once('ready', () => resolve());
      client.once('error', (error) => { destroySsh(client); reject(error); });
      client.connect({ host: lab.gatewayConsoleIp, port: lab.sshPort, username: 'root', password: lab.root.password, readyTimeout: 8_000 });
    });
    try {
      const who = await sshExec(client, 'id -un; hostname; cat /run/sshd.pid; ss -tnH state established');
      assert.equal(who.code, 0, who.stderr);
      const [name, host, pid] = who.stdout.split('\n');
      assert.deepEqual([name, host, Number(pid)], ['root', 'lantop-gw', lab.sshdPid()]);
      assert.match(who.stdout, /198\.51\.100\.129:22\s+198\.51\.100\.254:\d+/);
      const log = await sshExec(client, 'cat /var/log/auth.log');
      assert.match(log.stdout, / sshd\[\d+\]: Accepted password for root from 198\.51\.100\.254 port \d+ ssh2\n/);
    } finally {
      await closeSsh(client);
    }
    await lab.waitForLog(closed('root'));
  });

  test('a wrong password is refused and logged', async () => {
    await assert.rejects(lab.login('c2', 'alice', { password: 'wrong' }), /exited/);
    await lab.waitForLog(/ sshd\[\d+\]: Failed password for alice from 203\.0\.113\.11 port \d+ ssh2$/);
  });

  test('overlapping sessions: alice over -D from c1, bob over -L from c2, pushed at the same time', async () => {
    const alice = await lab.login('c1', 'alice', { tunnel: 'D' });
    await push(alice, 1_500_000, 600_000);
    const bob = await lab.login('c2', 'bob', { tunnel: 'L' });
    await Promise.all([push(alice, 1_000_000, 500_000), push(bob, 1_000_000, 500_000)]);
    await lab.waitForLog(accepted('alice', '203.0.113.10', alice.localPort));
    await lab.waitForLog(accepted('bob', '203.0.113.11', bob.localPort));
    await lab.waitForLog(/pam_unix\(sshd:session\): session opened for user alice\(uid=1001\) by \(uid=0\)$/);
    await alice.end();
    await lab.waitForLog(closed('alice'));
    await lab.waitForLog(new RegExp(`Disconnected from user alice 203\\.0\\.113\\.10 port ${alice.localPort}$`));
    sessions = [alice, bob];
  });

  test('log rotation: auth.log.1 keeps the old lines, rsyslogd writes the next ones to a new auth.log', async () => {
    const before = lab.authLog();
    await lab.rotateLog();
    assert.equal(lab.authLog('auth.log.1'), before);
    assert.equal(lab.authLog(), '');
    // bob reconnects after his connection dropped (ssh killed): new port, new lines in the new file.
    const [, bob] = sessions as [GatewaySession, GatewaySession];
    const again = await lab.reconnect(bob, { abrupt: true });
    assert.notEqual(again.localPort, bob.localPort);
    await push(again, 800_000, 400_000);
    await lab.waitForLog(accepted('bob', '203.0.113.11', again.localPort));
    await lab.waitForLog(closed('bob'));
    assert.doesNotMatch(lab.authLog('auth.log.1'), accepted('bob', '203.0.113.11', again.localPort));
    await lab.rotateLog();
    assert.match(gunzipSync(readFileSync(join(lab.logDir, 'auth.log.2.gz'))).toString(), /Accepted password for alice/);
    sessions.push(again);
  });

  test('a user with a hostile-looking name logs in, pushes and ends like any other', async () => {
    const odd = await lab.login('c1', HOSTILE_USER, { tunnel: 'L' });
    await push(odd, 700_000, 700_000);
    await lab.waitForLog(accepted(HOSTILE_USER, '203.0.113.10', odd.localPort));
    await odd.end({ abrupt: true });
    await lab.waitForLog(closed(HOSTILE_USER));
    sessions.push(odd);
  });

  test('the oracle equals the gateway\'s INPUT/OUTPUT counters per session, and the bytes pushed per user', async () => {
    for (const session of sessions) if (!session.ended) await session.end();
    const bySession = await lab.oracleBySession();
    const listed = await lab.exec(['nft', '-j', 'list', 'table', 'inet', 'gw_check']);
    const gateway = parseGatewayCheck(listed.stdout);
    // The failed login is in the gateway's counters but not a session; every session must match exactly.
    for (const row of bySession) {
      const { session, user, client, localPort, ended, ...counts } = row;
      assert.ok(ended, `session ${session} ended`);
      const ip = lab.client(client).ip;
      assert.deepEqual(counts, gateway.get(`${ip}:${localPort}`), `session ${session} (${user}) ${ip}:${localPort}`);
    }
    const byUser = await lab.oracleByUser();
    for (const [user, sent] of Object.entries(pushed)) {
      const seen = byUser[user]!;
      for (const direction of ['downBytes', 'upBytes'] as const) {
        assert.ok(seen[direction] > sent[direction], `${user} ${direction}: oracle ${seen[direction]} > pushed ${sent[direction]}`);
        assert.ok(seen[direction] < 1.3 * sent[direction], `${user} ${direction}: oracle ${seen[direction]} < 1.3 × pushed ${sent[direction]}`);
      }
    }
    assert.deepEqual(Object.keys(pushed).sort(), ['_-odd-name$', 'alice', 'bob']);
    await lab.resetOracle();
    for (const counts of Object.values(await lab.oracleByUser())) assert.deepEqual(counts, { downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0 });
  });

  test('a DenyUsers drop-in, checked with sshd -t and reloaded as Debian does, refuses the user until lifted', async () => {
    const listening = / sshd\[\d+\]: Server listening on 0\.0\.0\.0 port 22\.$/;
    const count = (): number => lab.authLog().split('\n').filter((line) => listening.test(line)).length;
    const before = count();
    const deny = await lab.exec(['sh', '-c', 'printf "DenyUsers alice\\n" > /etc/ssh/sshd_config.d/lantop-deny.conf && sshd -t && service ssh reload']);
    assert.equal(deny.code, 0, deny.stderr);
    await lab.waitForLog(/ sshd\[\d+\]: Received SIGHUP; restarting\.$/);
    await lab.waitForLog(listening, { count: before + 1 });
    await assert.rejects(lab.login('c1', 'alice'), /Permission denied/);
    await lab.waitForLog(/ sshd\[\d+\]: User alice from 203\.0\.113\.10 not allowed because listed in DenyUsers$/);
    const lift = await lab.exec(['sh', '-c', 'rm /etc/ssh/sshd_config.d/lantop-deny.conf && sshd -t && /etc/init.d/ssh reload']);
    assert.equal(lift.code, 0, lift.stderr);
    await lab.waitForLog(listening, { count: before + 2 });
    const back = await lab.login('c1', 'alice');
    await back.end();
  });

  test('teardown leaves no namespace, process, route or file behind; the machine\'s files were never touched', async () => {
    const prefix = lab.prefix;
    // Every process in the lab's namespaces: keeper, sshd and its session processes, rsyslogd, agents.
    const pids = new Set<number>([lab.sshdPid()!]);
    for (const ns of labNamespacesLeft(prefix)) {
      for (const pid of (await run(['ip', 'netns', 'pids', ns])).stdout.split('\n')) if (/^\d+$/.test(pid)) pids.add(Number(pid));
    }
    assert.ok(pids.size >= 3, `lab processes found: ${[...pids].join(' ')}`);
    const state = join(lab.logDir, '..');
    await lab.stop();
    assert.deepEqual(labNamespacesLeft(prefix), []);
    // Killed children of this process stay zombies until Node reaps them: wait for that.
    const deadline = Date.now() + 5_000;
    while ([...pids].some((pid) => existsSync(`/proc/${pid}`)) && Date.now() < deadline) await sleep(50);
    for (const pid of pids) assert.equal(existsSync(`/proc/${pid}`), false, `pid ${pid} gone`);
    assert.equal(existsSync(state), false);
    assert.equal((await run(['ip', '-o', 'link', 'show', `${prefix}c`])).code !== 0, true);
    assert.equal((await run(['ip', '-o', 'route', 'show', 'root', '198.51.100.0/24'])).stdout.trim(), '');
    for (const path of MACHINE_FILES) assert.equal(fileHash(path), machineBefore.get(path), path);
  });
});

describe('gateway lab: legacy iptables, traditional log format, the write-up\'s per-session rules', { skip }, () => {
  test('rules `-s C --sport P` / `-d C --dport P` in a useraccount chain count what the oracle counts', async () => {
    const lab = await startGatewayLab({ clients: 1, backend: 'legacy', syslogTemplate: 'traditional' });
    try {
      assert.match((await lab.exec(['iptables', '-V'])).stdout, /\(legacy\)/);
      const session = await lab.login('c1', 'alice', { tunnel: 'D' });
      const [line] = await lab.waitForLog(accepted('alice', '203.0.113.10', session.localPort));
      // RSYSLOG_TraditionalFileFormat: `Mmm dd hh:mm:ss host tag: message`, as Debian ≤ 11 and Ubuntu write it.
      assert.match(line!, /^[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d lantop-gw sshd\[\d+\]: /);
      const pid = /sshd\[(\d+)\]/.exec(line!)![1];
      const comment = `pid:${pid} user:alice`;
      const ip = lab.client('c1').ip;
      const port = String(session.localPort);
      for (const argv of [
        ['-N', 'useraccount'], ['-I', 'INPUT', '-j', 'useraccount'], ['-I', 'OUTPUT', '-j', 'useraccount'],
        ['-A', 'useraccount', '-s', ip, '-p', 'tcp', '--sport', port, '-m', 'comment', '--comment', comment],
        ['-A', 'useraccount', '-d', ip, '-p', 'tcp', '--dport', port, '-m', 'comment', '--comment', comment],
      ]) {
        const result = await lab.exec(['iptables', ...argv]);
        assert.equal(result.code, 0, result.stderr);
      }
      // The rules exist from here on: compare from here on (what came before them no rule can count).
      await lab.resetOracle();
      await lab.pushThroughTunnel(session, { downBytes: 1_000_000, upBytes: 200_000 });
      const listing = (await lab.exec(['iptables', '-L', 'useraccount', '-v', '-x', '-n'])).stdout;
      const rows = listing.split('\n').filter((l) => l.includes(comment)).map((l) => l.trim().split(/\s+/).map(Number));
      assert.equal(rows.length, 2, listing);
      const oracle = (await lab.oracleByUser())['alice']!;
      assert.deepEqual({ upPackets: rows[0]![0], upBytes: rows[0]![1], downPackets: rows[1]![0], downBytes: rows[1]![1] },
        { upPackets: oracle.upPackets, upBytes: oracle.upBytes, downPackets: oracle.downPackets, downBytes: oracle.downBytes });
      await session.end();
      await lab.waitForLog(closed('alice'));
    } finally {
      await lab.stop();
    }
  });
});
