// `lantop --mode users serve --mqtt` (issue 18 with issue 22's bridge): users-mode serve on a scripted
// gateway (users-gateway-fake.test.ts) publishes to Debian's mosquitto on loopback: each user is a
// Home Assistant device (discovery configs named after the user), and its state carries exactly the
// bytes lantop counted for that user. Skipped without mosquitto.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type MqttClient } from 'mqtt';
import { MOSQUITTO, startBroker, type Broker } from '../../test/helpers/mosquitto.js';
import { FakeUsersGateway, gatewayServices } from './users-gateway-fake.test.js';
import { runUsersServe } from './users-serve.js';
import { mqttSinkFactory } from './serve-mqtt.js';

const skip = MOSQUITTO === null && process.env['LANTOP_REQUIRE_LAB'] !== '1' ? 'mosquitto is not installed (apt-get install mosquitto)' : false;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

test('users-mode serve --mqtt: a device per user, its state = the user\'s bytes', { skip, timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-users-mqtt-'));
  const gateway = new FakeUsersGateway();
  gateway.login('alice', '203.0.113.10', 37680, 2001);
  gateway.login('_-odd-name$', '203.0.113.11', 39360, 2002);
  const services = gatewayServices(gateway, join(dir, 'h.sqlite'));
  const signals = new EventEmitter();
  let broker: Broker | null = null;
  let watcher: MqttClient | null = null;
  const seen: Array<{ topic: string; payload: string }> = [];
  const waitFor = async (what: string, predicate: (m: { topic: string; payload: string }) => boolean, timeoutMs = 15_000) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = seen.findLast(predicate);
      if (found) return found;
      await sleep(50);
    }
    throw new Error(`no MQTT message: ${what}; saw ${seen.length}: ${seen.slice(-8).map((m) => m.topic).join(' | ')}`);
  };
  let serving: Promise<number> | null = null;
  try {
    broker = await startBroker(dir);
    watcher = connect(broker.url, { clientId: `watcher-${process.pid}`, reconnectPeriod: 100 });
    watcher.on('message', (topic, payload) => seen.push({ topic, payload: payload.toString('utf8') }));
    watcher.on('error', () => undefined);
    await new Promise<void>((resolve) => watcher!.once('connect', () => resolve()));
    await watcher.subscribeAsync('#', { qos: 1 });
    const warnings: string[] = [];
    const factory = await mqttSinkFactory({ url: broker.url } as never, {}, (text) => warnings.push(text));
    serving = runUsersServe(services, { listen: '127.0.0.1:0', interval: '500', signals, sinkFactories: [factory] });
    assert.equal((await waitFor('the bridge online', (m) => m.topic === 'lantop/status')).payload, 'online');
    // The sessions' rules are in after the first poll; then bytes cross them.
    for (let i = 0; !(gateway.rules().includes('pid:2001') && gateway.rules().includes('pid:2002')); i++) {
      assert.ok(i < 100, `no session rules: ${gateway.rules()}`);
      await sleep(100);
    }
    gateway.count(2001, 120_000, 8_000);
    gateway.count(2002, 30_000, 2_000);
    for (const [user, down, up] of [['alice', 120_000, 8_000], ['_-odd-name$', 30_000, 2_000]] as const) {
      const config = await waitFor(`a discovery config named ${user}`, (m) => m.topic.endsWith('_down_rate/config') && (JSON.parse(m.payload) as { device: { name: string } }).device.name === user);
      const body = JSON.parse(config.payload) as { state_topic: string };
      const state = await waitFor(`${user}'s state with its bytes`, (m) => m.topic === body.state_topic && (JSON.parse(m.payload) as { down_bytes: number }).down_bytes === down);
      assert.equal((JSON.parse(state.payload) as { up_bytes: number }).up_bytes, up, state.payload);
      // Topic ids never come from the gateway's text.
      assert.match(body.state_topic, /^lantop\/[a-z0-9_]+\/[a-z0-9_]+\/state$/);
    }
    assert.deepEqual(warnings, []);
  } finally {
    signals.emit('SIGTERM');
    if (serving !== null) assert.equal(await serving, 0);
    watcher?.end(true);
    await broker?.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
