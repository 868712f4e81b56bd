// `serve --mqtt URL` (issue 22, docs/mqtt.md): the MQTT bridge as one of serve's snapshot sinks.
// The options are checked and the password read before serve logs in anywhere (a bad URL or an
// unreadable CA file is a usage error at once); the bridge itself starts once serve knows its
// routers and interval, and its notices go to serve's log.
import { createRequire } from 'node:module';
import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { startMqttBridge } from './mqtt-bridge.js';
import { parseMqttUrl, readMqttCaFile, resolveMqttPassword } from './mqtt-settings.js';
import type { SinkContext, SnapshotSink } from './serve-lifecycle.js';

export interface ServeMqttFlags {
  url: string;
  user?: string;
  passwordFile?: string;
  caFile?: string;
  baseTopic?: string;
  discoveryPrefix?: string;
}

/** serve's MQTT options (cli.ts adds them to the serve command). */
export function addMqttOptions(serve: Command): Command {
  return serve
    .option('--mqtt <url>', 'publish rates and totals to an MQTT broker with Home Assistant discovery: mqtt://HOST[:PORT] or mqtts:// (docs/mqtt.md)')
    .option('--mqtt-user <user>', 'the broker user (password: LANTOP_MQTT_PASSWORD or --mqtt-password-file)')
    .option('--mqtt-password-file <path>', "the broker password on a file's first line (mode 0600)")
    .option('--mqtt-ca-file <path>', 'mqtts:// only: PEM certificates to trust (a self-signed broker)')
    .option('--mqtt-base-topic <topic>', 'where states go (default lantop)')
    .option('--mqtt-discovery-prefix <prefix>', "Home Assistant's discovery prefix (default homeassistant)");
}

/** The MQTT flags of `serve`'s parsed options, or null without --mqtt. */
export function mqttFlagsOf(options: Record<string, unknown>): ServeMqttFlags | null {
  const text = (key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
  const url = text('mqtt');
  if (url === undefined) {
    const stray = ['mqttUser', 'mqttPasswordFile', 'mqttCaFile', 'mqttBaseTopic', 'mqttDiscoveryPrefix'].find((key) => text(key) !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --mqtt URL.`);
    return null;
  }
  const flags: ServeMqttFlags = { url };
  const set = (key: keyof ServeMqttFlags, from: string) => {
    const value = text(from);
    if (value !== undefined) flags[key] = value;
  };
  set('user', 'mqttUser');
  set('passwordFile', 'mqttPasswordFile');
  set('caFile', 'mqttCaFile');
  set('baseTopic', 'mqttBaseTopic');
  set('discoveryPrefix', 'mqttDiscoveryPrefix');
  return flags;
}

function packageVersion(): string | undefined {
  try {
    return (createRequire(import.meta.url)('../../package.json') as { version?: string }).version;
  } catch {
    return undefined;
  }
}

/** Validates the flags and reads the password now; the returned factory starts the bridge. */
export async function mqttSinkFactory(flags: ServeMqttFlags, env: NodeJS.ProcessEnv, warn: (text: string) => void, version: string | undefined = packageVersion()): Promise<(context: SinkContext) => SnapshotSink> {
  const endpoint = parseMqttUrl(flags.url);
  if (flags.caFile !== undefined && !endpoint.isTls) throw new UsageError('--mqtt-ca-file is for mqtts:// brokers only.', `Use mqtts://${endpoint.host}… or drop --mqtt-ca-file.`);
  if (flags.caFile !== undefined) readMqttCaFile(flags.caFile);
  const password = await resolveMqttPassword({ env, passwordFile: flags.passwordFile ?? null });
  for (const warning of password?.warnings ?? []) warn(warning);
  const username = flags.user ?? endpoint.username;
  if (password !== null && username === null) throw new UsageError('An MQTT password is set but no MQTT user.', 'Name the user with --mqtt-user USER (or mqtt://USER@HOST).');
  return (context) => {
    const bridge = startMqttBridge({
      url: flags.url,
      username,
      password: password?.password ?? null,
      caFile: flags.caFile ?? null,
      ...(flags.baseTopic !== undefined ? { baseTopic: flags.baseTopic } : {}),
      ...(flags.discoveryPrefix !== undefined ? { discoveryPrefix: flags.discoveryPrefix } : {}),
      routers: context.routers,
      publishIntervalMs: context.intervalMs,
      ...(version !== undefined ? { swVersion: version } : {}),
      onNotice: (level, text) => context.notice(level, text),
    });
    context.notice('info', `MQTT: publishing to ${endpoint.where} (Home Assistant discovery under ${flags.discoveryPrefix ?? 'homeassistant'}/)`);
    return { onSnapshot: (key, snapshot) => bridge.publishSnapshot(key, snapshot), close: () => bridge.close() };
  };
}
