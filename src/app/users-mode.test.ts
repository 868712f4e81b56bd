// The users poller (issue 18) on a scripted gateway: the poll answer captured in the gateway lab
// (fixtures/iptables/1.8.9-legacy/users-chain-poll-answer.txt) with lantop's own login set to one
// of the two sessions: that one is left out and its rules go, the IPv6 session no socket shows
// goes, the other is counted with the rules' bytes; one probe for the log, one round trip per
// poll, one shell line for the changes; an unexpected command fails the test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../test/fixtures.js';
import { UsersPoller } from './users-mode.js';
import { NftUsersBackend } from '../router/backends/nftables/users-backend.js';

const NONCE = '0123456789ab';

function scripted(steps: Array<{ match: (c: string) => boolean; reply: string }>) {
  const sent: string[] = [];
  return {
    sent,
    run: async (command: string) => {
      sent.push(command);
      const step = steps.shift();
      assert.ok(step !== undefined && step.match(command), `unexpected command: ${command}`);
      return step.reply;
    },
    assertDone: () => assert.deepEqual(steps, [], 'expected commands never sent'),
  };
}

describe('UsersPoller', () => {
  test('one poll: own login left out, vanished sessions removed, the rest counted', async () => {
    const answer = readFixture('iptables/1.8.9-legacy/users-chain-poll-answer.txt').replace(`__LTUP_${NONCE}_self__\n\n`, `__LTUP_${NONCE}_self__\n203.0.113.11 39360 203.0.113.1 22\n`);
    const gateway = scripted([
      { match: (c) => c.includes('[ -r /var/log/auth.log ]'), reply: 'LOG=/var/log/auth.log\n' },
      { match: (c) => c.startsWith(`echo "__LT""UP_${NONCE}_self__"`) && c.includes('ss -tnpH state established'), reply: answer },
      { match: (c) => c.includes('-D LANTOP_USERS 4'), reply: `__LTST_${NONCE}_a4__\n` },
    ]);
    const poller = new UsersPoller({ run: gateway.run, iptables: { command: 'iptables', binary: 'iptables' }, ip6tables: { command: 'ip6tables', binary: 'ip6tables' }, sshPort: 22, isSsh: true, clock: { now: () => 1_000 }, router: 'gw:22', nonce: NONCE });
    const result = await poller.poll();
    gateway.assertDone();
    assert.deepEqual(result.commands, ['iptables -D LANTOP_USERS 4', 'iptables -D LANTOP_USERS 3', 'ip6tables -D LANTOP_USERS 2', 'ip6tables -D LANTOP_USERS 1']);
    assert.deepEqual(gateway.sent[2], `_L=0;iptables -D LANTOP_USERS 4&&_L=1&&iptables -D LANTOP_USERS 3&&_L=2&&ip6tables -D LANTOP_USERS 2&&_L=3&&ip6tables -D LANTOP_USERS 1&&_L=4;echo "__LT""ST_${NONCE}_a\${_L}__"`);
    assert.deepEqual(result.self, { ip: '203.0.113.11', port: 39360 });
    assert.deepEqual(result.snapshot.hosts.map((h) => [h.identity, h.downBytes, h.upBytes, h.isCounted]), [['user:alice', 100780, 5808, true], ['user:bob', 0, 0, false]]);
    const texts = result.snapshot.notices.map((n) => n.text);
    assert.equal(texts[0], "lantop's own login (203.0.113.11 port 39360) is not counted");
    assert.ok(texts.includes('recovered 3 session(s) from the rules\' comments'), texts.join('\n'));
    assert.ok(texts.some((t) => /^session ended: bob \(pid 4242, 2001:db8::10 port 50123\)/.test(t)), texts.join('\n'));
  });
});

// The same poller with the nftables backend (issue 18, an nft-only gateway): the nft listings are
// nft 1.0.6's own (fixtures/linux-auth/nft-users), the rest of each answer in the poll's sections.
// Poll 1 finds no table and creates it with alice's two rules; poll 2 reads her counters; poll 3 sees
// her disconnect, reads the rules a last time and deletes them by handle; a restarted poller
// recovers a session from the rules' comments.
const LISTING = readFixture('linux-auth/nft-users/list-a.txt');

function aliceListing(up: number, down: number): string {
  return LISTING.split('\n')
    .filter((l) => !/pid:4242|pid:77|tcp sport 22 counter packets 0 bytes 0 # handle 8/.test(l))
    .join('\n')
    .replace(/(saddr 203\.0\.113\.10 .*?counter) packets 0 bytes 0/, `$1 packets 10 bytes ${up}`)
    .replace(/(daddr 203\.0\.113\.10 .*?counter) packets 0 bytes 0/, `$1 packets 20 bytes ${down}`);
}

const SELF = '203.0.113.11 39360 203.0.113.1 22';
const SS_SELF = '0      0      203.0.113.1:22 203.0.113.11:39360 users:(("sshd",pid=1200,fd=4),("sshd",pid=1190,fd=4))\n';
const SS_ALICE = '0      0      203.0.113.1:22 203.0.113.10:40022 users:(("sshd",pid=2350,fd=4),("sshd",pid=2345,fd=4))\n';
const LOG1 = '2026-12-04T19:03:19.100000+00:00 gw sshd[1190]: Accepted publickey for root from 203.0.113.11 port 39360 ssh2\n' +
  '2026-12-04T19:03:19.397198+00:00 gw sshd[2345]: Accepted password for alice from 203.0.113.10 port 40022 ssh2\n';
const LOG3 = '2026-12-04T19:10:00.000000+00:00 gw sshd[2350]: Disconnected from user alice 203.0.113.10 port 40022\n';

function nftAnswer(o: { log: { offset: number; fresh?: string; same?: string }; ss: string; nft: string }): string {
  const m = (name: string, rest = '') => `__LTUP_${NONCE}_${name}__${rest}\n`;
  const log = o.log.fresh !== undefined ? `${m('fresh')}${o.log.fresh}` : `${m('same')}${o.log.same ?? ''}`;
  return `${m('self')}${SELF}\n${m('stat', ` 777 ${o.log.offset}`)}${log}${m('ss')}${o.ss}${m('ps')}${m('nft')}${o.nft}\n${m('end')}`;
}

describe('UsersPoller with the nftables backend', () => {
  test('creates the table, counts, removes the ended session by handle; a restart recovers from the comments', async () => {
    const isPoll = (c: string) => c.startsWith(`echo "__LT""UP_${NONCE}_self__"`) && c.includes('nft -a list table inet lantop_users 2>&1') && !c.includes('iptables');
    const gateway = scripted([
      { match: (c) => c.includes('[ -r /var/log/auth.log ]'), reply: 'LOG=/var/log/auth.log\nLOG=journal\n' },
      { match: isPoll, reply: nftAnswer({ log: { offset: LOG1.length, fresh: LOG1 }, ss: SS_SELF + SS_ALICE, nft: readFixture('linux-auth/nft-users/missing.txt') }) },
      { match: (c) => c.startsWith("printf '%s\\n' 'add table inet lantop_users'") && c.includes('|nft -f - 2>&1;'), reply: `__LTST_${NONCE}_r0__\n` },
      { match: (c) => isPoll(c) && c.includes(`[ "$_i" = 777 ] && [ "$_s" -ge ${LOG1.length} ]`), reply: nftAnswer({ log: { offset: LOG1.length, same: '' }, ss: SS_SELF + SS_ALICE, nft: aliceListing(5808, 100780) }) },
      { match: isPoll, reply: nftAnswer({ log: { offset: LOG1.length + LOG3.length, same: LOG3 }, ss: SS_SELF, nft: aliceListing(6000, 120000) }) },
      { match: (c) => c === `printf '%s\\n' 'delete rule inet lantop_users users_in handle 3' 'delete rule inet lantop_users users_out handle 4'|nft -f - 2>&1;echo "__LT""ST_${NONCE}_r$?__"`, reply: `__LTST_${NONCE}_r0__\n` },
    ]);
    const options = { run: gateway.run, backend: new NftUsersBackend({ nft: 'nft', sshPort: 22 }), sshPort: 22, isSsh: true, clock: { now: () => 1_000 }, router: 'gw:22', nonce: NONCE };
    const poller = new UsersPoller(options);
    const first = await poller.poll();
    assert.deepEqual(first.commands, [
      "nft 'add table inet lantop_users'",
      "nft 'add chain inet lantop_users users_in { type filter hook input priority filter - 10; policy accept; }'",
      "nft 'add chain inet lantop_users users_out { type filter hook output priority filter - 10; policy accept; }'",
      `nft 'add rule inet lantop_users users_in ip saddr 203.0.113.10 tcp sport 40022 tcp dport 22 counter comment "pid:2345 user:alice"'`,
      `nft 'add rule inet lantop_users users_out ip daddr 203.0.113.10 tcp sport 22 tcp dport 40022 counter comment "pid:2345 user:alice"'`,
    ]);
    assert.equal(first.logFile, '/var/log/auth.log', 'the file before the journal');
    const rows = (r: typeof first) => r.snapshot.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]);
    assert.deepEqual(rows(first), [], 'no counters yet');
    const second = await poller.poll();
    assert.deepEqual(second.commands, []);
    assert.deepEqual(rows(second), [['user:alice', 100780, 5808]]);
    const third = await poller.poll();
    assert.deepEqual(third.commands, ["nft 'delete rule inet lantop_users users_in handle 3'", "nft 'delete rule inet lantop_users users_out handle 4'"]);
    assert.deepEqual(rows(third), [['user:alice', 120000, 6000]], 'the last reading counts');
    assert.ok(third.snapshot.notices.some((n) => /^session ended: alice \(pid 2345/.test(n.text)));
    gateway.assertDone();

    // A new lantop: no log line names alice, her rules do (ss still shows her socket).
    const restarted = scripted([
      { match: (c) => c.includes('[ -r /var/log/auth.log ]'), reply: 'LOG=/var/log/auth.log\n' },
      { match: isPoll, reply: nftAnswer({ log: { offset: 10, fresh: 'x\n' }, ss: SS_SELF + SS_ALICE, nft: aliceListing(7000, 130000) }) },
    ]);
    const again = await new UsersPoller({ ...options, run: restarted.run }).poll();
    restarted.assertDone();
    assert.deepEqual(again.commands, []);
    assert.ok(again.snapshot.notices.some((n) => n.text === "recovered 1 session(s) from the rules' comments"));
  });

  test('teardown: the table goes in one transaction', async () => {
    const gateway = scripted([
      { match: (c) => c === 'nft -a list table inet lantop_users 2>&1', reply: aliceListing(1, 2) },
      { match: (c) => c === `printf '%s\\n' 'delete table inet lantop_users'|nft -f - 2>&1;echo "__LT""ST_${NONCE}_r$?__"`, reply: `__LTST_${NONCE}_r0__\n` },
    ]);
    const poller = new UsersPoller({ run: gateway.run, backend: new NftUsersBackend({ nft: 'nft', sshPort: 22 }), sshPort: 22, isSsh: true, clock: { now: () => 1_000 }, router: 'gw:22', nonce: NONCE });
    const commands = await poller.planRemoval();
    assert.deepEqual(commands, [['nft', 'delete table inet lantop_users']]);
    assert.deepEqual(await poller.send(commands), ["nft 'delete table inet lantop_users'"]);
    gateway.assertDone();
  });
});

describe('UsersPoller log sources', () => {
  // sd_journal_get_cursor's form (systemd src/libsystemd/sd-journal/sd-journal.c).
  const CURSOR1 = 's=739ad463348b4ceca5a9e69c95a3c93f;i=4ece7;b=6c7c6013a8b843ba9ac3b0e8ca5bd5ad;m=139e7d3d1a;t=56d5bd4db3d9f;x=6b3c8f8d21e1bd9c';
  const CURSOR2 = CURSOR1.replace('i=4ece7', 'i=4ece9');
  const m = (name: string) => `__LTUP_${NONCE}_${name}__\n`;
  const withJournal = (journal: string, ss: string, nft: string) => `${m('self')}${SELF}\n${m('jrnl')}${journal}${m('ss')}${ss}${m('ps')}${m('nft')}${nft}\n${m('end')}`;

  test('the journal by cursor: the cursor moves, stays when nothing is new, and a refused one is forgotten', async () => {
    const poll = (from: string) => (c: string) => c.includes(`_jrnl__"; journalctl -u ssh -u sshd -u dropbear -o short --no-pager --show-cursor ${from} 2>&1`);
    const journal1 = 'Dec 04 19:03:19 gw sshd[1190]: Accepted publickey for root from 203.0.113.11 port 39360 ssh2\nDec 04 19:03:19 gw sshd[2345]: Accepted password for alice from 203.0.113.10 port 40022 ssh2\n';
    const gateway = scripted([
      { match: (c) => c.includes('command -v journalctl'), reply: 'LOG=journal\nLOG=logread\n' },
      { match: poll('-n 5000'), reply: withJournal(`${journal1}-- cursor: ${CURSOR1}\n`, SS_SELF + SS_ALICE, aliceListing(100, 200)) },
      { match: poll(`'--after-cursor=${CURSOR1}'`), reply: withJournal('-- No entries --\n', SS_SELF + SS_ALICE, aliceListing(100, 200)) },
      { match: poll(`'--after-cursor=${CURSOR1}'`), reply: withJournal(`Dec 04 19:04:00 gw sshd[7]: Server listening on :: port 22.\n-- cursor: ${CURSOR2}\n`, SS_SELF + SS_ALICE, aliceListing(150, 300)) },
      { match: poll(`'--after-cursor=${CURSOR2}'`), reply: withJournal("-- cursor: s=1;i=2';reboot;'\n", SS_SELF + SS_ALICE, aliceListing(150, 300)) },
      { match: poll('-n 5000'), reply: withJournal('', SS_SELF + SS_ALICE, aliceListing(150, 300)) },
    ]);
    const poller = new UsersPoller({ run: gateway.run, backend: new NftUsersBackend({ nft: 'nft', sshPort: 22 }), sshPort: 22, isSsh: true, clock: { now: () => 1_000 }, router: 'gw:22', nonce: NONCE });
    const first = await poller.poll();
    assert.deepEqual(first.logSource, { kind: 'journal' });
    assert.equal(first.logFile, null);
    assert.deepEqual(first.commands, []);
    assert.ok(first.snapshot.notices.some((n) => n.text.startsWith('reading the SSH log from the journal')));
    assert.deepEqual(first.snapshot.hosts.map((h) => [h.identity, h.downBytes, h.upBytes]), [['user:alice', 200, 100]]);
    await poller.poll();
    await poller.poll();
    const refused = await poller.poll();
    assert.ok(refused.snapshot.notices.some((n) => n.text.includes('journalctl printed a cursor lantop does not accept')));
    await poller.poll();
    gateway.assertDone();
  });

  test('Dropbear on BusyBox: logread lines after the last seen, netstat for the sockets', async () => {
    const LOGREAD = readFixture('linux-auth/busybox-capture/logread.txt');
    const lines = LOGREAD.split('\n').filter((l) => l !== '');
    // The capture's two sessions came from loopback; on a gateway they come from clients.
    const ring = (n: number) => `${lines.slice(0, n).join('\n').replaceAll('127.0.0.1', '198.51.100.20')}\n`;
    const netstat = 'tcp        0      0 198.51.100.1:22         198.51.100.20:33438     ESTABLISHED \n';
    const withRing = (text: string, sockets: string, nft: string) => `${m('self')}\n${m('logrd')}${text}${m('ss')}${m('netstat')}${sockets}${m('ps')}${m('nft')}${nft}\n${m('end')}`;
    const empty = aliceListing(0, 0).split('\n').filter((l) => !l.includes('pid:')).join('\n');
    const isPoll = (c: string) => c.includes('logread 2>&1 | grep -e dropbear -e sshd') && c.includes('netstat -tnp 2>/dev/null || netstat -tn');
    const session = { user: 'root', pid: 4523, clientIp: '198.51.100.20', clientPort: 33438 };
    const rule = (dir: 'in' | 'out') => dir === 'in'
      ? `add rule inet lantop_users users_in ip saddr ${session.clientIp} tcp sport ${session.clientPort} tcp dport 22 counter comment "pid:${session.pid} user:root"`
      : `add rule inet lantop_users users_out ip daddr ${session.clientIp} tcp sport 22 tcp dport ${session.clientPort} counter comment "pid:${session.pid} user:root"`;
    const gateway = scripted([
      { match: (c) => c.includes('command -v logread'), reply: 'LOG=logread\n' },
      { match: isPoll, reply: withRing(ring(4), netstat, empty) },
      { match: (c) => c.includes(rule('in')) && c.includes(rule('out')), reply: `__LTST_${NONCE}_r0__\n` },
      // The whole buffer again, with the exit: only the new lines count.
      { match: isPoll, reply: withRing(ring(lines.length), '', empty) },
    ]);
    const poller = new UsersPoller({ run: gateway.run, backend: new NftUsersBackend({ nft: 'nft', sshPort: 22 }), sshPort: 22, isSsh: false, clock: { now: () => 1_000 }, router: 'local:22', nonce: NONCE });
    const first = await poller.poll();
    assert.equal(first.commands.length, 2);
    assert.deepEqual(poller.tracker.sessions().map((s) => [s.user, s.daemon, s.clientIp, s.clientPort]), [['root', 'dropbear', '198.51.100.20', 33438]]);
    await poller.poll();
    assert.deepEqual(poller.tracker.sessions(), [], 'the Exit line ended it');
    gateway.assertDone();
  });
});
