// `lantop serve --mqtt` end to end (issue 22, docs/mqtt.md): the built CLI (dist/cli.js) against
// the emulated router, publishing to Debian's mosquitto on loopback. Every emulated device gets
// its Home Assistant discovery configs (retained) and states with the numbers `usage --json`
// shows; the bridge says online, and offline when serve stops on SIGTERM; bad MQTT flags are
// usage errors before any login.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { connect, type MqttClient } from 'mqtt';
import { startEmulatedRouter } from '../src/emulator/index.js';
import { MOSQUITTO, startBroker, type Broker } from './helpers/mosquitto.js';
import { runCliAsync, spawnCli } from './helpers/run-cli.js';

const skip = MOSQUITTO === null && process.env['LANTOP_REQUIRE_LAB'] !== '1' ? 'mosquitto is not installed (apt-get install mosquitto)' : false;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Seen {
  topic: string;
  payload: string;
  retain: boolean;
}

test('serve --mqtt: discovery configs and states for every device, online/offline, SIGTERM says offline', { skip, timeout: 90_000 }, async () => {
  const router = await startEmulatedRouter({ clock: 'real', churn: false, seed: 12, hosts: [{ hostname: 'laptop', kind: 'laptop' }, { hostname: 'living-room-tv', kind: 'tv' }, { hostname: 'phone', kind: 'phone' }] });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-serve-mqtt-'));
  const env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
  const base = ['--host', router.host, '--port', String(router.port)];
  let broker: Broker | null = null;
  let watcher: MqttClient | null = null;
  let child: ChildProcess | undefined;
  const seen: Seen[] = [];
  const waitFor = async (what: string, predicate: (m: Seen) => boolean, timeoutMs = 15_000): Promise<Seen> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = seen.findLast(predicate);
      if (found) return found;
      await sleep(50);
    }
    throw new Error(`no MQTT message: ${what}; saw ${seen.length}: ${seen.slice(-8).map((m) => m.topic).join(' | ')}`);
  };
  try {
    broker = await startBroker(dir);
    watcher = connect(broker.url, { clientId: `watcher-${process.pid}`, reconnectPeriod: 100 });
    watcher.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
    watcher.on('error', () => undefined);
    await new Promise<void>((resolve) => watcher!.once('connect', () => resolve()));
    await watcher.subscribeAsync('#', { qos: 1 });

    const setup = await runCliAsync([...base, 'setup', '--yes'], env);
    assert.equal(setup.code, 0, setup.stderr);
    child = spawnCli([...base, 'serve', '--listen', '127.0.0.1:0', '--interval', '1000', '--mqtt', broker.url], env);
    let stderr = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout?.resume();

    // Which devices there are: what `usage --json` says (another reader of the same router).
    const usage = await runCliAsync([...base, 'usage', '--json'], env);
    assert.equal(usage.code, 0, usage.stderr);
    const hosts = (JSON.parse(usage.stdout) as { hosts: Array<{ mac: string | null; name: string | null; hostname?: string | null }> }).hosts;
    assert.ok(hosts.length >= 3, usage.stdout);

    assert.equal((await waitFor('the bridge online', (m) => m.topic === 'lantop/status')).payload, 'online');
    for (const h of hosts.filter((x) => x.mac !== null)) {
      const id = h.mac!.toLowerCase().replace(/:/g, '');
      const config = await waitFor(`the download-rate config of ${h.mac}`, (m) => new RegExp(`^homeassistant/sensor/lantop_[a-z0-9_]+/${id}_down_rate/config$`).test(m.topic));
      const body = JSON.parse(config.payload) as { device_class: string; state_topic: string; device: { name: string } };
      assert.equal(body.device_class, 'data_rate');
      const state = await waitFor(`a state of ${h.mac} with bytes`, (m) => m.topic === body.state_topic && (JSON.parse(m.payload) as { down_bytes: number }).down_bytes > 0);
      const s = JSON.parse(state.payload) as { down_bytes: number; up_bytes: number; down_bps: number };
      assert.ok(Number.isInteger(s.down_bytes) && Number.isInteger(s.up_bytes) && s.down_bps >= 0, state.payload);
    }
    const names = seen.filter((m) => m.topic.endsWith('_down_rate/config')).map((m) => (JSON.parse(m.payload) as { device: { name: string } }).device.name);
    for (const name of ['laptop', 'living-room-tv', 'phone']) assert.ok(names.includes(name), `${name} among ${names.join(', ')}`);
    // Totals grow between states: the numbers are live, not the first snapshot again.
    const tv = hosts.find((h) => h.name === 'living-room-tv' || h.hostname === 'living-room-tv');
    if (tv?.mac) {
      const topic = `/${tv.mac.toLowerCase().replace(/:/g, '')}/state`;
      const first = JSON.parse((await waitFor('a tv state', (m) => m.topic.endsWith(topic))).payload) as { down_bytes: number };
      const later = await waitFor('a later tv state with more bytes', (m) => m.topic.endsWith(topic) && (JSON.parse(m.payload) as { down_bytes: number }).down_bytes > first.down_bytes);
      assert.ok(later);
    }
    assert.ok(stderr.includes('MQTT: publishing to mqtt://127.0.0.1:'), stderr);
    // Home Assistant starting later gets every config from the broker's retained store.
    const late = connect(broker.url, { clientId: `late-${process.pid}` });
    try {
      const retained: Seen[] = [];
      late.on('message', (topic, payload, packet) => retained.push({ topic, payload: payload.toString('utf8'), retain: packet.retain }));
      await new Promise<void>((resolve) => late.once('connect', () => resolve()));
      await late.subscribeAsync('homeassistant/#', { qos: 1 });
      await sleep(500);
      const configs = retained.filter((m) => m.topic.endsWith('_down_rate/config'));
      assert.ok(configs.length >= hosts.filter((x) => x.mac !== null).length && configs.every((m) => m.retain), `retained configs: ${configs.length}`);
    } finally {
      await late.endAsync(true);
    }

    const mark = seen.length;
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((resolve) => child!.once('exit', (c) => resolve(c)));
    assert.equal(code, 0, stderr);
    const after = seen.slice(mark);
    assert.ok(after.some((m) => m.topic === 'lantop/status' && m.payload === 'offline'), `offline on SIGTERM; saw ${after.map((m) => `${m.topic}=${m.payload.slice(0, 20)}`).join(' | ')}`);
  } finally {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await watcher?.endAsync(true).catch(() => undefined);
    await broker?.kill();
    await router.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('serve --mqtt: bad flags are usage errors before any login', { timeout: 30_000 }, async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--mqtt', 'ws://127.0.0.1:9001'], /mqtt:\/\/HOST/],
    [['--mqtt', 'mqtt://user:secret@127.0.0.1'], /must not carry a password/],
    [['--mqtt', 'mqtt://127.0.0.1', '--mqtt-ca-file', '/etc/hostname'], /mqtts:\/\/ brokers only/],
    [['--mqtt-user', 'ha'], /--mqtt-user needs --mqtt URL/],
  ];
  for (const [flags, message] of cases) {
    // Port 9 on loopback: nothing listens; a login attempt would fail with exit 4, not 2.
    const run = await runCliAsync(['--host', '127.0.0.1', '--port', '9', 'serve', '--listen', '127.0.0.1:0', ...flags], { LANTOP_PASSWORD: 'x' }, { timeoutMs: 20_000 });
    assert.equal(run.code, 2, `${flags.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, message);
    assert.doesNotMatch(run.stderr, /secret/);
  }
});
