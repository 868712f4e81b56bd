// A transcript of the router dialogue for `--trace FILE` and `lantop doctor`: what lantop sent,
// what the router answered, and notes (detection decisions), each line timed from the start. It
// is meant to be attached to a bug report, so the password never appears (the transport marks it
// secret before it gets here; any echo of it is masked too) and router text is sanitised: no
// escape sequences or control bytes reach the file.
import { appendFileSync, writeFileSync } from 'node:fs';
import { sanitizeText } from '../sanitize.js';
import type { TraceEvent } from './session.js';

export const MASK = '********';
const MAX_LINE = 400;

export interface TranscriptSink {
  write(text: string): void;
}

export class Transcript {
  private readonly startedMs: number;
  private pending = '';

  constructor(
    private readonly sink: TranscriptSink,
    private readonly secrets: readonly string[] = [],
    private readonly now: () => number = Date.now,
  ) {
    this.startedMs = now();
  }

  /** A transcript written to a file as it goes (mode 0600: it shows the router's answers). */
  static toFile(path: string, secrets: readonly string[] = [], now: () => number = Date.now): Transcript {
    writeFileSync(path, '', { mode: 0o600 });
    return new Transcript({ write: (text) => appendFileSync(path, text) }, secrets, now);
  }

  /** One event of the wire: sent lines whole, arrivals line by line (partial lines are held). */
  record(event: TraceEvent): void {
    if (event.kind === 'sent') {
      this.flushPending();
      this.line('>', event.isSecret ? MASK : event.text);
      return;
    }
    this.pending += event.text;
    const lines = this.pending.split(/\r\n|\n|\r/);
    this.pending = lines.pop() ?? '';
    for (const line of lines) this.line('<', line);
    if (this.pending.length > MAX_LINE * 4) this.flushPending();
  }

  /** A line of lantop's own (detection decisions, errors): not router text, but sanitised alike. */
  note(text: string): void {
    this.flushPending();
    for (const line of text.split('\n')) this.line('#', line);
  }

  /** Writes out a partial line still held (the prompt, typically). */
  flushPending(): void {
    if (this.pending === '') return;
    const rest = this.pending;
    this.pending = '';
    this.line('<', rest);
  }

  private line(marker: string, text: string): void {
    let clean = sanitizeText(text, MAX_LINE);
    for (const secret of this.secrets) if (secret.length >= 3) clean = clean.split(secret).join(MASK);
    const seconds = ((this.now() - this.startedMs) / 1000).toFixed(3).padStart(8);
    this.sink.write(`${seconds} ${marker} ${clean}\n`);
  }
}
