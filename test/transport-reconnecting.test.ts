// ReconnectingSession with a scripted factory and fake timers: queueing, persistence, backoff,
// state changes, auth errors not retried, shell re-entered after a reconnect.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConnectionState } from '../src/domain/snapshot.js';
import { AuthError, ConnectionLostError, TimeoutError, UnreachableError } from '../src/errors.js';
import { HostKeyChangedError } from '../src/transport/errors.js';
import {
  ReconnectingSession,
  backoffDelayMs,
  type ConnectionSession,
  type Timers,
} from '../src/transport/reconnecting-session.js';
import type { ShellMode } from '../src/transport/session.js';

class FakeTimers implements Timers {
  private nowMs = 0;
  private nextId = 1;
  readonly pending = new Map<number, { atMs: number; callback: () => void }>();
  now(): number {
    return this.nowMs;
  }
  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.pending.set(id, { atMs: this.nowMs + ms, callback });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.pending.delete(handle as number);
  }
  /** Moves time and runs what fell due, letting promise chains settle in between. */
  async advance(ms: number): Promise<void> {
    const targetMs = this.nowMs + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, timer]) => timer.atMs <= targetMs).sort((a, b) => a[1].atMs - b[1].atMs)[0];
      if (!due) break;
      this.pending.delete(due[0]);
      this.nowMs = due[1].atMs;
      due[1].callback();
      await settle();
    }
    this.nowMs = targetMs;
    await settle();
  }
}

async function settle(): Promise<void> {
  for (let index = 0; index < 20; index += 1) await new Promise((resolve) => setImmediate(resolve));
}

class FakeConnection implements ConnectionSession {
  mode: ShellMode;
  isAlive = true;
  inFlight = 0;
  maxInFlight = 0;
  readonly commands: string[] = [];
  private closeListener: (() => void) | undefined;
  constructor(
    private readonly script: (command: string, connection: FakeConnection) => Promise<string>,
    startMode: ShellMode = 'shell',
  ) {
    this.mode = startMode;
    this.loginMode = startMode;
  }
  async exec(command: string): Promise<string> {
    if (!this.isAlive) throw new ConnectionLostError('dead');
    this.commands.push(command);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      return await this.script(command, this);
    } finally {
      this.inFlight -= 1;
    }
  }
  readonly loginMode: ShellMode;
  /** Entry commands that lead to a shell on this fake (default: any). */
  shellEntries: readonly string[] | null = null;
  async enterShell(entries: readonly string[] = ['sh']): Promise<string | null> {
    for (const entry of entries) {
      this.commands.push(`<enter shell: ${entry}>`);
      if (this.shellEntries === null || this.shellEntries.includes(entry)) {
        this.mode = 'shell';
        return entry;
      }
    }
    return null;
  }
  async exitShell(exitCommand = 'exit'): Promise<void> {
    this.commands.push(`<exit shell: ${exitCommand}>`);
    this.mode = 'cli';
  }
  onClose(listener: () => void): () => void {
    this.closeListener = listener;
    return () => (this.closeListener = undefined);
  }
  /** The router hangs up while idle. */
  drop(): void {
    this.isAlive = false;
    this.closeListener?.();
  }
  async close(): Promise<void> {
    this.isAlive = false;
  }
}

function setup(factory: () => Promise<ConnectionSession>, extra: { enterShell?: boolean } = {}) {
  const timers = new FakeTimers();
  const states: ConnectionState[] = [];
  const session = new ReconnectingSession({ factory, target: '198.51.100.1:23', timers, ...extra });
  session.onStateChange((state) => states.push(state));
  return { timers, states, session };
}

const unreachable = () => new UnreachableError('198.51.100.1:23 refused the connection (ECONNREFUSED)');

describe('ReconnectingSession', () => {
  test('backoff doubles from 1 s and is capped at 30 s', () => {
    assert.deepEqual([0, 1, 2, 3, 4, 5, 6, 20].map((attempt) => backoffDelayMs(attempt)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  });

  test('one persistent connection, one command in flight, replies in order', async () => {
    let created = 0;
    const connection = new FakeConnection(async (command) => {
      await settle();
      return `out:${command}`;
    });
    const { session, states } = setup(async () => {
      created += 1;
      return connection;
    });
    const replies = await Promise.all(['a', 'b', 'c', 'd'].map((command) => session.exec(command)));
    assert.deepEqual(replies, ['out:a', 'out:b', 'out:c', 'out:d']);
    assert.equal(created, 1);
    assert.equal(connection.maxInFlight, 1);
    assert.deepEqual(states.map((state) => state.kind), ['connecting', 'connected']);
  });

  test('a lost connection: state says reconnecting in N s, commands fail fast, then it reconnects', async () => {
    const connections: FakeConnection[] = [];
    const { session, states, timers } = setup(async () => {
      const connection = new FakeConnection(async (command, self) => {
        if (command === 'reboot') {
          self.isAlive = false;
          throw new ConnectionLostError('closed while running reboot');
        }
        return 'ok';
      });
      connections.push(connection);
      return connection;
    });
    await session.connect();
    await assert.rejects(session.exec('reboot'), ConnectionLostError);
    assert.deepEqual(session.state, { kind: 'reconnecting', inMs: 1000, reason: 'closed while running reboot' });
    await assert.rejects(session.exec('uptime'), /reconnecting in 1 s/);
    assert.equal(connections.length, 1, 'no reconnect before the backoff delay');
    await timers.advance(1000);
    assert.equal(connections.length, 2);
    assert.equal(session.state.kind, 'connected');
    assert.equal(await session.exec('uptime'), 'ok');
    assert.deepEqual(states.map((state) => state.kind), ['connecting', 'connected', 'reconnecting', 'connecting', 'connected']);
  });

  test('a command timeout discards the connection (never reused)', async () => {
    const connections: FakeConnection[] = [];
    const { session, timers } = setup(async () => {
      const connection = new FakeConnection(async (command) => {
        if (command === 'slow') throw new TimeoutError('no reply');
        return 'fresh';
      });
      connections.push(connection);
      return connection;
    });
    await assert.rejects(session.exec('slow'), TimeoutError);
    assert.equal(connections[0]!.isAlive, false, 'closed after the timeout');
    await timers.advance(1000);
    assert.equal(await session.exec('next'), 'fresh');
    assert.deepEqual(connections[1]!.commands, ['next']);
  });

  test('failed reconnects back off exponentially up to 30 s; success resets the backoff', async () => {
    let attempts = 0;
    let isRouterUp = true;
    const { session, states, timers } = setup(async () => {
      attempts += 1;
      if (!isRouterUp) throw unreachable();
      return new FakeConnection(async () => 'ok');
    });
    await session.connect();
    isRouterUp = false;
    (session.connection as FakeConnection).drop();
    const delays: number[] = [];
    for (let round = 0; round < 7; round += 1) {
      const state = session.state;
      assert.equal(state.kind, 'reconnecting');
      if (state.kind === 'reconnecting') {
        delays.push(state.inMs);
        await timers.advance(state.inMs);
      }
    }
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.equal(attempts, 1 + 7);
    isRouterUp = true;
    const state = session.state;
    assert.ok(state.kind === 'reconnecting');
    await timers.advance(state.inMs);
    assert.equal(session.state.kind, 'connected');
    (session.connection as FakeConnection).drop();
    assert.deepEqual(session.state, { kind: 'reconnecting', inMs: 1000, reason: 'the router closed the connection' });
    assert.ok(states.some((entry) => entry.kind === 'reconnecting' && /ECONNREFUSED/.test(entry.reason)));
  });

  test('a wrong password is not retried: state failed, same error every time', async () => {
    let attempts = 0;
    const { session, timers } = setup(async () => {
      attempts += 1;
      throw new AuthError('wrong user name or password');
    });
    await assert.rejects(session.connect(), AuthError);
    assert.deepEqual(session.state, { kind: 'failed', reason: 'wrong user name or password' });
    assert.equal(timers.pending.size, 0, 'no retry scheduled');
    await assert.rejects(session.exec('uptime'), AuthError);
    await timers.advance(120_000);
    assert.equal(attempts, 1);
  });

  test('a changed host key is not retried either', async () => {
    const { session, timers } = setup(async () => {
      throw new HostKeyChangedError({ host: '198.51.100.1', port: 22 }, 'SHA256:old', 'SHA256:new');
    });
    await assert.rejects(session.connect(), HostKeyChangedError);
    assert.equal(session.state.kind, 'failed');
    assert.equal(timers.pending.size, 0);
  });

  test('the shell it was in is re-entered after a reconnect', async () => {
    const connections: FakeConnection[] = [];
    const { session, timers } = setup(async () => {
      const connection: FakeConnection = new FakeConnection(async (command): Promise<string> => `${connection.mode}:${command}`, 'cli');
      connections.push(connection);
      return connection;
    });
    await session.enterShell();
    assert.equal(await session.exec('iptables -L'), 'shell:iptables -L');
    connections[0]!.drop();
    await timers.advance(1000);
    assert.equal(session.mode, 'shell');
    assert.equal(await session.exec('iptables -L'), 'shell:iptables -L');
    assert.deepEqual(connections[1]!.commands, ['<enter shell: sh>', 'iptables -L']);
  });

  test('commands say where they run: the session moves, also after a reconnect, for hours of polls', async () => {
    const connections: FakeConnection[] = [];
    const { session, timers } = setup(async () => {
      const connection: FakeConnection = new FakeConnection(async (command): Promise<string> => `${connection.mode}:${command}`, 'cli');
      connection.shellEntries = ['system shell'];
      connections.push(connection);
      return connection;
    });
    assert.deepEqual(await session.findShell(['sh', 'shell', 'system shell']), { enter: 'system shell', exit: 'exit' });
    // A 1 s poll in the shell with discovery in the CLI every 30th poll: two hours.
    for (let poll = 0; poll < 7200; poll += 1) {
      assert.equal(await session.exec('iptables -L', { where: 'shell' }), 'shell:iptables -L');
      if (poll % 30 === 0) assert.equal(await session.exec('arp show', { where: 'cli' }), 'cli:arp show');
    }
    const moves = connections[0]!.commands.filter((c) => c.startsWith('<'));
    assert.deepEqual(moves.slice(0, 3), ['<enter shell: sh>', '<enter shell: shell>', '<enter shell: system shell>']);
    assert.equal(moves.length, 3 + 2 * 240, 'one move out and back per discovery, none per poll');
    assert.ok(moves.slice(3).every((m) => m === '<enter shell: system shell>' || m === '<exit shell: exit>'));
    // The router reboots: the new login lands in the CLI again; the next command goes back by the known route.
    connections[0]!.drop();
    await timers.advance(1000);
    assert.equal(session.mode, 'cli');
    assert.equal(await session.exec('iptables -L', { where: 'shell' }), 'shell:iptables -L');
    assert.deepEqual(connections[1]!.commands, ['<enter shell: system shell>', 'iptables -L']);
    assert.equal(await session.exec('lanhosts show all', { where: 'cli' }), 'cli:lanhosts show all');
  });

  test('no route known: a shell command runs where the session is (the router\'s answer decides)', async () => {
    const { session } = setup(async () => new FakeConnection(async (command, c) => `${c.mode}:${command}`, 'cli'));
    assert.equal(await session.exec('cat /proc/net/route', { where: 'shell' }), 'cli:cat /proc/net/route');
  });

  test('a route that stops working is an error naming it, not a silent command in the wrong place', async () => {
    const { session } = setup(async () => {
      const connection = new FakeConnection(async (command, c) => `${c.mode}:${command}`, 'cli');
      connection.shellEntries = [];
      return connection;
    });
    session.setShellRoute({ enter: 'sh', exit: 'exit' });
    await assert.rejects(session.exec('iptables -L', { where: 'shell' }), /'sh' no longer leads to the router's shell/);
  });

  test('close() stops reconnecting', async () => {
    const { session, timers } = setup(async () => new FakeConnection(async () => 'ok'));
    await session.connect();
    (session.connection as FakeConnection).drop();
    assert.equal(timers.pending.size, 1);
    await session.close();
    assert.equal(timers.pending.size, 0);
    await assert.rejects(session.exec('uptime'), /closed/);
  });
});
