// Server-Sent Events for the live page (issue 17, docs/web.md): one `usage` event per poll per router
// (the `usage --json` document), a comment every 15 s so proxies and browsers keep the stream open,
// and `retry:` so a browser reconnects after 3 s. A client that connects gets the latest event of
// each router at once. At most 32 clients: a household, not a broadcast. The socket is behind
// SseClient, so this file knows nothing of HTTP (app/serve.ts adapts its responses).

export const SSE_HEARTBEAT_MS = 15_000;
export const SSE_RETRY_MS = 3_000;
export const SSE_MAX_CLIENTS = 32;
/** A client whose socket buffers more than this is too slow to follow: it is dropped (it reconnects). */
export const SSE_MAX_BUFFERED_BYTES = 4 * 1024 * 1024;

export interface SseClient {
  /** Writes text to the stream. */
  write(text: string): void;
  /** Bytes written but not yet flushed to the socket. */
  readonly bufferedBytes: number;
  /** Ends the stream (the hub calls it on close or when dropping the client). */
  end(): void;
}

export interface SseTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const REAL_TIMERS: SseTimers = {
  setInterval: (fn, ms) => {
    const t = setInterval(fn, ms);
    t.unref();
    return t;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** One event as the wire carries it; every line of `data` gets its own `data:` field. */
export function formatSseEvent(event: string, data: string): string {
  const name = event.replace(/[\r\n]/g, '');
  const lines = data.split(/\r\n|\r|\n/).map((line) => `data: ${line}\n`).join('');
  return `event: ${name}\n${lines}\n`;
}

export const SSE_HEARTBEAT = ': heartbeat\n\n';

export class SseHub {
  private readonly clients = new Set<SseClient>();
  /** The last event per key (router), replayed to a client that connects. */
  private readonly latest = new Map<string, string>();
  private heartbeat: unknown = null;
  private readonly timers: SseTimers;
  private readonly maxClients: number;
  private readonly heartbeatMs: number;
  private readonly retryMs: number;
  private isClosed = false;

  constructor(options: { maxClients?: number; heartbeatMs?: number; retryMs?: number; timers?: SseTimers } = {}) {
    this.maxClients = options.maxClients ?? SSE_MAX_CLIENTS;
    this.heartbeatMs = options.heartbeatMs ?? SSE_HEARTBEAT_MS;
    this.retryMs = options.retryMs ?? SSE_RETRY_MS;
    this.timers = options.timers ?? REAL_TIMERS;
  }

  get size(): number {
    return this.clients.size;
  }

  get isFull(): boolean {
    return this.clients.size >= this.maxClients;
  }

  /** Adds a client (false: the hub is full or closed, and the caller answers 503). */
  add(client: SseClient): boolean {
    if (this.isClosed || this.isFull) return false;
    this.clients.add(client);
    let text = `retry: ${this.retryMs}\n\n`;
    for (const event of this.latest.values()) text += event;
    client.write(text);
    if (this.heartbeat === null) this.heartbeat = this.timers.setInterval(() => this.send(SSE_HEARTBEAT), this.heartbeatMs);
    return true;
  }

  /** Forgets a client whose connection closed. */
  remove(client: SseClient): void {
    if (!this.clients.delete(client)) return;
    if (this.clients.size === 0) this.stopHeartbeat();
  }

  /** Sends an event to every client and keeps it as `key`'s latest. */
  publish(key: string, event: string, data: string): void {
    const text = formatSseEvent(event, data);
    this.latest.set(key, text);
    this.send(text);
  }

  /** Ends every stream; later clients are refused. */
  close(): void {
    this.isClosed = true;
    this.stopHeartbeat();
    for (const client of [...this.clients]) this.drop(client);
  }

  private send(text: string): void {
    for (const client of [...this.clients]) {
      if (client.bufferedBytes > SSE_MAX_BUFFERED_BYTES) {
        this.drop(client);
        continue;
      }
      client.write(text);
    }
  }

  private drop(client: SseClient): void {
    this.remove(client);
    client.end();
  }

  private stopHeartbeat(): void {
    if (this.heartbeat !== null) this.timers.clearInterval(this.heartbeat);
    this.heartbeat = null;
  }
}
