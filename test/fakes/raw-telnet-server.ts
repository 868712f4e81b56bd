// A scriptable raw TCP server on 127.0.0.1:0 for telnet defect tests: a test decides exactly which
// bytes go out in which writes (IAC sequences, split writes, one-write login failure, LF-only, no
// echo, close mid-command, hang). Two layers: RawTelnetConnection (bytes and lines), and
// fakeRouter() (a configurable login dialogue + vendor CLI + BusyBox-like shell built on it).
import { createServer, type Server, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { DONT, IAC, SB, SE, WILL } from '../../src/transport/telnet-codes.js';

// The tests that script this server write telnet commands with these.
export { DO, IAC, NOP, WILL, WONT } from '../../src/transport/telnet-codes.js';

/** Gap between writes meant to arrive as separate TCP reads on loopback. */
export const SEPARATE_WRITE_GAP_MS = 25;

export class RawTelnetConnection {
  /** Every byte the client sent, telnet commands included. */
  received = Buffer.alloc(0);
  private text = '';
  private lineWaiters: Array<(line: string | null) => void> = [];
  private lines: string[] = [];
  private isClosed = false;
  readonly closed: Promise<void>;

  constructor(readonly socket: Socket) {
    socket.setNoDelay(true);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      this.received = Buffer.concat([this.received, chunk]);
      this.text += stripTelnetCommands(chunk).toString('utf8');
      this.splitLines();
    });
    socket.once('close', () => {
      this.isClosed = true;
      for (const waiter of this.lineWaiters.splice(0)) waiter(null);
    });
  }

  private splitLines(): void {
    for (;;) {
      const match = /\r\n|\r\0|\n|\r(?=[^\n\0])/.exec(this.text);
      if (!match) return;
      const line = this.text.slice(0, match.index);
      this.text = this.text.slice(match.index + match[0].length);
      const waiter = this.lineWaiters.shift();
      if (waiter) waiter(line);
      else this.lines.push(line);
    }
  }

  /** The next line the client typed (line end removed); null when the connection closed. */
  readLine(): Promise<string | null> {
    const line = this.lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.isClosed) return Promise.resolve(null);
    return new Promise((resolve) => this.lineWaiters.push(resolve));
  }

  /** Raw keys the client typed that are not lines (pager answers), consumed. */
  takePendingText(): string {
    const text = this.text;
    this.text = '';
    return text;
  }

  /** One socket write. */
  write(data: string | Buffer | number[]): Promise<void> {
    if (this.isClosed || this.socket.destroyed) return Promise.resolve();
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data);
    return new Promise((resolve) => this.socket.write(bytes, () => resolve()));
  }

  /** Several writes, apart enough that the client reads them separately. */
  async writeSeparately(...chunks: Array<string | Buffer | number[]>): Promise<void> {
    for (const [index, chunk] of chunks.entries()) {
      if (index > 0) await sleep(SEPARATE_WRITE_GAP_MS);
      await this.write(chunk);
    }
  }

  /** Waits until the client has sent a byte sequence (e.g. a negotiation answer), bounded. */
  async waitForReceived(bytes: number[], timeoutMs = 2000): Promise<boolean> {
    const needle = Buffer.from(bytes);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.received.includes(needle)) return true;
      await sleep(10);
    }
    return false;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** Removes IAC sequences (what our client answers) so lines read cleanly. */
export function stripTelnetCommands(chunk: Buffer): Buffer {
  const out: number[] = [];
  for (let index = 0; index < chunk.length; index += 1) {
    const byte = chunk[index]!;
    if (byte !== IAC) {
      out.push(byte);
      continue;
    }
    const next = chunk[index + 1];
    if (next === IAC) {
      out.push(IAC);
      index += 1;
    } else if (next !== undefined && next >= WILL && next <= DONT) {
      index += 2;
    } else if (next === SB) {
      const end = chunk.indexOf(SE, index);
      index = end < 0 ? chunk.length : end;
    } else {
      index += 1;
    }
  }
  return Buffer.from(out);
}

export interface RawTelnetServer {
  port: number;
  /** Connections accepted so far. */
  readonly connectionCount: number;
  readonly connections: RawTelnetConnection[];
  close(): Promise<void>;
}

/** Starts a server on 127.0.0.1:0; `script` runs once per connection. */
export async function startRawTelnetServer(
  script: (connection: RawTelnetConnection, index: number) => Promise<void>,
): Promise<RawTelnetServer> {
  const connections: RawTelnetConnection[] = [];
  const server: Server = createServer((socket) => {
    const connection = new RawTelnetConnection(socket);
    const index = connections.length;
    connections.push(connection);
    script(connection, index).catch(() => connection.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no TCP address');
  return {
    port: address.port,
    get connectionCount() {
      return connections.length;
    },
    connections,
    close: async () => {
      for (const connection of connections) connection.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// ---------------------------------------------------------------------------------------------
// A configurable fake router on top of the raw connection.

export interface CommandContext {
  connection: RawTelnetConnection;
  /** Line end this router uses. */
  eol: string;
  mode: 'cli' | 'shell';
}

/** Output text ('\n' line ends, converted to the router's), or a function that writes by itself. */
export type CommandReply = string | ((context: CommandContext) => Promise<string | void>);

export interface FakeRouterOptions {
  /** Sent first, before anything else (e.g. IAC negotiation), each piece as a separate write. */
  greeting?: Array<string | number[]>;
  banner?: string;
  /** null: no login dialogue at all. */
  loginPrompt?: string | null;
  passwordPrompt?: string;
  user?: string;
  password?: string;
  /** Sent as one write after a wrong password; by default `Login incorrect` + a new login prompt together. */
  loginFailure?: string;
  /** Login prompt written in these pieces (separate TCP reads). */
  loginPromptPieces?: string[];
  motd?: string;
  /** When set, login lands in this vendor CLI; `sh` leads to the shell. */
  cliPrompt?: string;
  shellPrompt?: string;
  shellEntry?: string;
  echo?: boolean;
  eol?: '\r\n' | '\n';
  cliCommands?: Record<string, CommandReply>;
  shellCommands?: Record<string, CommandReply>;
}

const SENTINEL = /^(.*); echo "__LANTOP""_END_([0-9a-f]+)_\$\?__"$/;

/** A script for startRawTelnetServer that behaves like a small router. */
export function fakeRouter(options: FakeRouterOptions = {}) {
  const eol = options.eol ?? '\r\n';
  const toEol = (text: string) => text.replace(/\r?\n/g, eol);
  const loginPrompt = options.loginPrompt === undefined ? 'router login: ' : options.loginPrompt;
  const passwordPrompt = options.passwordPrompt ?? 'Password: ';
  const user = options.user ?? 'admin';
  const password = options.password ?? 'secret';
  const echo = options.echo ?? true;
  const shellPrompt = options.shellPrompt ?? '# ';

  return async (connection: RawTelnetConnection): Promise<void> => {
    if (options.greeting !== undefined) await connection.writeSeparately(...options.greeting);
    if (options.banner) await connection.write(toEol(options.banner));
    if (loginPrompt !== null) {
      let isPromptSent = false;
      for (let attempt = 0; ; attempt += 1) {
        if (!isPromptSent) {
          if (options.loginPromptPieces) await connection.writeSeparately(...options.loginPromptPieces);
          else await connection.write(loginPrompt);
        }
        const typedUser = await connection.readLine();
        if (typedUser === null) return;
        if (echo) await connection.write(typedUser + eol);
        await connection.write(passwordPrompt);
        const typedPassword = await connection.readLine();
        if (typedPassword === null) return;
        await connection.write(eol);
        if (typedUser === user && typedPassword === password) break;
        if (attempt >= 2) {
          connection.destroy();
          return;
        }
        // Defect 1: by default the refusal and the next prompt go out in ONE write.
        await connection.write(options.loginFailure ?? `Login incorrect${eol}${loginPrompt}`);
        isPromptSent = options.loginFailure === undefined;
      }
    }
    if (options.motd) await connection.write(toEol(options.motd));
    let mode: 'cli' | 'shell' = options.cliPrompt !== undefined ? 'cli' : 'shell';
    const prompt = () => (mode === 'cli' ? options.cliPrompt! : shellPrompt);
    await connection.write(prompt());
    for (;;) {
      const line = await connection.readLine();
      if (line === null) return;
      connection.takePendingText();
      if (echo) await connection.write(line + eol);
      const context: CommandContext = { connection, eol, mode };
      if (mode === 'cli') {
        if (line === (options.shellEntry ?? 'sh')) {
          mode = 'shell';
          await connection.write(toEol('\n\nBusyBox v1.17.2 built-in shell (ash)\nEnter \'help\' for a list of built-in commands.\n\n'));
        } else if (line !== '') {
          const reply = options.cliCommands?.[line];
          // Not scripted: what a Broadcom CMS CLI answers (Sagemcom F@ST2704R,
          // fixtures/broadcom-cli/sagemcom-fast2704r/unrecognized-command.txt).
          if (reply === undefined) await connection.write(toEol(`telnetd:error:774.006:processInput:406:unrecognized command ${line}\n`));
          else if (!(await writeReply(reply, context, toEol))) return;
        }
      } else {
        const sentinel = SENTINEL.exec(line);
        const command = sentinel ? sentinel[1]! : line;
        if (command === 'exit' && options.cliPrompt !== undefined) {
          mode = 'cli';
        } else if (command === 'exit') {
          connection.destroy();
          return;
        } else if (command === 'false; echo "__LANTOP""_PROBE_$?__"') {
          await connection.write(`__LANTOP_PROBE_1__${eol}`);
        } else if (command !== '') {
          const reply = options.shellCommands?.[command];
          // Not scripted: BusyBox ash's answer (fixtures/busybox/1.35.0/busybox-sh-lanhosts-not-found.txt).
          if (reply === undefined) await connection.write(toEol(`sh: ${command.split(' ')[0]}: not found\n`));
          else if (!(await writeReply(reply, context, toEol))) return;
        }
        if (sentinel) await connection.write(`__LANTOP_END_${sentinel[2]}_0__${eol}`);
      }
      if (connection.socket.destroyed) return;
      await connection.write(prompt());
    }
  };
}

async function writeReply(reply: CommandReply, context: CommandContext, toEol: (text: string) => string): Promise<boolean> {
  if (typeof reply === 'string') {
    await context.connection.write(toEol(reply));
    return true;
  }
  const text = await reply(context);
  if (typeof text === 'string') await context.connection.write(toEol(text));
  return !context.connection.socket.destroyed;
}
