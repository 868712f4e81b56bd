import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesCommand } from './iptables-words.js';
import { planFlush, planSetup, planTeardown } from '../plan.js';
import { parseIptablesListing } from '../../../parsers/iptables-listing.js';
import type { IptablesListing } from '../../../parsers/types.js';
import { BARE, hostIps, planOptions } from '../../../../../test/helpers/apply-plans.js';

describe('parseIptablesCommand', () => {
  test('reads every command the planner writes, with a bare name or a path', () => {
    const listing: IptablesListing = parseIptablesListing(
      'Chain FORWARD (policy ACCEPT 0 packets, 0 bytes)\nnum   pkts      bytes target     prot opt in     out     source               destination\n1        0        0 ACCEPT     all  --  *      *       0.0.0.0/0            0.0.0.0/0            state RELATED,ESTABLISHED\n2        0        0 TRAFFIC    all  --  *      *       0.0.0.0/0            0.0.0.0/0\n\nChain TRAFFIC (1 references)\nnum   pkts      bytes target     prot opt in     out     source               destination\n1        0        0            all  --  ppp0   *       0.0.0.0/0            198.51.100.10        /* lantop */\n',
    );
    const all = [
      ...planSetup(listing, hostIps(3), planOptions('split', '/usr/sbin/iptables')).commands,
      ...planSetup(BARE, hostIps(3), planOptions('flat')).commands,
      ...planTeardown(listing, 'iptables'),
      ...planFlush(listing, 'iptables-legacy'),
    ];
    assert.ok(all.some((c) => c.includes('-F')) && all.some((c) => c.includes(' -D ')) && all.some((c) => c.includes(' -X ')), 'every kind of command is covered');
    for (const command of all) assert.notEqual(parseIptablesCommand(command), null, command);
    assert.deepEqual(parseIptablesCommand('/usr/sbin/iptables -A TRAFFIC_UP -s 198.51.100.10 -j RETURN'), {
      binary: '/usr/sbin/iptables', action: '-A', chain: 'TRAFFIC_UP', words: ['-A', 'TRAFFIC_UP', '-s', '198.51.100.10', '-j', 'RETURN'],
    });
  });

  test('refuses anything a shell or iptables-restore would read differently', () => {
    for (const bad of [
      'iptables -A TRAFFIC -s 1.2.3.4; reboot',
      'iptables -A TRAFFIC -m comment --comment "two words"',
      "iptables -A TRAFFIC -m comment --comment 'x'",
      'iptables -A TRAFFIC -s $(touch /tmp/x)',
      'iptables -A TRAFFIC -s `id`',
      'iptables -A TRAFFIC -m comment --comment a#b',
      'iptables -A TRAFFIC\n-X FORWARD',
      'iptables -A TRAFFIC\t-s 1.2.3.4',
      'iptables -t nat -A POSTROUTING -j MASQUERADE',
      'iptables -A TRAFFIC -s 1.2.3.4 -F',
      'iptables -L -v -x -n',
      'iptables -A',
      'ip6tables -A TRAFFIC -s ::1',
      'sh -c iptables',
      'iptables-restore --noflush',
      '',
    ]) assert.equal(parseIptablesCommand(bad), null, JSON.stringify(bad));
  });
});
