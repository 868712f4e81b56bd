// The text side of one interactive connection (telnet, or an SSH shell() channel), below the prompt
// logic: collects what arrived since the last line sent and waits until it takes a wanted shape.
// Knows nothing about sockets: the owner feeds it decoded text and says when the connection ended;
// it writes through a ShellChannel. Any failed wait destroys the connection (issue 4): leftovers of
// a hung command must never glue onto the next reply.
import { ConnectionLostError, RouterError } from '../errors.js';
import { connectionLostError, type Endpoint } from './errors.js';
import type { TraceEvent } from './session.js';
import { LineEndNormalizer, PAGER, renderTerminalLine } from './text-framing.js';

export interface ShellChannel {
  write(text: string): void;
  /** Tears the connection down; the owner later calls connectionClosed(). */
  destroy(): void;
}

export interface WaitSpec<T> {
  /** Reads `text`; a value ends the wait, undefined keeps waiting, a throw fails it. */
  step: () => T | undefined;
  timeoutMs: number;
  /** Quiet time after step() found its value before the wait ends (a CLI prompt may be followed by more). */
  settleMs?: number;
  onTimeout: () => Error;
  /** The error for a connection that ends mid-wait; undefined: a plain "connection lost". */
  onClose?: () => Error | undefined;
}

interface Waiter {
  evaluate: () => void;
  closed: () => void;
}

/** A CLI that pages this often has no end (each answer is one more screen). */
const MAX_PAGER_ANSWERS = 10_000;
/**
 * Characters of earlier arrivals kept in `recent`: well over a sentinel line (~40) or a prompt
 * (≤ 160 rendered characters, text-framing.ts, a few more with colour escapes), so whatever ends
 * the text lies within it.
 */
const RECENT_KEPT = 1024;

export class ShellStream {
  private raw = '';
  /** The end of `raw` as one flat string: the last arrival and up to RECENT_KEPT characters before it. */
  private recentText = '';
  private readonly normalizer = new LineEndNormalizer();
  private waiter: Waiter | null = null;
  private failure: Error | null = null;
  private hasReceivedAny = false;
  private pagerAnswers = 0;

  constructor(
    private readonly channel: ShellChannel,
    readonly endpoint: Endpoint,
    /** Line end sent after each line. */
    private readonly newline: string,
    private readonly onTrace?: (event: TraceEvent) => void,
  ) {}

  /** What arrived since the last send(): CR LF made LF, lone CRs kept for renderTerminalLine. */
  get text(): string {
    return this.raw;
  }

  /**
   * The end of `text` (the last arrival and up to 1024 characters before it, or all of it) and
   * where it starts in `text`. Framing looks for what ends a reply here: searching all of `text`
   * on every arrival rescanned — and re-joined — a 58 KB listing some 40 times per poll.
   */
  get recent(): { text: string; start: number } {
    return { text: this.recentText, start: this.raw.length - this.recentText.length };
  }

  /** True once anything at all arrived (a silent server times out differently from a strange one). */
  get hasReceived(): boolean {
    return this.hasReceivedAny;
  }

  get isAlive(): boolean {
    return this.failure === null;
  }

  /** True while a reply is awaited (login, command, prompt). */
  get isWaiting(): boolean {
    return this.waiter !== null;
  }

  /** Decoded text from the connection (telnet commands already removed). */
  receive(text: string): void {
    if (text.length === 0) return;
    this.hasReceivedAny = true;
    this.onTrace?.({ kind: 'received', text });
    this.append(this.normalizer.push(text));
    this.waiter?.evaluate();
  }

  /** The connection ended (closed by the router, or destroyed by us). */
  connectionClosed(cause?: unknown): void {
    this.append(this.normalizer.flush());
    this.failure ??= connectionLostError(this.endpoint, 'unexpectedly', cause);
    this.waiter?.closed();
  }

  /** Discards the connection for good: used after any failure, and by close(). */
  destroy(reason?: Error): void {
    this.failure ??=
      reason ??
      new ConnectionLostError(
        `The session with ${this.endpoint.host}:${this.endpoint.port} was discarded after a failure or close.`,
        'Open a new session (the reconnecting session does this by itself).',
      );
    this.channel.destroy();
  }

  /** Sends one line and forgets what arrived before it. A secret line is traced without its text. */
  send(line: string, isSecret = false): void {
    this.raw = '';
    this.recentText = '';
    this.onTrace?.(isSecret ? { kind: 'sent', text: '', isSecret: true } : { kind: 'sent', text: line });
    this.channel.write(line + this.newline);
  }

  /** `--More--` at the end of what arrived: drop it from the text and press space. */
  answerPager(): void {
    const recentStart = this.raw.length - this.recentText.length;
    const inRecent = this.recentText.lastIndexOf('\n');
    // The last line lies within `recent`, unless it is longer than that (rare: then it is cut from all of the text).
    const lineStart = inRecent >= 0 || recentStart === 0 ? recentStart + inRecent + 1 : this.raw.lastIndexOf('\n') + 1;
    const last = renderTerminalLine(lineStart >= recentStart ? this.recentText.slice(lineStart - recentStart) : this.raw.slice(lineStart));
    if (!PAGER.test(last)) return;
    this.pagerAnswers += 1;
    if (this.pagerAnswers > MAX_PAGER_ANSWERS) {
      throw new RouterError('The router kept paging output (--More--) without end.', 'Disable paging on the router CLI and try again.');
    }
    this.raw = this.raw.slice(0, lineStart) + last.replace(PAGER, '');
    this.recentText = this.raw.slice(-RECENT_KEPT);
    this.channel.write(' ');
  }

  private append(piece: string): void {
    if (piece.length === 0) return;
    this.raw += piece;
    this.recentText = (this.recentText.length > RECENT_KEPT ? this.recentText.slice(-RECENT_KEPT) : this.recentText) + piece;
  }

  /**
   * Resolves when step() returns a value (after settleMs of quiet, if given); re-evaluated on every
   * arrival. Rejects on timeout, on close, or when step throws — and then destroys the connection.
   */
  wait<T>(spec: WaitSpec<T>): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.waiter) return Promise.reject(new RouterError('lantop sent two commands at once (bug).', undefined));
    return new Promise<T>((resolve, reject) => {
      let settleTimer: NodeJS.Timeout | undefined;
      const finish = (error: Error | null, value?: T) => {
        clearTimeout(timer);
        clearTimeout(settleTimer);
        this.waiter = null;
        if (error) {
          this.destroy();
          reject(error);
        } else {
          resolve(value as T);
        }
      };
      const timer = setTimeout(() => finish(spec.onTimeout()), spec.timeoutMs);
      this.waiter = {
        evaluate: () => {
          clearTimeout(settleTimer);
          let value: T | undefined;
          try {
            value = spec.step();
          } catch (error) {
            finish(error instanceof Error ? error : new Error(String(error)));
            return;
          }
          if (value === undefined) return;
          if (spec.settleMs) settleTimer = setTimeout(() => finish(null, value), spec.settleMs);
          else finish(null, value);
        },
        closed: () => {
          finish(spec.onClose?.() ?? this.failure ?? connectionLostError(this.endpoint, 'unexpectedly'));
        },
      };
      this.waiter.evaluate();
    });
  }
}
