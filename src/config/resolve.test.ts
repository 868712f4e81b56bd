import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveSettings } from './resolve.js';
import { UsageError } from '../errors.js';

test('flags beat environment, environment beats profile, profile beats defaults', () => {
  const profile = { host: '198.51.100.1', user: 'prof', port: 2323, wan: 'eth0' };
  const s = resolveSettings({ user: 'flag' }, { LANTOP_USER: 'env', LANTOP_HOST: '198.51.100.2' }, profile, 'home');
  assert.equal(s.user, 'flag');
  assert.equal(s.host, '198.51.100.2');
  assert.equal(s.port, 2323);
  assert.equal(s.wan, 'eth0');
  assert.equal(s.profileName, 'home');
});

test('defaults: telnet on 23, ssh on 22, ppp0, admin, 10 s timeouts, LANTOP_PASSWORD', () => {
  const t = resolveSettings({}, {}, undefined, 'default');
  assert.deepEqual([t.protocol, t.port, t.wan, t.user, t.connectTimeoutMs, t.commandTimeoutMs, t.passwordEnv, t.host],
    ['telnet', 23, 'ppp0', 'admin', 10_000, 10_000, 'LANTOP_PASSWORD', null]);
  const s = resolveSettings({ protocol: 'ssh' }, {}, undefined, 'default');
  assert.equal(s.port, 22);
});

test('bad values are usage errors naming their source', () => {
  assert.throws(() => resolveSettings({ protocol: 'http' }, {}, undefined, 'd'), (e: unknown) => e instanceof UsageError && /--protocol/.test(e.message));
  assert.throws(() => resolveSettings({ port: '70000' }, {}, undefined, 'd'), UsageError);
  assert.throws(() => resolveSettings({ port: '23abc' }, {}, undefined, 'd'), UsageError);
  assert.throws(() => resolveSettings({ wan: 'ppp0;reboot' }, {}, undefined, 'd'), UsageError);
  assert.throws(() => resolveSettings({ timeout: '0' }, {}, undefined, 'd'), UsageError);
  assert.throws(() => resolveSettings({ passwordEnv: 'A B' }, {}, undefined, 'd'), UsageError);
  assert.throws(() => resolveSettings({}, { LANTOP_PROTOCOL: 'rsh' }, undefined, 'd'), (e: unknown) => e instanceof UsageError && /LANTOP_PROTOCOL/.test(e.message));
});

test('NO_COLOR and --no-color both turn colour off', () => {
  assert.equal(resolveSettings({}, { NO_COLOR: '' }, undefined, 'd').isColor, false);
  assert.equal(resolveSettings({ color: false }, {}, undefined, 'd').isColor, false);
  assert.equal(resolveSettings({}, {}, undefined, 'd').isColor, true);
});

test('--max-bandwidth is Mbit/s per direction, default 1000, validated', () => {
  assert.equal(resolveSettings({}, {}, undefined, 'd').linkBitsPerSecond, 1_000_000_000);
  assert.equal(resolveSettings({ maxBandwidth: '50' }, {}, undefined, 'd').linkBitsPerSecond, 50_000_000);
  assert.equal(resolveSettings({}, { LANTOP_MAX_BANDWIDTH: '20' }, undefined, 'd').linkBitsPerSecond, 20_000_000);
  assert.throws(() => resolveSettings({ maxBandwidth: 'fast' }, {}, undefined, 'd'), UsageError);
  assert.throws(() => resolveSettings({ maxBandwidth: '0' }, {}, undefined, 'd'), UsageError);
});

test('--backend: flag > LANTOP_BACKEND > profile, else null (detection chooses); anything else is refused', () => {
  assert.equal(resolveSettings({}, {}, undefined, 'd').backend, null);
  assert.equal(resolveSettings({}, {}, { backend: 'nftables' }, 'd').backend, 'nftables');
  assert.equal(resolveSettings({}, { LANTOP_BACKEND: 'iptables' }, { backend: 'nftables' }, 'd').backend, 'iptables');
  assert.equal(resolveSettings({ backend: 'nftables' }, { LANTOP_BACKEND: 'iptables' }, undefined, 'd').backend, 'nftables');
  assert.throws(() => resolveSettings({ backend: 'pf' }, {}, undefined, 'd'), (e: unknown) => e instanceof UsageError && /--backend/.test(e.message));
  assert.throws(() => resolveSettings({}, { LANTOP_BACKEND: 'nft;reboot' }, undefined, 'd'), (e: unknown) => e instanceof UsageError && /LANTOP_BACKEND/.test(e.message));
});
