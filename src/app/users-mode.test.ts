// The users poller (issue 18) on a scripted gateway: the poll answer captured in the gateway lab
// (fixtures/iptables/1.8.9-legacy/users-chain-poll-answer.txt) with lantop's own login set to one
// of the two sessions: that one is left out and its rules go, the IPv6 session no socket shows
// goes, the other is counted with the rules' bytes; one probe for the log, one round trip per
// poll, one shell line for the changes; an unexpected command fails the test.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../test/fixtures.js';
import { UsersPoller } from './users-mode.js';

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
