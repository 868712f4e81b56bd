// Telnet option negotiation for lantop's client (RFC 854/855, answers per RFC 1143's "don't reply
// to a request that changes nothing"). Pure: bytes in → text bytes + reply bytes out. Taking the
// stream apart is telnet-decoder.ts, shared with the emulated router's server.

import { DO, DONT, IAC, OPTION_ECHO, OPTION_SUPPRESS_GO_AHEAD, WILL, WONT } from './telnet-codes.js';
import { TelnetStreamDecoder } from './telnet-decoder.js';

/** Options we let the server perform: it echoes, and it needs no go-ahead. */
const ACCEPTED_REMOTE = new Set([OPTION_ECHO, OPTION_SUPPRESS_GO_AHEAD]);
/** Options we perform ourselves when asked. */
const ACCEPTED_LOCAL = new Set([OPTION_SUPPRESS_GO_AHEAD]);
/** A misbehaving server that re-asks forever gets at most this many refusals per option. */
const MAX_REFUSALS_PER_OPTION = 3;

export interface TelnetDecoded {
  /** Data bytes with every telnet command removed (IAC IAC → one 0xFF byte). */
  data: Buffer;
  /** Negotiation answers to send back, possibly empty. */
  reply: Buffer;
}

/** The client's side of a connection: what the server sent, minus telnet commands, and what to answer. */
export class TelnetDecoder {
  private readonly stream = new TelnetStreamDecoder();
  private readonly remoteEnabled = new Set<number>();
  private readonly localEnabled = new Set<number>();
  private readonly refusals = new Map<number, number>();

  feed(chunk: Uint8Array): TelnetDecoded {
    const { data, events } = this.stream.feed(chunk);
    if (events.length === 0) return { data, reply: Buffer.alloc(0) };
    const reply: number[] = [];
    // Subnegotiations are only sent for options we enabled (none that need them), and other
    // commands (NOP, GA, AYT…) need no answer.
    for (const event of events) if (event.type === 'negotiation') reply.push(...this.answer(event.command, event.option));
    return { data, reply: Buffer.from(reply) };
  }

  private answer(verb: number, option: number): number[] {
    switch (verb) {
      case WILL:
        if (this.remoteEnabled.has(option)) return [];
        if (ACCEPTED_REMOTE.has(option)) {
          this.remoteEnabled.add(option);
          return [IAC, DO, option];
        }
        return this.refuse(DONT, option);
      case WONT:
        if (!this.remoteEnabled.has(option)) return [];
        this.remoteEnabled.delete(option);
        return [IAC, DONT, option];
      case DO:
        if (this.localEnabled.has(option)) return [];
        if (ACCEPTED_LOCAL.has(option)) {
          this.localEnabled.add(option);
          return [IAC, WILL, option];
        }
        return this.refuse(WONT, option);
      case DONT:
        if (!this.localEnabled.has(option)) return [];
        this.localEnabled.delete(option);
        return [IAC, WONT, option];
      default:
        return [];
    }
  }

  private refuse(verb: number, option: number): number[] {
    const count = (this.refusals.get(option) ?? 0) + 1;
    this.refusals.set(option, count);
    return count > MAX_REFUSALS_PER_OPTION ? [] : [IAC, verb, option];
  }
}
