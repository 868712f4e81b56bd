// The emulated router's telnet server: an in-process TCP server on loopback that negotiates telnet
// options for real, logs users in like the firmware does, and hands command lines to the Broadcom
// CLI or the BusyBox shell. A test double and a demo — never a real router (see README.md).
//
// Fault knobs reproduce what real routers do to clients (issue 4): replies in small TCP chunks,
// IAC sequences inside text and alone in a chunk, LF-only line ends, no echo, and the login failure
// text glued to the next `Login:` in one write.

import net from 'node:net';
import { createRouterModel, rebootModel, type Flavour, type RouterModel } from './model.js';
import { advanceModel } from './model-simulation.js';
import { createPrng } from './prng.js';
import { TelnetSession, type SessionContext } from './telnet-session.js';
import type { EmulatedRouterOptions, EmulatorStats } from './emulator-options.js';

export type { EmulatedRouterOptions, EmulatorStats } from './emulator-options.js';


export interface EmulatedRouter {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly flavour: Flavour;
  /** The model: hosts, iptables tables, clock. Tests may read and change it. */
  readonly state: RouterModel;
  readonly stats: EmulatorStats;
  /** Advances simulated time by `ms` (traffic flows, hosts come and go). */
  tick(ms: number): void;
  /** Brings the model up to the injected clock (done before every command anyway). */
  sync(): void;
  /** Reboots: drops every connection and zeroes the state, like pulling the plug. */
  reboot(): Promise<void>;
  /** Open telnet connections right now. */
  connectionCount(): number;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);


export async function startEmulatedRouter(options: EmulatedRouterOptions = {}): Promise<EmulatedRouter> {
  const host = options.host ?? '127.0.0.1';
  if (!LOOPBACK.has(host)) throw new RangeError(`the emulated router listens on loopback only, not on ${host}`);
  const flavour = options.flavour ?? 'broadcom';
  const clockOption = options.clock ?? 'manual';
  const clock = clockOption === 'manual' ? null : clockOption === 'real' ? Date.now : clockOption;
  const model = createRouterModel({
    flavour,
    seed: options.seed ?? 1,
    ...(options.hostCount !== undefined ? { hostCount: options.hostCount } : {}),
    ...(options.hosts !== undefined ? { hosts: options.hosts } : {}),
    traffic: options.traffic ?? true,
    churn: options.churn ?? options.traffic ?? true,
    startTimeMs: options.startTimeMs ?? (clock ? clock() : Date.UTC(2024, 0, 15, 18, 0, 0)),
    iptablesDialect: options.iptablesDialect ?? '1.4.21',
    ...(options.nft !== undefined ? { nft: options.nft } : {}),
    ...(options.ipTool !== undefined ? { ipTool: options.ipTool } : {}),
    ...(options.offload !== undefined ? { offload: options.offload } : {}),
  });
  const stats: EmulatorStats = { connections: 0, logins: 0, failedLogins: 0, commands: [] };
  const sessions = new Set<TelnetSession>();
  let rebootingUntil = 0;
  let connectionIndex = 0;
  const seed = options.seed ?? 1;

  const sync = (): void => {
    if (clock) advanceModel(model, clock());
  };
  const reboot = async (): Promise<void> => {
    sync();
    rebootModel(model);
    rebootingUntil = Date.now() + (options.rebootDowntimeMs ?? 0);
    for (const session of [...sessions]) session.destroy();
  };
  const shared: SessionContext = {
    options: {
      user: options.user ?? (flavour === 'broadcom' ? 'admin' : 'root'),
      password: options.password ?? (flavour === 'broadcom' ? 'admin' : 'root'),
      lineEnding: options.lineEnding ?? '\r\n',
      echo: options.echo ?? true,
      loginFailureOneWrite: options.loginFailureOneWrite ?? false,
      loginFailureGapMs: options.loginFailureGapMs ?? 50,
      loginFailureDelayMs: options.loginFailureDelayMs ?? 0,
      shellPrompt: options.shellPrompt ?? 'root@OpenWrt:~# ',
      chunkDelayMs: options.chunkDelayMs ?? 1,
      splitWrites: options.splitWrites ?? false,
      iacInterleave: options.iacInterleave ?? false,
    },
    model,
    stats,
    sync,
    reboot,
  };

  const server = net.createServer((socket) => {
    if (Date.now() < rebootingUntil) {
      socket.destroy();
      return;
    }
    stats.connections++;
    const session = new TelnetSession(socket, shared, createPrng(seed * 7919 + ++connectionIndex));
    sessions.add(session);
    socket.on('close', () => {
      session.destroy();
      sessions.delete(session);
    });
    session.start();
  });
  server.maxConnections = 32;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as net.AddressInfo;
  let isClosed = false;

  return {
    host: host === 'localhost' ? '127.0.0.1' : host,
    port: address.port,
    user: shared.options.user,
    password: shared.options.password,
    flavour,
    state: model,
    stats,
    tick(ms: number) {
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError('tick(ms) needs a finite, non-negative number');
      advanceModel(model, model.nowMs + ms);
    },
    sync,
    reboot,
    connectionCount: () => sessions.size,
    async close() {
      if (isClosed) return;
      isClosed = true;
      for (const session of [...sessions]) session.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
