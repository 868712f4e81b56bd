// The floor of a poll on the lab router: the same listing read by the smallest client that can read
// it — a bare socket (telnet) or a bare ssh2 shell channel — that only looks for the end marker in
// the last bytes. What it takes beyond the router's own listing is the router's remote-login path
// (pty, telnetd or dropbear, TCP, and for SSH ssh2's decryption): no client, lantop included, reads
// the listing faster over that connection.
import net from 'node:net';
import { Client, type ClientChannel } from 'ssh2';
import { withTimeout } from './util.js';

const IAC = 255;
const NOP = Buffer.from([IAC, 241]);
const [WILL, WONT, DO, DONT, SB, SE] = [251, 252, 253, 254, 250, 240];
const PROMPT = /[#>$] ?$/;

export interface RawReader {
  /** Runs the command once; ms from sending it to its end marker and the prompt after it. */
  time(command: string): Promise<number>;
  close(): void;
}

export interface RawLogin {
  host: string;
  port: number;
  user: string;
  password: string;
  /** From a vendor CLI to the shell (`sh`); null when the login lands in a shell. */
  enter: string | null;
}

/** What arrived, for waiting on: the last 512 characters (latin1) and one waiter. */
class Tail {
  text = '';
  private want: RegExp | null = null;
  private done: (() => void) | null = null;

  push(text: string): boolean {
    this.text = (this.text + text).slice(-512);
    if (this.want !== null && this.want.test(this.text)) {
      const done = this.done!;
      this.want = null;
      this.done = null;
      done();
      return true;
    }
    return false;
  }

  get isWaiting(): boolean {
    return this.want !== null;
  }

  until(want: RegExp, what: string): Promise<void> {
    const p = new Promise<void>((resolve) => {
      this.want = want;
      this.done = resolve;
    });
    if (want.test(this.text)) this.push('');
    return withTimeout(p, 10_000, `raw reader: ${what}`);
  }
}

let serial = 0;
function marked(command: string, tail: Tail): { line: string; end: RegExp } {
  const n = ++serial;
  tail.text = '';
  return { line: `${command}; echo "__RAW""_END_${n}_$?__"`, end: new RegExp(`__RAW_END_${n}_\\d+__\\r?\\n[^\\n]*[#>$] ?$`) };
}

/** Data bytes of a chunk; negotiations answered (ECHO and SGA from the server accepted, all else refused). */
function telnetData(socket: net.Socket, chunk: Buffer): Buffer {
  if (!chunk.includes(IAC)) return chunk;
  const data: number[] = [];
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i]!;
    if (byte !== IAC) {
      data.push(byte);
      continue;
    }
    const verb = chunk[++i];
    if (verb === IAC) data.push(IAC);
    else if (verb === WILL || verb === WONT || verb === DO || verb === DONT) {
      const option = chunk[++i]!;
      if (verb === WILL) socket.write(Buffer.from([IAC, option === 1 || option === 3 ? DO : DONT, option]));
      else if (verb === DO) socket.write(Buffer.from([IAC, WONT, option]));
    } else if (verb === SB) {
      while (i < chunk.length && !(chunk[i] === IAC && chunk[i + 1] === SE)) i++;
      i++;
    }
  }
  return Buffer.from(data);
}

export async function rawTelnet(login: RawLogin): Promise<RawReader> {
  const socket = net.connect({ host: login.host, port: login.port });
  socket.setNoDelay(true);
  const tail = new Tail();
  socket.on('data', (chunk: Buffer) => {
    const isDone = tail.push(telnetData(socket, chunk).toString('latin1'));
    // As lantop does: BusyBox telnetd's Nagle holds each small segment until our delayed ACK
    // (~40 ms); a no-op packet carries the ACK at once (without it the floor is ~17 ms).
    if (!isDone && tail.isWaiting && socket.writable) socket.write(NOP);
  });
  socket.on('error', () => undefined);
  await withTimeout(new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject)), 10_000, 'raw telnet connect');
  const send = (line: string) => socket.write(`${line}\r\n`);
  await tail.until(/(?:login|user ?name)[ \t]*:[ \t]*$/i, 'login prompt');
  send(login.user);
  await tail.until(/password[ \t]*:[ \t]*$/i, 'password prompt');
  send(login.password);
  await tail.until(PROMPT, 'prompt');
  if (login.enter !== null) {
    tail.text = '';
    send(login.enter);
    await tail.until(/# ?$/, 'shell prompt');
  }
  return timedReader(tail, send, () => socket.destroy());
}

/** Times one marked command: from the write to its end marker in the tail. */
function timedReader(tail: Tail, send: (line: string) => void, close: () => void): RawReader {
  return {
    async time(command) {
      const { line, end } = marked(command, tail);
      const wait = tail.until(end, command);
      const t0 = performance.now();
      send(line);
      await wait;
      return performance.now() - t0;
    },
    close,
  };
}

export async function rawSsh(login: RawLogin): Promise<RawReader> {
  const client = new Client();
  client.on('error', () => undefined);
  await withTimeout(new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host: login.host, port: login.port, username: login.user, password: login.password, hostVerifier: () => true, readyTimeout: 10_000 });
  }), 15_000, 'raw ssh connect');
  const channel = await new Promise<ClientChannel>((resolve, reject) => {
    client.shell({ term: 'vt100', cols: 512, rows: 1000 }, (error, stream) => (error ? reject(error) : resolve(stream)));
  });
  const tail = new Tail();
  channel.on('data', (chunk: Buffer) => tail.push(chunk.toString('latin1')));
  channel.stderr.on('data', (chunk: Buffer) => tail.push(chunk.toString('latin1')));
  channel.write('\r');
  await tail.until(/# ?$/, 'shell prompt');
  return timedReader(tail, (line) => channel.write(`${line}\r`), () => client.end());
}
