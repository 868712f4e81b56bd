// A real MQTT broker for tests (issue 22): Debian's mosquitto on 127.0.0.1 with a temp config,
// started and killed by the test. Loopback only; no persistence, so a restart loses every
// retained message — as a broker without a database does, the harder case for the bridge.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';

export const MOSQUITTO = ['/usr/sbin/mosquitto', '/usr/bin/mosquitto'].find((p) => existsSync(p)) ?? null;
export const MOSQUITTO_PASSWD = ['/usr/bin/mosquitto_passwd', '/usr/sbin/mosquitto_passwd'].find((p) => existsSync(p)) ?? null;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface Broker {
  port: number;
  url: string;
  /** SIGKILL and wait for the exit. */
  kill(): Promise<void>;
  /** Start again on the same port (after kill). */
  start(): Promise<void>;
  /** What mosquitto printed (for failure messages). */
  log(): string;
}

/** A password file with one user, or null with the reason mosquitto_passwd is unusable. */
export function makePasswordFile(dir: string, user: string, password: string): string | null {
  if (MOSQUITTO_PASSWD === null) return null;
  const file = join(dir, 'passwd');
  const result = spawnSync(MOSQUITTO_PASSWD, ['-c', '-b', file, user, password], { encoding: 'utf8', timeout: 10_000 });
  return result.status === 0 && existsSync(file) ? file : null;
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1 (EC keys: fast), or null without openssl.
 * Returns the PEM paths: the CA for the client, cert and key for mosquitto.
 */
export function makeTestCertificates(dir: string): { caFile: string; certFile: string; keyFile: string } | null {
  const run = (args: string[]) => spawnSync('openssl', args, { cwd: dir, encoding: 'utf8', timeout: 20_000 }).status === 0;
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  const ok =
    run(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=lantop test CA']) &&
    run(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1']) &&
    run(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
  return ok ? { caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') } : null;
}

export async function startBroker(dir: string, options: { passwordFile?: string; tls?: { certFile: string; keyFile: string } } = {}): Promise<Broker> {
  if (MOSQUITTO === null) throw new Error('mosquitto is not installed');
  const port = await freePort();
  const config = join(dir, `mosquitto-${port}.conf`);
  writeFileSync(
    config,
    [
      `listener ${port} 127.0.0.1`,
      options.passwordFile ? 'allow_anonymous false' : 'allow_anonymous true',
      ...(options.passwordFile ? [`password_file ${options.passwordFile}`] : []),
      ...(options.tls ? [`certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`] : []),
      'persistence false',
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      // Run as whoever runs the test (as root mosquitto would switch to its own user and lose the temp dir).
      `user ${userInfo().username}`,
      '',
    ].join('\n'),
  );
  let child: ChildProcess | null = null;
  let output = '';
  const start = async () => {
    const proc = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = proc;
    proc.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`mosquitto exited (${proc.exitCode}): ${output}`);
      if (await canConnect(port)) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`mosquitto did not listen on ${port}: ${output}`);
  };
  const kill = async () => {
    const proc = child;
    child = null;
    if (proc === null || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };
  await start();
  return { port, url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`, kill, start, log: () => output };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = netConnect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
