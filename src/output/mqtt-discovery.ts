// The MQTT messages for one Snapshot (issue 22): Home Assistant's MQTT discovery configs (retained)
// and the state payloads, as data; app/mqtt-bridge.ts sends them. docs/mqtt.md documents every
// topic and field.
//
// Topic segments never carry router text: a device's segment is its MAC (12 hex digits) or, for
// rows without one, a slug of its identity with a hash; a router's is a slug of its key (a hash
// added when the slug lost anything). The name a router gave a device travels only inside JSON
// payloads, sanitised and capped. So `/`, `+`, `#`, NUL or a megabyte of name cannot reach a topic.
//
// Home Assistant: one config per entity under <prefix>/<component>/<node_id>/<object_id>/config.
// No `object_id`/`default_entity_id`: `object_id` is deprecated since HA 2025.10 (gone in 2026.4)
// and without either HA names entities from the device name, which is what users expect.
// `unique_id` keeps the entity registry stable when a device's name changes.
import { createHash } from 'node:crypto';
import { sanitizeText } from '../sanitize.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME, type HostUsage, type Snapshot } from '../domain/snapshot.js';

export interface MqttMessage {
  topic: string;
  /** UTF-8 text; '' with retain clears a retained message (removes an HA entity). */
  payload: string;
  retain: boolean;
  qos: 0 | 1;
}

export interface MqttTopics {
  /** Where lantop's states live; default "lantop". */
  baseTopic: string;
  /** Home Assistant's discovery prefix; default "homeassistant". */
  discoveryPrefix: string;
}

/** A router as the bridge knows it: `key` as in Snapshot.router, `label` for people (a profile name). */
export interface MqttRouterRef {
  key: string;
  label: string;
}

export const DEFAULT_BASE_TOPIC = 'lantop';
export const DEFAULT_DISCOVERY_PREFIX = 'homeassistant';
export const MAX_DEVICE_NAME_LENGTH = 64;
/** What a topic lantop builds may look like: segments of [A-Za-z0-9_-], no wildcard, no empty level. */
export const SAFE_TOPIC = /^[A-Za-z0-9_-]+(?:\/[A-Za-z0-9_-]+)*$/;
const SAFE_ID = /^[a-z0-9_-]{1,40}$/;
const MAC = /^[0-9a-f]{2}(?::[0-9a-f]{2}){5}$/i;

export const ONLINE = 'online';
export const OFFLINE = 'offline';

export function isSafeTopic(topic: string): boolean {
  return SAFE_TOPIC.test(topic) && topic.length <= 512;
}

/**
 * A --mqtt-base-topic or --mqtt-discovery-prefix: 1–8 levels of letters, digits, `_` and `-`
 * (no wildcard, no leading or trailing `/`). Throws RangeError with the reason.
 */
export function checkTopicPrefix(text: string, what: string): string {
  const trimmed = text.trim();
  if (!SAFE_TOPIC.test(trimmed) || trimmed.split('/').length > 8 || trimmed.length > 128) {
    throw new RangeError(`${what} '${sanitizeText(text, 60)}' is not a usable MQTT topic prefix: use letters, digits, '_' and '-', levels separated by '/', e.g. lantop or home/lantop.`);
  }
  return trimmed;
}

function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, 10);
}

/**
 * A topic segment for any text: itself when it is already a short lowercase id, else a slug of
 * it (up to 24 characters) and a hash of the whole, so two texts never share a segment.
 */
export function topicId(text: string): string {
  if (SAFE_ID.test(text)) return text;
  const slug = text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 24)
    .replace(/_+$/, '');
  return `${slug === '' ? 'x' : slug}_${shortHash(text)}`;
}

export function routerTopicId(routerKey: string): string {
  return topicId(routerKey);
}

/** The MAC without separators (aabbccddeeff) when the row has one; else a slug of its identity. */
export function deviceTopicId(host: Pick<HostUsage, 'identity' | 'mac'>): string {
  const mac = host.mac !== null && MAC.test(host.mac) ? host.mac : MAC.test(host.identity) ? host.identity : null;
  if (mac !== null) return mac.toLowerCase().replace(/:/g, '');
  if (isUnattributedIdentity(host.identity)) return 'unattributed_ipv6';
  return topicId(host.identity);
}

/** The name Home Assistant shows: the host name (sanitised, capped), else its address, else its identity. */
export function deviceName(host: Pick<HostUsage, 'identity' | 'ip' | 'hostname'>): string {
  if (isUnattributedIdentity(host.identity)) return UNATTRIBUTED_IPV6_NAME;
  const fromHostname = host.hostname === null ? '' : sanitizeText(host.hostname, MAX_DEVICE_NAME_LENGTH).trim();
  if (fromHostname !== '') return fromHostname;
  const fromIp = sanitizeText(host.ip, MAX_DEVICE_NAME_LENGTH).trim();
  return fromIp !== '' ? fromIp : sanitizeText(host.identity, MAX_DEVICE_NAME_LENGTH);
}

function routerName(router: MqttRouterRef): string {
  const label = sanitizeText(router.label, MAX_DEVICE_NAME_LENGTH).trim();
  return label !== '' ? label : sanitizeText(router.key, MAX_DEVICE_NAME_LENGTH);
}

// --- topics -----------------------------------------------------------------------------------

/** The bridge's own availability, the connection's will: "online" / "offline", retained. */
export function bridgeStatusTopic(t: MqttTopics): string {
  return `${t.baseTopic}/status`;
}

/** The router as lantop sees it: "online" (polls succeed) / "offline", retained. */
export function routerStatusTopic(t: MqttTopics, router: MqttRouterRef): string {
  return `${t.baseTopic}/${routerTopicId(router.key)}/status`;
}

export function routerStateTopic(t: MqttTopics, router: MqttRouterRef): string {
  return `${t.baseTopic}/${routerTopicId(router.key)}/state`;
}

export function deviceStateTopic(t: MqttTopics, router: MqttRouterRef, host: Pick<HostUsage, 'identity' | 'mac'>): string {
  return `${t.baseTopic}/${routerTopicId(router.key)}/${deviceTopicId(host)}/state`;
}

/** Home Assistant announces itself here ("online") after a restart: time to send the configs again. */
export function haStatusTopic(t: MqttTopics): string {
  return `${t.discoveryPrefix}/status`;
}

// --- discovery --------------------------------------------------------------------------------

interface EntitySpec {
  component: 'sensor' | 'binary_sensor';
  /** Unique within its device: down_rate, up_total… */
  key: string;
  name: string;
  fields: Record<string, unknown>;
}

const RATE = { device_class: 'data_rate', state_class: 'measurement', unit_of_measurement: 'kB/s', suggested_display_precision: 1 };
const TOTAL = { device_class: 'data_size', state_class: 'total_increasing', unit_of_measurement: 'GB', suggested_display_precision: 2 };
const SHARE = { state_class: 'measurement', unit_of_measurement: '%', suggested_display_precision: 1, enabled_by_default: false };

// SI as everywhere in lantop (output/units.ts); the payloads keep exact bytes, the templates scale.
const kBps = (field: string) => `{{ (value_json.${field} / 1000) | round(1) }}`;
const gigabytes = (field: string) => `{{ (value_json.${field} / 1000000000) | round(6) }}`;
const percent = (field: string) => `{{ (value_json.${field} * 100) | round(1) }}`;

const DEVICE_ENTITIES: readonly EntitySpec[] = [
  {
    component: 'sensor', key: 'down_rate', name: 'Download rate',
    fields: { ...RATE, value_template: kBps('down_bps'), icon: 'mdi:download', json_attributes_template: "{{ {'ip': value_json.ip, 'mac': value_json.mac, 'hostname': value_json.name} | tojson }}" },
  },
  { component: 'sensor', key: 'up_rate', name: 'Upload rate', fields: { ...RATE, value_template: kBps('up_bps'), icon: 'mdi:upload' } },
  { component: 'sensor', key: 'down_total', name: 'Downloaded', fields: { ...TOTAL, value_template: gigabytes('down_bytes'), icon: 'mdi:download-box' } },
  { component: 'sensor', key: 'up_total', name: 'Uploaded', fields: { ...TOTAL, value_template: gigabytes('up_bytes'), icon: 'mdi:upload-box' } },
  { component: 'sensor', key: 'down_share', name: 'Download share', fields: { ...SHARE, value_template: percent('down_share'), icon: 'mdi:chart-pie' } },
  { component: 'sensor', key: 'up_share', name: 'Upload share', fields: { ...SHARE, value_template: percent('up_share'), icon: 'mdi:chart-pie' } },
];

const ROUTER_ENTITIES: readonly EntitySpec[] = [
  { component: 'sensor', key: 'down_rate', name: 'Download rate', fields: { ...RATE, value_template: kBps('down_bps'), icon: 'mdi:download' } },
  { component: 'sensor', key: 'up_rate', name: 'Upload rate', fields: { ...RATE, value_template: kBps('up_bps'), icon: 'mdi:upload' } },
  { component: 'sensor', key: 'down_total', name: 'Downloaded', fields: { ...TOTAL, value_template: gigabytes('down_bytes'), icon: 'mdi:download-box' } },
  { component: 'sensor', key: 'up_total', name: 'Uploaded', fields: { ...TOTAL, value_template: gigabytes('up_bytes'), icon: 'mdi:upload-box' } },
  { component: 'sensor', key: 'devices', name: 'Devices', fields: { state_class: 'measurement', value_template: '{{ value_json.devices }}', icon: 'mdi:lan', entity_category: 'diagnostic' } },
];

const ORIGIN = { name: 'lantop' };

function routerDeviceId(router: MqttRouterRef): string {
  return `lantop_${routerTopicId(router.key)}`;
}

export interface DiscoveryOptions {
  /** Seconds after which HA shows a device's sensors unavailable without a new state; absent: never. */
  expireAfterS?: number;
  /** lantop's version, shown as the devices' software. */
  swVersion?: string;
}

function config(t: MqttTopics, nodeId: string, objectId: string, spec: EntitySpec, body: Record<string, unknown>): MqttMessage {
  const payload = { name: spec.name, unique_id: `${nodeId}_${objectId}`, ...body, ...spec.fields, origin: ORIGIN };
  return { topic: `${t.discoveryPrefix}/${spec.component}/${nodeId}/${objectId}/config`, payload: JSON.stringify(payload), retain: true, qos: 1 };
}

/** The router's entities: connectivity (available while the bridge is) and the line's totals. */
export function routerDiscoveryMessages(t: MqttTopics, router: MqttRouterRef, options: DiscoveryOptions = {}): MqttMessage[] {
  const nodeId = routerDeviceId(router);
  const device = { identifiers: [nodeId], name: routerName(router), manufacturer: 'lantop', model: 'Router', ...(options.swVersion ? { sw_version: options.swVersion } : {}) };
  const bridge = { topic: bridgeStatusTopic(t) };
  const both = { availability: [bridge, { topic: routerStatusTopic(t, router) }], availability_mode: 'all' };
  const connectivity: EntitySpec = { component: 'binary_sensor', key: 'connected', name: 'Connected', fields: { device_class: 'connectivity', payload_on: ONLINE, payload_off: OFFLINE, entity_category: 'diagnostic' } };
  return [
    config(t, nodeId, 'connected', connectivity, { state_topic: routerStatusTopic(t, router), availability: [bridge], device }),
    ...ROUTER_ENTITIES.map((spec) => config(t, nodeId, spec.key, spec, { state_topic: routerStateTopic(t, router), ...both, device })),
  ];
}

/** One device's six sensors (the two shares disabled until the user enables them). */
export function deviceDiscoveryMessages(t: MqttTopics, router: MqttRouterRef, host: Pick<HostUsage, 'identity' | 'mac' | 'ip' | 'hostname'>, options: DiscoveryOptions = {}): MqttMessage[] {
  const nodeId = routerDeviceId(router);
  const id = deviceTopicId(host);
  const stateTopic = deviceStateTopic(t, router, host);
  const device = {
    identifiers: [`${nodeId}_${id}`],
    name: deviceName(host),
    manufacturer: 'lantop',
    model: isUnattributedIdentity(host.identity) ? 'Unattributed IPv6 traffic' : 'LAN device',
    via_device: nodeId,
    ...(options.swVersion ? { sw_version: options.swVersion } : {}),
  };
  const body = {
    state_topic: stateTopic,
    availability: [{ topic: bridgeStatusTopic(t) }, { topic: routerStatusTopic(t, router) }],
    availability_mode: 'all',
    ...(options.expireAfterS !== undefined ? { expire_after: options.expireAfterS } : {}),
    device,
  };
  return DEVICE_ENTITIES.map((spec) => {
    const attributes = spec.fields.json_attributes_template !== undefined ? { json_attributes_topic: stateTopic } : {};
    return config(t, nodeId, `${id}_${spec.key}`, spec, { ...body, ...attributes });
  });
}

/**
 * What removes a device from Home Assistant: an empty retained config for each of its entities
 * and an empty retained state. Sent only when asked (docs/mqtt.md, "Removing a device").
 */
export function deviceRemovalMessages(t: MqttTopics, router: MqttRouterRef, host: Pick<HostUsage, 'identity' | 'mac' | 'ip' | 'hostname'>): MqttMessage[] {
  return [
    ...deviceDiscoveryMessages(t, router, host).map((m) => ({ ...m, payload: '' })),
    { topic: deviceStateTopic(t, router, host), payload: '', retain: true, qos: 1 },
  ];
}

// --- states -----------------------------------------------------------------------------------

/** The JSON on a device's state topic: exact bytes and B/s, shares 0–1, its name sanitised. */
export function deviceState(host: HostUsage, atMs: number, isGone = false) {
  return {
    name: deviceName(host),
    ip: sanitizeText(host.ip, 64),
    mac: host.mac === null ? null : sanitizeText(host.mac, 32),
    down_bps: isGone ? 0 : Math.round(host.downBps),
    up_bps: isGone ? 0 : Math.round(host.upBps),
    down_bytes: host.downBytes,
    up_bytes: host.upBytes,
    down_share: isGone ? 0 : round4(host.downShare),
    up_share: isGone ? 0 : round4(host.upShare),
    at: new Date(atMs).toISOString(),
  };
}

/** A device's state message; `isGone`: it left the snapshot, so its rates read 0 (totals stay). */
export function deviceStateMessage(t: MqttTopics, router: MqttRouterRef, host: HostUsage, atMs: number, isGone = false): MqttMessage {
  return { topic: deviceStateTopic(t, router, host), payload: JSON.stringify(deviceState(host, atMs, isGone)), retain: true, qos: 0 };
}

export function routerStateMessage(t: MqttTopics, router: MqttRouterRef, snapshot: Snapshot): MqttMessage {
  const payload = {
    down_bps: Math.round(snapshot.totals.downBps),
    up_bps: Math.round(snapshot.totals.upBps),
    down_bytes: snapshot.totals.downBytes,
    up_bytes: snapshot.totals.upBytes,
    devices: snapshot.hosts.length,
    connection: snapshot.connection.kind,
    at: new Date(snapshot.atMs).toISOString(),
  };
  return { topic: routerStateTopic(t, router), payload: JSON.stringify(payload), retain: true, qos: 0 };
}

export function routerStatusMessage(t: MqttTopics, router: MqttRouterRef, state: 'up' | 'down'): MqttMessage {
  return { topic: routerStatusTopic(t, router), payload: state === 'up' ? ONLINE : OFFLINE, retain: true, qos: 1 };
}

export function bridgeStatusMessage(t: MqttTopics, isOnline: boolean): MqttMessage {
  return { topic: bridgeStatusTopic(t), payload: isOnline ? ONLINE : OFFLINE, retain: true, qos: 1 };
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}
