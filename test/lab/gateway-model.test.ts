// The gateway lab's pure parts, without root: names, config texts, the oracle's and ss's parsing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  HOSTILE_USER, USER_NAME_PATTERN, clientIp, clientIp6, clientOracleRuleset, defaultGatewayUsers, parseClientOracle, parseSs, passwdFile,
  rsyslogConfig, sshdConfig,
} from './gateway-model.js';

test('the hostile-looking user name is valid for useradd and sshd', () => {
  assert.match(HOSTILE_USER, USER_NAME_PATTERN);
  assert.match(HOSTILE_USER, /\$$/);
  assert.deepEqual(defaultGatewayUsers().map((u) => u.name), ['alice', 'bob', HOSTILE_USER]);
  assert.match(passwdFile(defaultGatewayUsers()), /^_-odd-name\$:x:1003:1003:lab user:\/home\/_-odd-name\$:\/bin\/bash$/m);
});

test('clients are numbered from 203.0.113.10', () => {
  assert.equal(clientIp(1), '203.0.113.10');
  assert.equal(clientIp(2), '203.0.113.11');
  assert.throws(() => clientIp(0), RangeError);
});

test('sshd_config starts with Debian\'s Include; rsyslog has no imklog and Debian\'s auth rule', () => {
  assert.equal(sshdConfig().split('\n')[0], 'Include /etc/ssh/sshd_config.d/*.conf');
  assert.match(sshdConfig(), /^UsePAM yes$/m);
  const conf = rsyslogConfig('/run/x/rsyslog', 'debian12');
  assert.doesNotMatch(conf, /imklog|ActionFileDefaultTemplate/);
  assert.match(conf, /^auth,authpriv\.\*\t+\/var\/log\/auth\.log$/m);
  assert.match(rsyslogConfig('/w', 'traditional'), /^\$ActionFileDefaultTemplate RSYSLOG_TraditionalFileFormat$/m);
});

test('the oracle table keys its counters by the client\'s port to 203.0.113.1:22', () => {
  const rules = clientOracleRuleset();
  assert.match(rules, /ip daddr 203\.0\.113\.1 tcp dport 22 update @up \{ tcp sport counter \}/);
  assert.match(rules, /ip saddr 203\.0\.113\.1 tcp sport 22 update @down \{ tcp dport counter \}/);
  const json = JSON.stringify({ nftables: [
    { metainfo: {} },
    { set: { family: 'inet', name: 'up', table: 'lantop_gw_oracle', elem: [{ elem: { val: 40000, counter: { packets: 3, bytes: 300 } } }] } },
    { set: { family: 'inet', name: 'down', table: 'lantop_gw_oracle', elem: [{ elem: { val: 40000, counter: { packets: 2, bytes: 2000 } } }, { elem: { val: 40001, counter: { packets: 1, bytes: 60 } } }] } },
  ] });
  const counts = parseClientOracle(json);
  assert.deepEqual(counts.get(40000), { upBytes: 300, upPackets: 3, downBytes: 2000, downPackets: 2 });
  assert.deepEqual(counts.get(40001), { upBytes: 0, upPackets: 0, downBytes: 60, downPackets: 1 });
  assert.throws(() => parseClientOracle(JSON.stringify({ nftables: [] })), /sets missing/);
});

test('ss -tanpH lines: state, endpoints, owning pids', () => {
  const text = [
    'LISTEN 0      128        127.0.0.1:11001      0.0.0.0:*     users:(("ssh",pid=4242,fd=5))',
    'ESTAB  0      0       203.0.113.10:40000 203.0.113.1:22    users:(("ssh",pid=4242,fd=3))',
    'TIME-WAIT 0   0       203.0.113.1:22   203.0.113.11:39999',
  ].join('\n');
  const [listen, estab, wait] = parseSs(text);
  assert.deepEqual(listen, { state: 'LISTEN', local: { ip: '127.0.0.1', port: 11001 }, peer: { ip: '0.0.0.0', port: NaN }, pids: [4242] });
  assert.deepEqual(estab?.peer, { ip: '203.0.113.1', port: 22 });
  assert.deepEqual(wait?.pids, []);
});

test('the IPv6 path: addresses, sshd on both families, the oracle\'s own sets per family', () => {
  assert.equal(clientIp6(1), '2001:db8:ff::10');
  assert.equal(clientIp6(2), '2001:db8:ff::11');
  assert.match(sshdConfig(), /^AddressFamily inet$/m);
  assert.match(sshdConfig({ ipv6: true }), /^AddressFamily any$/m);
  const rules = clientOracleRuleset();
  assert.match(rules, /ip6 daddr 2001:db8:ff::1 tcp dport 22 update @up6 \{ tcp sport counter \}/);
  assert.match(rules, /ip6 saddr 2001:db8:ff::1 tcp sport 22 update @down6 \{ tcp dport counter \}/);
  const json = JSON.stringify({ nftables: [
    { set: { family: 'inet', name: 'up', table: 'lantop_gw_oracle', elem: [{ elem: { val: 40000, counter: { packets: 3, bytes: 300 } } }] } },
    { set: { family: 'inet', name: 'down', table: 'lantop_gw_oracle' } },
    { set: { family: 'inet', name: 'up6', table: 'lantop_gw_oracle', elem: [{ elem: { val: 40000, counter: { packets: 5, bytes: 700 } } }] } },
    { set: { family: 'inet', name: 'down6', table: 'lantop_gw_oracle', elem: [{ elem: { val: 40000, counter: { packets: 4, bytes: 4000 } } }] } },
  ] });
  assert.deepEqual(parseClientOracle(json, 4).get(40000), { upBytes: 300, upPackets: 3, downBytes: 0, downPackets: 0 });
  assert.deepEqual(parseClientOracle(json, 6).get(40000), { upBytes: 700, upPackets: 5, downBytes: 4000, downPackets: 4 });
});
