// A deliberately small telnet client for the lab's self-tests: a raw net.Socket, minimal option
// negotiation (accept the server's ECHO/SGA, refuse everything else), and expect(). It lets the lab
// prove its telnetd + CLI work without depending on lantop's transport (which is under test elsewhere);
// only the table of telnet codes is shared.
import net from 'node:net';
import { DO, DONT, IAC, OPTION_ECHO, OPTION_SUPPRESS_GO_AHEAD, SB, SE, WILL, WONT } from '../../src/transport/telnet-codes.js';

export class RawTelnet {
  private readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  /** Everything received so far (telnet commands removed), as latin1 so bytes survive 1:1. */
  transcript = '';
  /** Each TCP read as it arrived (ms since connect, bytes): how a slow router delivers its output. */
  readonly arrivals: Array<{ atMs: number; bytes: number }> = [];
  /** The option commands the server sent, in order (e.g. { verb: 'DO', option: 24 }). */
  readonly negotiation: Array<{ verb: 'WILL' | 'WONT' | 'DO' | 'DONT'; option: number }> = [];
  /** How many CR NUL pairs arrived (NVT's bare carriage return, RFC 854; decoded to CR). */
  crNulCount = 0;
  closed = false;
  private readonly startedAt = Date.now();
  private lastWasCr = false;
  private waiters: Array<() => void> = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => { /* close follows */ });
  }

  static connect(host: string, port: number, timeoutMs = 5_000): Promise<RawTelnet> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`telnet connect ${host}:${port} timed out`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(new RawTelnet(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  private onData(chunk: Buffer): void {
    this.arrivals.push({ atMs: Date.now() - this.startedAt, bytes: chunk.length });
    this.buffer = Buffer.concat([this.buffer, chunk]);
    const text: number[] = [];
    let i = 0;
    while (i < this.buffer.length) {
      const byte = this.buffer[i]!;
      if (byte !== IAC) {
        if (byte === 0 && this.lastWasCr) this.crNulCount++;
        else text.push(byte);
        this.lastWasCr = byte === 13;
        i++;
        continue;
      }
      const command = this.buffer[i + 1];
      if (command === undefined) break; // incomplete: wait for more
      if (command === IAC) {
        text.push(IAC);
        i += 2;
      } else if (command === WILL || command === WONT || command === DO || command === DONT) {
        const option = this.buffer[i + 2];
        if (option === undefined) break;
        this.negotiation.push({ verb: command === WILL ? 'WILL' : command === WONT ? 'WONT' : command === DO ? 'DO' : 'DONT', option });
        if (command === WILL) this.socket.write(Buffer.from([IAC, option === OPTION_ECHO || option === OPTION_SUPPRESS_GO_AHEAD ? DO : DONT, option]));
        if (command === DO) this.socket.write(Buffer.from([IAC, WONT, option]));
        i += 3;
      } else if (command === SB) {
        const end = this.buffer.indexOf(Buffer.from([IAC, SE]), i);
        if (end < 0) break;
        i = end + 2;
      } else {
        i += 2;
      }
    }
    this.buffer = this.buffer.subarray(i);
    this.transcript += Buffer.from(text).toString('latin1');
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  /** Waits until the transcript after `from` matches; returns the text from `from` up to the match end. */
  async expect(pattern: RegExp, options: { timeoutMs?: number; from?: number } = {}): Promise<string> {
    const from = options.from ?? 0;
    const deadline = Date.now() + (options.timeoutMs ?? 5_000);
    for (;;) {
      const match = pattern.exec(this.transcript.slice(from));
      if (match) return this.transcript.slice(from, from + match.index + match[0].length);
      if (this.closed) throw new Error(`telnet closed before ${pattern}; got: ${JSON.stringify(this.transcript.slice(from).slice(-500))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`telnet: no ${pattern} within timeout; got: ${JSON.stringify(this.transcript.slice(from).slice(-500))}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends a line, waits for `prompt` after it, returns what came between (echo included). */
  async command(line: string | Buffer, prompt: RegExp, timeoutMs = 5_000): Promise<string> {
    const from = this.transcript.length;
    this.send(line);
    return this.expect(prompt, { from, timeoutMs });
  }

  send(line: string | Buffer): void {
    const bytes = typeof line === 'string' ? Buffer.from(line, 'latin1') : line;
    this.socket.write(Buffer.concat([bytes, Buffer.from('\r\n')]));
  }

  waitClosed(timeoutMs = 5_000): Promise<boolean> {
    if (this.closed) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Logs in to the lab's Broadcom CLI; resolves when the ` > ` prompt is shown. */
export async function loginCli(host: string, port: number, user: string, password: string): Promise<RawTelnet> {
  const telnet = await RawTelnet.connect(host, port);
  try {
    await telnet.expect(/Login: $/);
    telnet.send(user);
    await telnet.expect(/Password: $/);
    const from = telnet.transcript.length;
    telnet.send(password);
    await telnet.expect(/ > $/, { from });
    return telnet;
  } catch (error) {
    telnet.close();
    throw error;
  }
}

/** Logs in through any lab CLI's dialogue (lab.dialogue); resolves once its prompt is shown. */
export async function loginRouter(
  host: string, port: number, user: string, password: string,
  dialogue: { loginPrompt: RegExp; passwordPrompt: RegExp; prompt: RegExp },
): Promise<RawTelnet> {
  const telnet = await RawTelnet.connect(host, port);
  try {
    await telnet.expect(dialogue.loginPrompt);
    telnet.send(user);
    await telnet.expect(dialogue.passwordPrompt, { from: telnet.transcript.length });
    const from = telnet.transcript.length;
    telnet.send(password);
    await telnet.expect(dialogue.prompt, { from });
    return telnet;
  } catch (error) {
    telnet.close();
    throw error;
  }
}
