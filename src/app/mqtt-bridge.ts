// The MQTT bridge of `serve --mqtt` (issue 22): snapshots in, Home Assistant discovery configs and
// states out (the messages are built by output/mqtt-discovery.ts; docs/mqtt.md documents them).
//
// It never throws into the poll loop: a broker that is down or refuses the login is reported once
// per outage through onNotice, and the bridge reconnects with backoff (1 s doubling to 30 s).
// Nothing queues while disconnected: the bridge keeps the latest snapshot per router (bounded by
// the devices it knows) and sends everything again on each connect — that is also what Home
// Assistant needs after a broker restart without persistence. The will ("offline", retained on
// <base>/status) tells Home Assistant when lantop vanishes; "online" is sent on every connect.
import { randomBytes } from 'node:crypto';
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { DEFAULT_INTERVAL_MS } from '../domain/poller.js';
import type { HostUsage, Snapshot } from '../domain/snapshot.js';
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import {
  bridgeStatusMessage, checkTopicPrefix, DEFAULT_BASE_TOPIC, DEFAULT_DISCOVERY_PREFIX, deviceDiscoveryMessages, deviceName, deviceRemovalMessages,
  deviceStateMessage, deviceTopicId, haStatusTopic, ONLINE, routerDiscoveryMessages, routerStateMessage, routerStatusMessage,
  type DiscoveryOptions, type MqttMessage, type MqttRouterRef, type MqttTopics,
} from '../output/mqtt-discovery.js';
import { MQTT_PASSWORD_ENV, parseMqttUrl, readMqttCaFile } from './mqtt-settings.js';

export type MqttNoticeLevel = 'info' | 'warn' | 'error';

export interface MqttBridgeOptions {
  /** mqtt://HOST[:PORT] or mqtts://HOST[:PORT] (parseMqttUrl); a user in it is used unless `username` is given. */
  url: string;
  username?: string | null;
  password?: string | null;
  /** PEM file of certificates to trust for mqtts:// (read once, at start). */
  caFile?: string | null;
  baseTopic?: string;
  discoveryPrefix?: string;
  /** Default lantop-<8 hex>, new per start (two lantops must not kick each other off). */
  clientId?: string;
  routers: readonly MqttRouterRef[];
  /** At most one state per device this often; default the poll interval's default, at least 1 s. */
  publishIntervalMs?: number;
  /** Seconds after which Home Assistant greys out a device's sensors without a new state. */
  expireAfterS?: number;
  swVersion?: string;
  /** Devices announced per router; more are left out (one notice). Default 256. */
  maxDevicesPerRouter?: number;
  onNotice(level: MqttNoticeLevel, text: string): void;
  /** Tests: wraps or replaces mqtt.connect. */
  connectImpl?: (options: IClientOptions) => MqttClient;
  /** Tests: the backoff's bounds (default 1 s and 30 s). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

export interface MqttBridge {
  /** Takes a router's newest snapshot; states go out at most once per publishIntervalMs. Never throws. */
  publishSnapshot(routerKey: string, snapshot: Snapshot): void;
  /** The router's connectivity as the poll loop sees it (retained on <base>/<router>/status). */
  setRouterState(routerKey: string, state: 'up' | 'down'): void;
  /**
   * Removes a device's entities from Home Assistant (empty retained configs and state). false: not
   * connected, or no such device. A device still in the snapshots comes back with the next one.
   */
  removeDevice(routerKey: string, identity: string): boolean;
  readonly isConnected: boolean;
  /** Says "offline", disconnects; resolves within about 3 s whatever the broker does. */
  close(): Promise<void>;
}

export const DEFAULT_MAX_DEVICES_PER_ROUTER = 256;
const MIN_PUBLISH_INTERVAL_MS = 1000;

interface DeviceEntry {
  host: HostUsage;
  /** The device name its configs carried when last sent on this connection; null: send them. */
  announced: string | null;
  isGone: boolean;
}

interface RouterEntry {
  ref: MqttRouterRef;
  state: 'up' | 'down' | null;
  latest: Snapshot | null;
  devices: Map<string, DeviceEntry>;
  isAnnounced: boolean;
  lastFlushMs: number;
  timer: NodeJS.Timeout | null;
  hasWarnedTooMany: boolean;
}

/**
 * Starts connecting at once and returns the bridge. Throws UsageError only for what cannot work
 * (bad URL or topic prefix, unreadable CA file); everything after that is a notice.
 */
export function startMqttBridge(options: MqttBridgeOptions): MqttBridge {
  const endpoint = parseMqttUrl(options.url);
  const topics: MqttTopics = {
    baseTopic: checkPrefix(options.baseTopic ?? DEFAULT_BASE_TOPIC, '--mqtt-base-topic'),
    discoveryPrefix: checkPrefix(options.discoveryPrefix ?? DEFAULT_DISCOVERY_PREFIX, '--mqtt-discovery-prefix'),
  };
  const ca = options.caFile ? readMqttCaFile(options.caFile) : null;
  const discovery: DiscoveryOptions = { ...(options.expireAfterS !== undefined ? { expireAfterS: options.expireAfterS } : {}), ...(options.swVersion ? { swVersion: options.swVersion } : {}) };
  const intervalMs = Math.max(MIN_PUBLISH_INTERVAL_MS, options.publishIntervalMs ?? DEFAULT_INTERVAL_MS);
  const maxDevices = options.maxDevicesPerRouter ?? DEFAULT_MAX_DEVICES_PER_ROUTER;
  const minBackoffMs = options.reconnectMinMs ?? 1000;
  const maxBackoffMs = options.reconnectMaxMs ?? 30_000;
  const username = options.username ?? endpoint.username;
  const notice = (level: MqttNoticeLevel, text: string) => {
    try {
      options.onNotice(level, `MQTT: ${text}`);
    } catch {
      // a notice sink that fails must not stop the bridge
    }
  };

  const routers = new Map<string, RouterEntry>();
  const routerOf = (ref: MqttRouterRef): RouterEntry => {
    let entry = routers.get(ref.key);
    if (entry === undefined) {
      entry = { ref, state: null, latest: null, devices: new Map(), isAnnounced: false, lastFlushMs: 0, timer: null, hasWarnedTooMany: false };
      routers.set(ref.key, entry);
    }
    return entry;
  };
  for (const ref of options.routers) routerOf(ref);

  const clientOptions: IClientOptions = {
    protocol: endpoint.isTls ? 'mqtts' : 'mqtt',
    host: endpoint.host,
    port: endpoint.port,
    clientId: options.clientId ?? `lantop-${randomBytes(4).toString('hex')}`,
    clean: true,
    keepalive: 30,
    connectTimeout: 10_000,
    // The bridge reconnects itself, with backoff (mqtt.js retries at a fixed period).
    reconnectPeriod: 0,
    queueQoSZero: false,
    will: { topic: bridgeStatusMessage(topics, false).topic, payload: Buffer.from(bridgeStatusMessage(topics, false).payload), qos: 1, retain: true },
    ...(username ? { username } : {}),
    ...(options.password ? { password: options.password } : {}),
    ...(endpoint.isTls ? { rejectUnauthorized: true, ...(ca ? { ca } : {}), ...(isAddress(endpoint.host) ? {} : { servername: endpoint.host }) } : {}),
  };

  let isClosing = false;
  let isConnected = false;
  let hasConnectedOnce = false;
  let outageSinceMs: number | null = null;
  let hasReportedOutage = false;
  let backoffMs = minBackoffMs;
  let reconnectTimer: NodeJS.Timeout | null = null;
  let hasWarnedPublish = false;

  const send = (message: MqttMessage) => {
    if (!isConnected) return;
    client.publish(message.topic, message.payload, { qos: message.qos, retain: message.retain }, (error) => {
      // A connection lost mid-publish is reported as that, not as failed publishes.
      if (error && !isClosing && isConnected && !hasWarnedPublish) {
        hasWarnedPublish = true;
        notice('warn', `a publish to ${endpoint.where} failed (${describe(error)}); the next connect sends everything again.`);
      }
    });
  };

  /** Syncs a router's devices with its latest snapshot and sends what changed (if connected). */
  const flush = (router: RouterEntry) => {
    router.lastFlushMs = Date.now();
    const snapshot = router.latest;
    if (snapshot === null) return;
    const seen = new Set<string>();
    let hosts = snapshot.hosts;
    if (hosts.length > maxDevices) {
      if (!router.hasWarnedTooMany) {
        router.hasWarnedTooMany = true;
        notice('warn', `${sanitizeText(router.ref.label, 60)} lists ${hosts.length} devices; only the ${maxDevices} busiest go to MQTT.`);
      }
      hosts = [...hosts].sort((a, b) => b.downBytes + b.upBytes - (a.downBytes + a.upBytes)).slice(0, maxDevices);
    }
    if (!router.isAnnounced && isConnected) {
      for (const m of routerDiscoveryMessages(topics, router.ref, discovery)) send(m);
      router.isAnnounced = true;
    }
    for (const host of hosts) {
      const id = deviceTopicId(host);
      seen.add(id);
      const entry = router.devices.get(id) ?? { host, announced: null, isGone: false };
      entry.host = host;
      entry.isGone = false;
      router.devices.set(id, entry);
      // The configs depend only on the name (the id is the key): rebuilt only when it changes.
      const name = deviceName(host);
      if (isConnected && entry.announced !== name) {
        for (const m of deviceDiscoveryMessages(topics, router.ref, host, discovery)) send(m);
        entry.announced = name;
      }
      send(deviceStateMessage(topics, router.ref, host, snapshot.atMs));
    }
    for (const [id, entry] of router.devices) {
      if (seen.has(id) || entry.isGone) continue;
      // Gone from the snapshot: its rates are 0 now; its entities stay (docs/mqtt.md, "Removing a device").
      entry.isGone = true;
      send(deviceStateMessage(topics, router.ref, entry.host, snapshot.atMs, true));
    }
    // Forget the oldest gone devices beyond the bound (their retained configs stay on the broker).
    for (const [id, entry] of router.devices) {
      if (router.devices.size <= maxDevices * 2) break;
      if (entry.isGone) router.devices.delete(id);
    }
    send(routerStateMessage(topics, router.ref, snapshot));
  };

  const scheduleFlush = (router: RouterEntry) => {
    if (router.timer !== null || isClosing) return;
    const waitMs = router.lastFlushMs + intervalMs - Date.now();
    if (waitMs <= 0) return flush(router);
    router.timer = setTimeout(() => {
      router.timer = null;
      safely(() => flush(router));
    }, waitMs);
    router.timer.unref();
  };

  /** Everything again: on each connect and when Home Assistant says it (re)started. */
  const announceAll = () => {
    send(bridgeStatusMessage(topics, true));
    for (const router of routers.values()) {
      router.isAnnounced = false;
      for (const entry of router.devices.values()) entry.announced = null;
      if (router.state !== null) send(routerStatusMessage(topics, router.ref, router.state));
      if (router.latest === null) {
        for (const m of routerDiscoveryMessages(topics, router.ref, discovery)) send(m);
        router.isAnnounced = true;
      } else {
        // A gone device's configs go out again too, and its zero state.
        for (const entry of router.devices.values()) {
          if (!entry.isGone) continue;
          for (const m of deviceDiscoveryMessages(topics, router.ref, entry.host, discovery)) send(m);
          send(deviceStateMessage(topics, router.ref, entry.host, router.latest.atMs, true));
        }
        flush(router);
      }
    }
  };

  const client = (options.connectImpl ?? mqttConnect)(clientOptions);

  client.on('connect', () => {
    isConnected = true;
    backoffMs = minBackoffMs;
    hasWarnedPublish = false;
    if (!hasConnectedOnce) notice('info', `connected to ${endpoint.where}; Home Assistant discovery under ${topics.discoveryPrefix}/, states under ${topics.baseTopic}/.`);
    else if (hasReportedOutage && outageSinceMs !== null) notice('info', `connected again to ${endpoint.where} after ${Math.round((Date.now() - outageSinceMs) / 1000)} s.`);
    hasConnectedOnce = true;
    outageSinceMs = null;
    hasReportedOutage = false;
    client.subscribe(haStatusTopic(topics), { qos: 1 }, () => undefined);
    safely(announceAll);
  });

  // A retained birth arrives on every subscribe, right after the connect's own announce: only a
  // live one means Home Assistant has just (re)started.
  client.on('message', (topic, payload, packet) => {
    if (topic !== haStatusTopic(topics) || packet.retain || payload.toString('utf8').trim() !== ONLINE) return;
    safely(announceAll);
  });

  client.on('error', (error) => {
    if (isClosing) return;
    outageSinceMs ??= Date.now();
    if (hasReportedOutage) return;
    hasReportedOutage = true;
    const code = (error as { code?: unknown }).code;
    const isRefusedLogin = code === 4 || code === 5 || code === 134 || code === 135;
    if (isRefusedLogin) notice('error', `${endpoint.where} refused the login (${describe(error)}): check --mqtt-user and ${MQTT_PASSWORD_ENV} or --mqtt-password-file. Retrying.`);
    else notice('warn', `cannot reach ${endpoint.where} (${describe(error)}); retrying with backoff up to ${Math.round(maxBackoffMs / 1000)} s.`);
  });

  client.on('close', () => {
    const wasConnected = isConnected;
    isConnected = false;
    if (isClosing) return;
    if (wasConnected) {
      outageSinceMs = Date.now();
      if (!hasReportedOutage) {
        hasReportedOutage = true;
        notice('warn', `lost the connection to ${endpoint.where}; reconnecting.`);
      }
    }
    if (reconnectTimer !== null) return;
    const delayMs = wasConnected ? minBackoffMs : backoffMs;
    backoffMs = Math.min(maxBackoffMs, backoffMs * 2);
    reconnectTimer = setTimeout(() => {
      reconnectTimer = null;
      if (!isClosing) safely(() => client.reconnect());
    }, delayMs);
    reconnectTimer.unref();
  });

  return {
    publishSnapshot(routerKey, snapshot) {
      safely(() => {
        if (isClosing) return;
        const router = routerOf(routers.get(routerKey)?.ref ?? { key: routerKey, label: routerKey });
        router.latest = snapshot;
        setState(router, snapshot.connection.kind === 'connected' ? 'up' : 'down');
        scheduleFlush(router);
      });
    },
    setRouterState(routerKey, state) {
      safely(() => {
        if (isClosing) return;
        setState(routerOf(routers.get(routerKey)?.ref ?? { key: routerKey, label: routerKey }), state);
      });
    },
    removeDevice(routerKey, identity) {
      const router = routers.get(routerKey);
      if (router === undefined || !isConnected) return false;
      for (const [id, entry] of router.devices) {
        if (entry.host.identity !== identity) continue;
        router.devices.delete(id);
        for (const m of deviceRemovalMessages(topics, router.ref, entry.host)) send(m);
        return true;
      }
      return false;
    },
    get isConnected() {
      return isConnected;
    },
    async close() {
      if (isClosing) return;
      isClosing = true;
      if (reconnectTimer !== null) clearTimeout(reconnectTimer);
      for (const router of routers.values()) if (router.timer !== null) clearTimeout(router.timer);
      if (isConnected) {
        const offline = bridgeStatusMessage(topics, false);
        await withinMs(1500, new Promise<void>((resolve) => client.publish(offline.topic, offline.payload, { qos: 1, retain: true }, () => resolve())));
      }
      await withinMs(1500, new Promise<void>((resolve) => client.end(false, {}, () => resolve())));
      if (client.connected || !client.disconnected) client.end(true);
    },
  };

  function setState(router: RouterEntry, state: 'up' | 'down') {
    if (router.state === state) return;
    router.state = state;
    send(routerStatusMessage(topics, router.ref, state));
  }

  function safely(action: () => void) {
    try {
      action();
    } catch (error) {
      notice('error', `unexpected error, please report it: ${describe(error)}`);
    }
  }
}

function checkPrefix(text: string, flag: string): string {
  try {
    return checkTopicPrefix(text, flag);
  } catch (error) {
    throw new UsageError((error as Error).message, `Use letters, digits, _ and - only, e.g. ${flag} lantop.`);
  }
}

function describe(error: unknown): string {
  const e = error as { code?: unknown; message?: unknown };
  const text = typeof e?.message === 'string' ? e.message : String(error);
  return sanitizeText(typeof e?.code === 'string' && !text.includes(e.code) ? `${e.code}: ${text}` : text, 160);
}

function isAddress(host: string): boolean {
  return /^[\d.]+$/.test(host) || host.includes(':');
}

function withinMs(ms: number, promise: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void promise.then(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
