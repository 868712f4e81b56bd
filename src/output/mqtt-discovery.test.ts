import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkTopicPrefix, deviceDiscoveryMessages, deviceName, deviceRemovalMessages, deviceStateMessage, deviceTopicId, isSafeTopic,
  routerDiscoveryMessages, routerStateMessage, routerStatusMessage, routerTopicId, topicId, type MqttTopics,
} from './mqtt-discovery.js';
import { host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { UNATTRIBUTED_IPV6_IDENTITY } from '../domain/snapshot.js';

const T: MqttTopics = { baseTopic: 'lantop', discoveryPrefix: 'homeassistant' };
const ROUTER = { key: 'home', label: 'Home router' };
const HOSTILE = ['a/b', 'x+y', '#', 'nul\u0000byte', 'with space', 'ünï©ødé 📺', 'z'.repeat(5000), '../..', '', '+/#', '\u001b[2Jevil', 'UPPER'];

test('a device with a MAC gets four sensors and two disabled shares, under its MAC', () => {
  const laptop = host('192.168.1.20', { mac: '02:AB:cd:00:00:01', hostname: 'kids-laptop' });
  const messages = deviceDiscoveryMessages(T, ROUTER, laptop);
  assert.deepEqual(messages.map((m) => m.topic), [
    'homeassistant/sensor/lantop_home/02abcd000001_down_rate/config',
    'homeassistant/sensor/lantop_home/02abcd000001_up_rate/config',
    'homeassistant/sensor/lantop_home/02abcd000001_down_total/config',
    'homeassistant/sensor/lantop_home/02abcd000001_up_total/config',
    'homeassistant/sensor/lantop_home/02abcd000001_down_share/config',
    'homeassistant/sensor/lantop_home/02abcd000001_up_share/config',
  ]);
  assert.ok(messages.every((m) => m.retain && m.qos === 1));
  const [rate, , total, , share] = messages.map((m) => JSON.parse(m.payload));
  assert.deepEqual(rate, {
    name: 'Download rate',
    unique_id: 'lantop_home_02abcd000001_down_rate',
    state_topic: 'lantop/home/02abcd000001/state',
    availability: [{ topic: 'lantop/status' }, { topic: 'lantop/home/status' }],
    availability_mode: 'all',
    device: { identifiers: ['lantop_home_02abcd000001'], name: 'kids-laptop', manufacturer: 'lantop', model: 'LAN device', via_device: 'lantop_home' },
    json_attributes_topic: 'lantop/home/02abcd000001/state',
    device_class: 'data_rate',
    state_class: 'measurement',
    unit_of_measurement: 'kB/s',
    suggested_display_precision: 1,
    value_template: '{{ (value_json.down_bps / 1000) | round(1) }}',
    icon: 'mdi:download',
    json_attributes_template: "{{ {'ip': value_json.ip, 'mac': value_json.mac, 'hostname': value_json.name} | tojson }}",
    origin: { name: 'lantop' },
  });
  assert.equal(total.device_class, 'data_size');
  assert.equal(total.state_class, 'total_increasing');
  assert.equal(total.unit_of_measurement, 'GB');
  assert.equal(share.enabled_by_default, false);
  assert.ok(!('object_id' in rate), 'object_id is deprecated in Home Assistant 2025.10+');
});

test('expire_after and sw_version only when asked', () => {
  const [withThem] = deviceDiscoveryMessages(T, ROUTER, host('192.168.1.2'), { expireAfterS: 120, swVersion: '0.1.0' }).map((m) => JSON.parse(m.payload));
  assert.equal(withThem.expire_after, 120);
  assert.equal(withThem.device.sw_version, '0.1.0');
  const [without] = deviceDiscoveryMessages(T, ROUTER, host('192.168.1.2')).map((m) => JSON.parse(m.payload));
  assert.ok(!('expire_after' in without) && !('sw_version' in without.device));
});

test('the router: connectivity from its status topic, the line totals, the device count', () => {
  const messages = routerDiscoveryMessages(T, ROUTER);
  assert.deepEqual(messages.map((m) => m.topic), [
    'homeassistant/binary_sensor/lantop_home/connected/config',
    'homeassistant/sensor/lantop_home/down_rate/config',
    'homeassistant/sensor/lantop_home/up_rate/config',
    'homeassistant/sensor/lantop_home/down_total/config',
    'homeassistant/sensor/lantop_home/up_total/config',
    'homeassistant/sensor/lantop_home/devices/config',
  ]);
  const connected = JSON.parse(messages[0]!.payload);
  assert.equal(connected.state_topic, 'lantop/home/status');
  assert.equal(connected.device_class, 'connectivity');
  assert.deepEqual([connected.payload_on, connected.payload_off], ['online', 'offline']);
  assert.deepEqual(connected.availability, [{ topic: 'lantop/status' }], 'a router that is down reads "disconnected", not unavailable');
  assert.deepEqual(connected.device, { identifiers: ['lantop_home'], name: 'Home router', manufacturer: 'lantop', model: 'Router' });
  assert.deepEqual(routerStatusMessage(T, ROUTER, 'down'), { topic: 'lantop/home/status', payload: 'offline', retain: true, qos: 1 });
});

test('states carry exact bytes, rounded rates and shares; a gone device reads 0 B/s with its totals', () => {
  const tv = host('192.168.1.30', { mac: '02:00:00:00:00:30', hostname: 'tv', downBytes: 5_000_000_123, upBytes: 42, downBps: 1234.6, upBps: 10.2 });
  const snapshot = makeSnapshot([tv, host('192.168.1.31', { downBps: 1234.6 })]);
  const message = deviceStateMessage(T, ROUTER, snapshot.hosts[0]!, snapshot.atMs);
  assert.equal(message.topic, 'lantop/home/020000000030/state');
  assert.deepEqual(JSON.parse(message.payload), {
    name: 'tv', ip: '192.168.1.30', mac: '02:00:00:00:00:30', down_bps: 1235, up_bps: 10, down_bytes: 5_000_000_123, up_bytes: 42,
    down_share: 0.5, up_share: 1, at: '2023-11-14T22:13:20.000Z',
  });
  const gone = JSON.parse(deviceStateMessage(T, ROUTER, snapshot.hosts[0]!, snapshot.atMs, true).payload);
  assert.deepEqual([gone.down_bps, gone.up_bps, gone.down_share, gone.down_bytes], [0, 0, 0, 5_000_000_123]);
  const line = JSON.parse(routerStateMessage(T, ROUTER, snapshot).payload);
  assert.deepEqual(line, { down_bps: 2469, up_bps: 10, down_bytes: 5_000_000_123, up_bytes: 42, devices: 2, connection: 'connected', at: '2023-11-14T22:13:20.000Z' });
});

test('rows without a MAC and the unattributed IPv6 row get stable, distinct, safe ids', () => {
  const a = deviceTopicId(host('192.168.1.5'));
  const b = deviceTopicId(host('192.168.1.50'));
  assert.match(a, /^ip_192_168_1_5_[0-9a-f]{10}$/);
  assert.notEqual(a, b);
  assert.equal(deviceTopicId(host('192.168.1.5')), a, 'the same identity, the same id');
  assert.equal(deviceTopicId({ identity: UNATTRIBUTED_IPV6_IDENTITY, mac: null }), 'unattributed_ipv6');
  assert.equal(deviceName({ identity: UNATTRIBUTED_IPV6_IDENTITY, ip: '', hostname: null }), 'unattributed IPv6');
  assert.equal(routerTopicId('home'), 'home');
  assert.match(routerTopicId('198.51.100.1:23'), /^198_51_100_1_23_[0-9a-f]{10}$/);
});

test('hostile names and keys never reach a topic: every topic is strict, no wildcard, no empty level', () => {
  const all: string[] = [];
  for (const text of HOSTILE) {
    const router = { key: text, label: text };
    const device = host('192.168.1.9', { identity: text, mac: text, hostname: text });
    const snapshot = makeSnapshot([device], { router: text });
    all.push(
      ...routerDiscoveryMessages(T, router).map((m) => m.topic),
      ...deviceDiscoveryMessages(T, router, device).map((m) => m.topic),
      ...deviceRemovalMessages(T, router, device).map((m) => m.topic),
      deviceStateMessage(T, router, device, 0).topic,
      routerStateMessage(T, router, snapshot).topic,
      routerStatusMessage(T, router, 'up').topic,
    );
    assert.ok(topicId(text).length <= 40, 'ids stay short');
  }
  for (const topic of all) {
    assert.ok(isSafeTopic(topic), `unsafe topic: ${JSON.stringify(topic)}`);
    assert.ok(!/[+#\u0000\s]/.test(topic));
  }
  assert.equal(new Set(HOSTILE.map(topicId)).size, HOSTILE.length, 'no two hostile texts share an id');
});

test('a hostile host name reaches payloads only sanitised and capped', () => {
  const evil = host('192.168.1.66', { mac: '02:00:00:00:00:66', hostname: '\u001b[2J"quoted"\u0000/+#' + 'x'.repeat(1000) });
  const name = deviceName(evil);
  assert.ok(name.length <= 64);
  assert.ok(!/[\u0000-\u001f]/.test(name));
  const config = JSON.parse(deviceDiscoveryMessages(T, ROUTER, evil)[0]!.payload);
  assert.equal(config.device.name, name);
  assert.equal(JSON.parse(deviceStateMessage(T, ROUTER, evil, 0).payload).name, name);
  assert.equal(deviceName(host('192.168.1.67', { hostname: '   ' })), '192.168.1.67');
});

test('removal: an empty retained payload on every config and the state', () => {
  const device = host('192.168.1.20', { mac: '02:00:00:00:00:20' });
  const removal = deviceRemovalMessages(T, ROUTER, device);
  assert.equal(removal.length, 7);
  assert.ok(removal.every((m) => m.payload === '' && m.retain));
  assert.equal(removal.at(-1)!.topic, 'lantop/home/020000000020/state');
});

test('topic prefixes: levels of safe characters only', () => {
  assert.equal(checkTopicPrefix('home/lantop', 'x'), 'home/lantop');
  for (const bad of ['', '/lantop', 'lantop/', 'a//b', 'a/+', '#', 'a b', 'ä', 'a/b/c/d/e/f/g/h/i']) {
    assert.throws(() => checkTopicPrefix(bad, '--mqtt-base-topic'), RangeError, bad);
  }
});
