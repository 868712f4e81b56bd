// What `serve --mqtt` needs before it connects (issue 22): the broker's URL, the password and the
// CA file. Mistakes here are the user's (UsageError, with the next step); the bridge itself never
// throws once it runs. The password never comes from argv: LANTOP_MQTT_PASSWORD or a file.
import { readFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { passwordFromEnv, passwordFromFile, type PasswordResult } from '../transport/credentials.js';

export const MQTT_PASSWORD_ENV = 'LANTOP_MQTT_PASSWORD';
export const MQTT_DEFAULT_PORT = 1883;
export const MQTTS_DEFAULT_PORT = 8883;

export interface MqttEndpoint {
  isTls: boolean;
  /** Without brackets for IPv6. */
  host: string;
  port: number;
  /** From mqtt://user@host, if given. */
  username: string | null;
  /** mqtt[s]://host:port, no user: safe to print. */
  where: string;
}

const URL_HINT = 'Give the broker as mqtt://HOST[:PORT] (default port 1883) or mqtts://HOST[:PORT] for TLS (8883), e.g. --mqtt mqtt://192.168.1.10.';

/** Reads --mqtt's value; throws UsageError saying what is wrong and what to pass. */
export function parseMqttUrl(text: string): MqttEndpoint {
  const shown = sanitizeText(text, 80);
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    throw new UsageError(`'${shown}' is not an MQTT broker URL.`, URL_HINT);
  }
  if (url.protocol !== 'mqtt:' && url.protocol !== 'mqtts:') {
    const isWebSocket = url.protocol === 'ws:' || url.protocol === 'wss:';
    throw new UsageError(
      `lantop speaks MQTT over TCP or TLS, not '${sanitizeText(url.protocol.replace(/:$/, ''), 20)}'${isWebSocket ? ' (WebSockets are not supported)' : ''}.`,
      URL_HINT,
    );
  }
  if (url.password !== '') {
    throw new UsageError('The MQTT URL must not carry a password: command lines are visible to every user of the machine.', `Put the password in ${MQTT_PASSWORD_ENV} or a file given with --mqtt-password-file.`);
  }
  if ((url.pathname !== '' && url.pathname !== '/') || url.search !== '' || url.hash !== '') {
    throw new UsageError(`'${shown}' has a path or query; an MQTT broker URL is mqtt://HOST[:PORT].`, 'Set the topics with --mqtt-base-topic and --mqtt-discovery-prefix instead.');
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (host === '') throw new UsageError(`'${shown}' names no broker host.`, URL_HINT);
  const isTls = url.protocol === 'mqtts:';
  const port = url.port !== '' ? Number(url.port) : isTls ? MQTTS_DEFAULT_PORT : MQTT_DEFAULT_PORT;
  const username = url.username !== '' ? decodeURIComponent(url.username) : null;
  const hostShown = host.includes(':') ? `[${host}]` : host;
  return { isTls, host, port, username, where: `${isTls ? 'mqtts' : 'mqtt'}://${hostShown}:${port}` };
}

/** --mqtt-password-file first, then LANTOP_MQTT_PASSWORD; null: none (an anonymous broker). */
export async function resolveMqttPassword(options: { env: NodeJS.ProcessEnv; passwordFile?: string | null }): Promise<PasswordResult | null> {
  if (options.passwordFile) {
    try {
      return await passwordFromFile(options.passwordFile);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(error.message.replace('password file', 'MQTT password file'), 'Check the path given to --mqtt-password-file (lantop reads its first line).', { cause: error });
      throw error;
    }
  }
  return passwordFromEnv(options.env, MQTT_PASSWORD_ENV);
}

/** The PEM text of --mqtt-ca-file; throws UsageError when it cannot be read or holds no certificate. */
export function readMqttCaFile(path: string): string {
  const shown = sanitizeText(path, 200);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`Cannot read the MQTT CA file '${shown}' (${(error as NodeJS.ErrnoException).code ?? 'error'}).`, 'Check the path given to --mqtt-ca-file (a PEM file of certificates to trust).', { cause: error });
  }
  if (!text.includes('-----BEGIN CERTIFICATE-----')) throw new UsageError(`The MQTT CA file '${shown}' holds no PEM certificate.`, 'Give --mqtt-ca-file the PEM file of the CA that signed the broker\'s certificate.');
  return text;
}
