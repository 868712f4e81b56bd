// Users mode's nftables table (issue 18) against real nft 1.0.6 listings (fixtures/linux-auth/nft-users):
// counters read back per session, plans that add, keep, delete by handle, re-create what is missing
// or hooked otherwise, teardown, the script grammar, and the backend's delivery through a scripted run.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { isNftUsersScriptLine, planNftUserRules, planNftUsersRemoval, readNftSessionCounters, readUsersTable, sessionRuleLine } from './user-rules.js';
import { NftUsersBackend, nftUsersShellLines } from './users-backend.js';

const NONCE = '0123456789ab';
const fixture = (name: string) => readFixture(`linux-auth/nft-users/${name}`);
const tableOf = (name: string) => {
  const read = readUsersTable(fixture(name));
  assert.equal(read.kind, 'table');
  return read.kind === 'table' ? read.table : null;
};
const ALICE = { pid: 2345, user: 'alice', clientIp: '203.0.113.10', clientPort: 40022 };
const ODD = { pid: 4242, user: '_-odd-name$', clientIp: '2001:db8::10', clientPort: 50123 };
const CAROL = { pid: 3001, user: 'carol', clientIp: '2001:db8::c', clientPort: 52000 };

describe('users table: reading', () => {
  test('the listing with handles: two complete sessions; bob\'s rule (no client port) and the untagged rule are not sessions', () => {
    const counters = readNftSessionCounters(tableOf('list-a.txt'), 22);
    assert.deepEqual([...counters.keys()], ['2345/203.0.113.10/40022', '4242/2001:db8::10/50123']);
    assert.deepEqual(counters.get('4242/2001:db8::10/50123'), { id: '4242/2001:db8::10/50123', ...ODD, downBytes: 0, upBytes: 0, downPackets: 0, upPackets: 0, isComplete: true });
  });

  test('counters by direction: users_in is the upload, users_out the download', () => {
    const text = fixture('list-a.txt').replace('tcp dport 22 counter packets 0 bytes 0 comment "pid:2345', 'tcp dport 22 counter packets 12 bytes 1900 comment "pid:2345').replace('tcp dport 40022 counter packets 0 bytes 0', 'tcp dport 40022 counter packets 9 bytes 5000000000');
    const read = readUsersTable(text);
    const c = readNftSessionCounters(read.kind === 'table' ? read.table : null, 22).get('2345/203.0.113.10/40022');
    assert.deepEqual([c?.upBytes, c?.upPackets, c?.downBytes, c?.downPackets], [1900, 12, 5_000_000_000, 9]);
  });

  test('missing table, and an answer that is no listing', () => {
    assert.deepEqual(readUsersTable(fixture('missing.txt')), { kind: 'missing' });
    assert.deepEqual(readUsersTable('sh: nft: not found\n'), { kind: 'unreadable' });
    assert.deepEqual(readUsersTable('Error: Operation not permitted\n'), { kind: 'unreadable' });
  });

  test('another SSH port: the same rules are no sessions there', () => {
    assert.equal(readNftSessionCounters(tableOf('list-a.txt'), 2222).size, 0);
  });
});

describe('users table: planning', () => {
  test('no table: the table, both chains and two rules per session, in one script', () => {
    const { lines, plan } = planNftUserRules(null, [ALICE, CAROL], 22);
    assert.deepEqual(lines, [
      'add table inet lantop_users',
      'add chain inet lantop_users users_in { type filter hook input priority filter - 10; policy accept; }',
      'add rule inet lantop_users users_in ip saddr 203.0.113.10 tcp sport 40022 tcp dport 22 counter comment "pid:2345 user:alice"',
      'add rule inet lantop_users users_in ip6 saddr 2001:db8::c tcp sport 52000 tcp dport 22 counter comment "pid:3001 user:carol"',
      'add chain inet lantop_users users_out { type filter hook output priority filter - 10; policy accept; }',
      'add rule inet lantop_users users_out ip daddr 203.0.113.10 tcp sport 22 tcp dport 40022 counter comment "pid:2345 user:alice"',
      'add rule inet lantop_users users_out ip6 daddr 2001:db8::c tcp sport 22 tcp dport 52000 counter comment "pid:3001 user:carol"',
    ].sort((a, b) => order(a) - order(b)));
    assert.deepEqual(plan.added.map((s) => s.user), ['alice', 'carol']);
    assert.ok(lines.every(isNftUsersScriptLine), lines.join('\n'));
  });

  test('the listed table: kept sessions stay, an ended one and bob\'s odd rule go by handle, the untagged rule stays', () => {
    const { lines, plan } = planNftUserRules(tableOf('list-a.txt'), [ALICE, CAROL], 22);
    assert.deepEqual(lines, [
      'delete rule inet lantop_users users_in handle 5',
      'delete rule inet lantop_users users_in handle 7',
      'delete rule inet lantop_users users_out handle 6',
      'add rule inet lantop_users users_in ip6 saddr 2001:db8::c tcp sport 52000 tcp dport 22 counter comment "pid:3001 user:carol"',
      'add rule inet lantop_users users_out ip6 daddr 2001:db8::c tcp sport 22 tcp dport 52000 counter comment "pid:3001 user:carol"',
    ].sort((a, b) => order(a) - order(b)));
    assert.deepEqual(plan.removed, [ODD]);
    assert.deepEqual(plan.added, [CAROL]);
  });

  test('the same sessions as listed: nothing to send', () => {
    const table = tableOf('list-a.txt');
    const { lines } = planNftUserRules(table, [ALICE, ODD], 22);
    assert.deepEqual(lines, ['delete rule inet lantop_users users_in handle 7'], 'only bob\'s rule lantop would not write');
  });

  test('a listing without handles: the chains with stale rules are written again whole', () => {
    const { lines, plan } = planNftUserRules(tableOf('list-no-handles.txt'), [ALICE], 22);
    assert.ok(lines.includes('flush chain inet lantop_users users_in') && lines.includes('delete chain inet lantop_users users_in'), lines.join('\n'));
    assert.equal(lines.filter((l) => l.startsWith('add rule ')).length, 2, lines.join('\n'));
    assert.ok(plan.notes.some((n) => n.includes('without rule handles')));
  });

  test('a chain hooked otherwise is re-created; a missing chain is put back', () => {
    const { lines, plan } = planNftUserRules(tableOf('misdeclared.txt'), [ALICE], 22);
    assert.deepEqual(lines, [
      'flush chain inet lantop_users users_in',
      'delete chain inet lantop_users users_in',
      'add chain inet lantop_users users_in { type filter hook input priority filter - 10; policy accept; }',
      'add chain inet lantop_users users_out { type filter hook output priority filter - 10; policy accept; }',
      'add rule inet lantop_users users_in ip saddr 203.0.113.10 tcp sport 40022 tcp dport 22 counter comment "pid:2345 user:alice"',
      'add rule inet lantop_users users_out ip daddr 203.0.113.10 tcp sport 22 tcp dport 40022 counter comment "pid:2345 user:alice"',
    ]);
    assert.ok(plan.notes.some((n) => n.includes('not hooked')) && plan.notes.some((n) => n.includes('users_out was missing')));
  });

  test('invalid sessions never reach a rule: names, addresses, ports, PIDs', () => {
    const bad = [
      { ...ALICE, user: 'eve"; flush ruleset; "' },
      { ...ALICE, user: 'Eve' },
      { ...ALICE, clientIp: '203.0.113.300' },
      { ...ALICE, clientPort: 70000 },
      { ...ALICE, pid: 0 },
    ];
    assert.deepEqual(planNftUserRules(null, bad, 22).plan.added, []);
    assert.throws(() => sessionRuleLine(bad[0]!, 'input', 22), TypeError);
    // Addresses are re-printed canonically.
    assert.match(sessionRuleLine({ ...CAROL, clientIp: '2001:DB8:0::C' }, 'input', 22), / ip6 saddr 2001:db8::c /);
  });

  test('teardown deletes the table; no table, nothing', () => {
    assert.deepEqual(planNftUsersRemoval(tableOf('list-a.txt'), 22).lines, ['delete table inet lantop_users']);
    assert.deepEqual(planNftUsersRemoval(null, 22).lines, []);
  });

  test('the grammar refuses what the planner does not write', () => {
    for (const line of ['flush ruleset', 'delete table inet lantop', 'add rule inet lantop_users users_in ip saddr 1.2.3.4 tcp sport 1 tcp dport 22 counter comment "x"; flush ruleset', 'add rule inet lantop_users users_in ip saddr 1.2.3.4 tcp sport 1 tcp dport 22 counter comment "pid:1 user:a\\" drop"']) {
      assert.equal(isNftUsersScriptLine(line), false, line);
    }
  });
});

/** Deletions, then objects (table, chain), then rules: the planner's order. */
function order(line: string): number {
  return line.startsWith('delete rule') ? 0 : line.includes(' rule ') ? 2 : 1;
}

describe('NftUsersBackend', () => {
  test('sends a plan as one transaction per shell line; a refusal names its script line', async () => {
    const backend = new NftUsersBackend({ nft: 'nft', sshPort: 22 });
    const plan = backend.plan({ table: null, counters: new Map() }, [ALICE]);
    assert.equal(plan.commands.length, 5);
    const sent: string[] = [];
    const ok = await backend.send(async ({ command }) => {
      sent.push(command);
      return `__LTST_${NONCE}_r0__\n`;
    }, plan.commands, { nonce: NONCE, maxLineBytes: 2000 });
    assert.equal(sent.length, 1);
    assert.match(sent[0]!, /^printf '%s\\n' 'add table inet lantop_users' 'add chain .*\|nft -f - 2>&1;echo "__LT""ST_0123456789ab_r\$\?__"$/);
    assert.deepEqual(ok.applied, plan.commands.map((c) => `nft '${c[1]}'`));
    const lines = nftUsersShellLines('nft', plan.commands.map((c) => c[1]!), { nonce: NONCE, maxLineBytes: 400 });
    assert.ok(lines.length > 1 && lines.every((l) => l.line.length <= 400));
    const refused = await backend.send(async () => `${fixture('refused.txt')}__LTST_${NONCE}_r1__\n`, [['nft', 'delete rule inet lantop_users users_in handle 999']], { nonce: NONCE, maxLineBytes: 2000 });
    assert.deepEqual(refused.applied, []);
    assert.equal(refused.failed?.command, "nft 'delete rule inet lantop_users users_in handle 999'");
    const hostile = await backend.send(async () => assert.fail('nothing may be sent'), [['nft', 'flush ruleset']], { nonce: NONCE, maxLineBytes: 2000 });
    assert.match(hostile.failed?.output ?? '', /nothing was sent/);
  });

  test('a listing that is not nft\'s is an error; the missing table reads as no sessions', () => {
    const backend = new NftUsersBackend({ nft: 'nft', sshPort: 22 });
    assert.throws(() => backend.read(new Map([['nft', 'sh: nft: Permission denied\n']])), /did not list the table/);
    assert.equal(backend.read(new Map([['nft', fixture('missing.txt')]])).table, null);
  });
});
