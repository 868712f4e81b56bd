// Raw scriptable telnet servers (test/fakes/raw-telnet-server.ts) and TelnetSessions logged in to
// them, for the transport tests; everything a file opened is closed after its last test.
import { after } from 'node:test';
import { connectTelnet, type TelnetConnectOptions, type TelnetSession } from '../../src/transport/telnet.js';
import { fakeRouter, startRawTelnetServer, type FakeRouterOptions, type RawTelnetServer } from '../fakes/raw-telnet-server.js';

/** An iptables counter listing as routers print it. */
export const COUNTERS = [
  'Chain TRAFFIC (1 references)',
  '    pkts      bytes target     prot opt in     out     source               destination',
  '   12345 987654321            all  --  ppp0   *       0.0.0.0/0            198.51.100.10',
  '     678    4567890            all  --  *      ppp0    198.51.100.10        0.0.0.0/0',
].join('\n');

export function telnetOptions(port: number, overrides: Partial<TelnetConnectOptions> = {}): TelnetConnectOptions {
  return { host: '127.0.0.1', port, user: 'admin', password: 'secret', connectTimeoutMs: 3000, commandTimeoutMs: 2000, ...overrides };
}

/** Call once at the top of a test file: its servers and sessions close after the file's last test. */
export function telnetTestBed() {
  const servers: RawTelnetServer[] = [];
  const closeables: Array<{ close(): Promise<void> }> = [];
  after(async () => {
    for (const closeable of closeables) await closeable.close().catch(() => undefined);
    for (const server of servers) await server.close();
  });

  async function serve(script: Parameters<typeof startRawTelnetServer>[0]): Promise<RawTelnetServer> {
    const server = await startRawTelnetServer(script);
    servers.push(server);
    return server;
  }

  async function login(port: number, overrides: Partial<TelnetConnectOptions> = {}): Promise<TelnetSession> {
    const session = await connectTelnet(telnetOptions(port, overrides));
    closeables.push(session);
    return session;
  }

  return {
    serve,
    login,
    /** A fake router and a session logged in to it. */
    async routerSession(router: FakeRouterOptions, overrides: Partial<TelnetConnectOptions> = {}) {
      const server = await serve(fakeRouter(router));
      return { server, session: await login(server.port, overrides) };
    },
    /** Closes this after the file's last test (a reconnecting session, a library client). */
    track<T extends { close(): Promise<void> }>(closeable: T): T {
      closeables.push(closeable);
      return closeable;
    },
    /** Closes a server now (nothing listens on its port afterwards). */
    async closeServer(server: RawTelnetServer): Promise<void> {
      await server.close();
      servers.splice(servers.indexOf(server), 1);
    },
  };
}
