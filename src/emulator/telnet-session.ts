// One telnet connection to the emulated router: option negotiation, the line discipline (echo,
// backspace, ^C, ^D), the firmware's login dialogue, command lines handed to the Broadcom CLI or
// the BusyBox shell, and the fault knobs applied to everything sent back (issue 4). The server
// (server.ts) accepts the socket and owns what all connections share.

import type net from 'node:net';
import type { EmulatedRouterOptions, EmulatorStats } from './emulator-options.js';
import { runBroadcomCli, runBusyboxShell, type CommandOutcome, type ShellSession } from './commands.js';
import { createOpenWrtSession, OPENWRT_LOGIN_BANNER, openWrtPrompt, runOpenWrtShell } from './openwrt-fw4.js';
import type { RouterModel } from './model.js';
import { chance, nextInt, type Prng } from './prng.js';
import {
  GA, IAC, NOP, OPTION_ECHO, OPTION_SUPPRESS_GO_AHEAD, OPTION_TERMINAL_TYPE, OPTION_WINDOW_SIZE, WILL,
} from '../transport/telnet-codes.js';
import { TelnetStreamDecoder } from '../transport/telnet-decoder.js';
import {
  answerTelnetEvent, createNegotiationState, escapeIac, openingNegotiation, type NegotiationPolicy, type NegotiationState,
} from './telnet-protocol.js';

const MAX_LINE_BYTES = 4096;
// OpenWrt's BusyBox ash edits lines of CONFIG_FEATURE_EDITING_MAX_LEN 512 and keeps 510 bytes of
// them (package/utils/busybox/Config-defaults.in; src/router/firmware/line-budget.ts): the rest of
// a longer line is dropped as it is typed, while backspace and DEL still erase.
const OPENWRT_LINE_BYTES = 510;
const MAX_FAILURES = 3;
const COMMAND_LOG_SIZE = 200;

/** What every connection of one emulated router shares: its settings, model and counters. */
export interface SessionContext {
  options: Required<Pick<EmulatedRouterOptions, 'user' | 'password' | 'lineEnding' | 'echo' | 'loginFailureOneWrite' | 'loginFailureGapMs' | 'loginFailureDelayMs' | 'shellPrompt' | 'chunkDelayMs'>> & {
    splitWrites: boolean;
    iacInterleave: boolean;
  };
  model: RouterModel;
  stats: EmulatorStats;
  sync(): void;
  reboot(): Promise<void>;
}

// Typed bytes that are not UTF-8 (a 0xFF sent as IAC IAC, Latin-1 from an old client) survive the
// round trip through a command and back as the same bytes, as they would through BusyBox: they are
// carried as lone surrogates U+DC80–U+DCFF in between (Python's "surrogateescape").
const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function decodeLine(bytes: Buffer): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    let out = '';
    for (const byte of bytes) out += byte < 0x80 ? String.fromCharCode(byte) : String.fromCharCode(0xdc00 + byte);
    return out;
  }
}

function encodeText(text: string): Buffer {
  if (!/[\udc80-\udcff]/.test(text)) return Buffer.from(text, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch.length === 1 && code >= 0xdc80 && code <= 0xdcff) {
      parts.push(Buffer.from(run, 'utf8'), Buffer.from([code - 0xdc00]));
      run = '';
    } else run += ch;
  }
  parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

type SessionState = 'login-user' | 'login-password' | 'cli' | 'shell' | 'closed';

export class TelnetSession {
  private readonly decoder = new TelnetStreamDecoder({ isCrNulBareCr: true });
  private readonly negotiation: NegotiationState = createNegotiationState();
  private readonly policy: NegotiationPolicy;
  private state: SessionState = 'login-user';
  private line: number[] = [];
  private lastWasCr = false;
  private failures = 0;
  private attemptedUser = '';
  private readonly shell: ShellSession = { lastStatus: 0 };
  private readonly openwrt = createOpenWrtSession();
  private queue: Promise<void> = Promise.resolve();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly socket: net.Socket,
    private readonly shared: SessionContext,
    private readonly prng: Prng,
  ) {
    this.policy = {
      localOptions: new Set(shared.options.echo ? [OPTION_ECHO, OPTION_SUPPRESS_GO_AHEAD] : [OPTION_SUPPRESS_GO_AHEAD]),
      remoteOptions: new Set([OPTION_TERMINAL_TYPE, OPTION_WINDOW_SIZE]),
    };
    socket.setNoDelay(true);
    socket.on('error', () => this.destroy());
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
  }

  start(): void {
    this.sendRaw(openingNegotiation(this.negotiation, this.policy));
    const model = this.shared.model;
    // The banner a Comtrend BCM96328 prints (fixtures/broadcom-cli/comtrend-bcm96328/banner.txt).
    if (model.flavour === 'broadcom') this.send(`${model.routerName} Broadband Router\nLogin: `);
    else this.send(`\n${model.routerName} login: `);
  }

  destroy(): void {
    this.state = 'closed';
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (!this.socket.destroyed) this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    const { data, events } = this.decoder.feed(chunk);
    for (const event of events) {
      const answer = answerTelnetEvent(this.negotiation, this.policy, event);
      if (answer.length > 0) this.sendRaw(answer);
    }
    const isEchoing = this.shared.options.echo && this.negotiation.local.get(OPTION_ECHO) !== 'off';
    let echo: number[] = [];
    const flushEcho = (): void => {
      if (echo.length > 0) this.sendRaw(escapeIac(Buffer.from(echo)));
      echo = [];
    };
    for (const byte of data) {
      if (this.isClosed()) return;
      if (byte === 10 && this.lastWasCr) {
        this.lastWasCr = false;
        continue;
      }
      this.lastWasCr = byte === 13;
      if (byte === 13 || byte === 10) {
        flushEcho();
        const text = decodeLine(Buffer.from(this.line));
        this.line = [];
        if (isEchoing || this.state === 'login-password') this.send('\n');
        this.onLine(text);
      } else if (byte === 8 || byte === 127) {
        if (this.line.length > 0) {
          this.line.pop();
          if (isEchoing && this.state !== 'login-password') echo.push(8, 32, 8);
        }
      } else if (byte === 3) {
        this.line = [];
        this.openwrt.pending = null;
        flushEcho();
        if (this.state === 'cli' || this.state === 'shell') this.send(`^C\n${this.prompt()}`);
      } else if (byte === 4) {
        if (this.line.length === 0 && this.state === 'shell') {
          flushEcho();
          this.onLine('exit');
        }
      } else if (byte >= 32 || byte === 9) {
        if (this.line.length < (this.shared.model.flavour === 'openwrt-fw4' && this.state === 'shell' ? OPENWRT_LINE_BYTES : MAX_LINE_BYTES)) {
          this.line.push(byte);
          if (isEchoing && this.state !== 'login-password') echo.push(byte);
        }
      }
    }
    flushEcho();
  }

  private isClosed(): boolean {
    return this.state === 'closed';
  }

  private prompt(): string {
    if (this.state === 'cli') return ' > ';
    if (this.shared.model.flavour === 'openwrt-fw4') return openWrtPrompt(this.openwrt, this.shared.options.shellPrompt);
    if (this.shared.model.flavour === 'busybox') return this.shared.options.shellPrompt;
    return '# ';
  }

  private onLine(text: string): void {
    const { options, model, stats } = this.shared;
    switch (this.state) {
      case 'login-user':
        this.attemptedUser = text;
        this.send('Password: ');
        this.state = 'login-password';
        return;
      case 'login-password': {
        if (this.attemptedUser === options.user && text === options.password) {
          stats.logins++;
          this.failures = 0;
          if (model.flavour === 'broadcom') {
            this.state = 'cli';
            this.send(this.prompt());
          } else if (model.flavour === 'openwrt-fw4') {
            this.state = 'shell';
            this.send(OPENWRT_LOGIN_BANNER + this.prompt());
          } else {
            this.state = 'shell';
            this.send(`\n\nBusyBox v1.36.1 (2023-10-09 21:45:35 UTC) built-in shell (ash)\n\n OpenWrt 23.05.0, r23497-6637af95aa\n -----------------------------------------------------\n${this.prompt()}`);
          }
          return;
        }
        stats.failedLogins++;
        this.failures++;
        this.state = 'login-user';
        const incorrect = model.flavour === 'broadcom' ? 'Login incorrect. Try again.\n' : '\nLogin incorrect\n';
        const loginPrompt = model.flavour === 'broadcom' ? 'Login: ' : `${model.routerName} login: `;
        if (options.loginFailureDelayMs > 0) this.pause(options.loginFailureDelayMs);
        if (this.failures >= MAX_FAILURES) {
          this.state = 'closed';
          this.send(model.flavour === 'broadcom' ? `${incorrect}Authorization failed after trying ${MAX_FAILURES} times!!!.\n` : incorrect);
          this.endAfterFlush();
          return;
        }
        if (options.loginFailureOneWrite) this.send(incorrect + loginPrompt);
        else {
          this.send(incorrect);
          this.pause(options.loginFailureGapMs);
          this.send(loginPrompt);
        }
        return;
      }
      case 'cli':
      case 'shell': {
        stats.commands.push(text);
        if (stats.commands.length > COMMAND_LOG_SIZE) stats.commands.shift();
        this.shared.sync();
        const outcome: CommandOutcome =
          this.state === 'cli'
            ? runBroadcomCli(model, text)
            : model.flavour === 'openwrt-fw4'
              ? runOpenWrtShell(model, this.openwrt, text)
              : runBusyboxShell(model, this.shell, text, model.flavour);
        if (outcome.next === 'logout') {
          this.state = 'closed';
          this.send(outcome.output);
          this.endAfterFlush();
        } else if (outcome.next === 'reboot') {
          this.state = 'closed';
          this.send(outcome.output);
          this.queue = this.queue.then(() => this.shared.reboot());
        } else {
          this.state = outcome.next;
          this.send(outcome.output + this.prompt());
        }
        return;
      }
      case 'closed':
        return;
    }
  }

  // ---- output -------------------------------------------------------------------------------

  /** Text with '\n' line ends, converted to the wire's line end, UTF-8, IAC escaped, faults applied. */
  private send(text: string): void {
    if (text === '') return;
    const wire = text.replace(/\n/g, this.shared.options.lineEnding);
    const bytes = encodeText(wire);
    const { splitWrites, iacInterleave } = this.shared.options;
    if (!splitWrites && !iacInterleave) {
      this.write(escapeIac(bytes));
      return;
    }
    // Cut the unescaped text into pieces so an injected IAC never lands inside an escaped IAC IAC.
    const pieces: Buffer[] = [];
    let at = 0;
    while (at < bytes.length) {
      const size = splitWrites ? nextInt(this.prng, 1, 16) : nextInt(this.prng, 8, 200);
      pieces.push(escapeIac(bytes.subarray(at, at + size)));
      at += size;
    }
    pieces.forEach((piece, i) => {
      if (iacInterleave && i > 0 && chance(this.prng, 0.3)) {
        const sequence = this.injectedSequence();
        // Sometimes alone in its own TCP write, sometimes glued to the text around it.
        if (chance(this.prng, 0.5)) {
          if (!splitWrites) this.pause(this.shared.options.chunkDelayMs);
          this.write(sequence);
          this.pause(this.shared.options.chunkDelayMs);
        } else piece = Buffer.concat([sequence, piece]);
      }
      this.write(piece);
      if (splitWrites && i < pieces.length - 1) this.pause(this.shared.options.chunkDelayMs);
    });
  }

  private injectedSequence(): Buffer {
    const choices: number[][] = [[IAC, NOP], [IAC, GA], [IAC, WILL, OPTION_SUPPRESS_GO_AHEAD]];
    if (this.negotiation.local.get(OPTION_ECHO) === 'on') choices.push([IAC, WILL, OPTION_ECHO]);
    return Buffer.from(choices[nextInt(this.prng, 0, choices.length - 1)] as number[]);
  }

  /** Negotiation replies and echo: not chunked, but still queued behind earlier output. */
  private sendRaw(bytes: Buffer): void {
    if (this.shared.options.splitWrites && bytes.length > 1) {
      // Negotiation split across TCP writes too: "IAC WILL" | "ECHO IAC" | …
      let at = 0;
      while (at < bytes.length) {
        const size = nextInt(this.prng, 1, 4);
        this.write(bytes.subarray(at, at + size));
        at += size;
        if (at < bytes.length) this.pause(this.shared.options.chunkDelayMs);
      }
      return;
    }
    this.write(bytes);
  }

  private write(bytes: Buffer): void {
    const copy = Buffer.from(bytes);
    this.queue = this.queue.then(() => {
      if (this.socket.destroyed || !this.socket.writable) return;
      this.socket.write(copy);
    });
  }

  private pause(ms: number): void {
    if (ms <= 0) return;
    this.queue = this.queue.then(
      () =>
        new Promise<void>((resolve) => {
          if (this.socket.destroyed) return resolve();
          const timer = setTimeout(() => {
            this.timers.delete(timer);
            resolve();
          }, ms);
          this.timers.add(timer);
        }),
    );
  }

  private endAfterFlush(): void {
    this.queue = this.queue.then(() => {
      if (!this.socket.destroyed) this.socket.end();
    });
  }
}
