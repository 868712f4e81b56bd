import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../errors.js';
import { parseMqttUrl, readMqttCaFile, resolveMqttPassword } from './mqtt-settings.js';
import { startMqttBridge } from './mqtt-bridge.js';

test('mqtt:// and mqtts:// with default ports, IPv6 and a user', () => {
  assert.deepEqual(parseMqttUrl('mqtt://192.168.1.10'), { isTls: false, host: '192.168.1.10', port: 1883, username: null, where: 'mqtt://192.168.1.10:1883' });
  assert.deepEqual(parseMqttUrl('mqtts://broker.example.net'), { isTls: true, host: 'broker.example.net', port: 8883, username: null, where: 'mqtts://broker.example.net:8883' });
  assert.deepEqual(parseMqttUrl('mqtt://ha%40home@[fd00::2]:1884/'), { isTls: false, host: 'fd00::2', port: 1884, username: 'ha@home', where: 'mqtt://[fd00::2]:1884' });
});

test('everything else is a UsageError with the next step', () => {
  const cases: Array<[string, RegExp]> = [
    ['192.168.1.10', /not an MQTT broker URL|not '192.168.1.10'/],
    ['ws://h:9001', /WebSockets are not supported/],
    ['http://h', /not 'http'/],
    ['mqtt://u:secret@h', /must not carry a password/],
    ['mqtt://h/topic', /path or query/],
    ['mqtt://h?x=1', /path or query/],
    ['mqtt://', /not an MQTT broker URL|names no broker host/],
  ];
  for (const [text, message] of cases) {
    assert.throws(() => parseMqttUrl(text), (e: unknown) => e instanceof UsageError && message.test(e.message) && typeof e.nextStep === 'string' && !e.message.includes('secret'), text);
  }
});

test('the password: the file first, then LANTOP_MQTT_PASSWORD, else none; a loose file is warned about', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-mqtt-settings-'));
  try {
    const file = join(dir, 'pw');
    writeFileSync(file, 'from-file\nignored\n');
    chmodSync(file, 0o644);
    const fromFile = await resolveMqttPassword({ env: { LANTOP_MQTT_PASSWORD: 'from-env' }, passwordFile: file });
    assert.equal(fromFile?.password, 'from-file');
    assert.equal(fromFile?.warnings.length, 1);
    assert.equal((await resolveMqttPassword({ env: { LANTOP_MQTT_PASSWORD: 'from-env' } }))?.password, 'from-env');
    assert.equal(await resolveMqttPassword({ env: {} }), null);
    await assert.rejects(resolveMqttPassword({ env: {}, passwordFile: join(dir, 'missing') }), (e: unknown) => e instanceof UsageError && /MQTT password file/.test(e.message) && /--mqtt-password-file/.test(e.nextStep ?? ''));
    writeFileSync(join(dir, 'not-pem'), 'hello');
    assert.throws(() => readMqttCaFile(join(dir, 'not-pem')), /holds no PEM certificate/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('startMqttBridge refuses bad topic prefixes before connecting', () => {
  let connects = 0;
  const start = (baseTopic: string) =>
    startMqttBridge({ url: 'mqtt://127.0.0.1:1', baseTopic, routers: [], onNotice: () => undefined, connectImpl: () => { connects++; throw new Error('not reached'); } });
  assert.throws(() => start('lantop/#'), (e: unknown) => e instanceof UsageError && /--mqtt-base-topic/.test(e.message));
  assert.throws(() => start('/lantop'), UsageError);
  assert.equal(connects, 0);
});
