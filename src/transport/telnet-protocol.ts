// Telnet option negotiation and IAC removal (RFC 854/855, answers per RFC 1143's "don't reply to a
// request that changes nothing"). Pure: bytes in → text bytes + reply bytes out.
//
// Why our own: telnet-client 2.2.14 only negotiates when a chunk *starts* with IAC and walks it in
// 3-byte steps, so IAC in the middle of a chunk leaks into the text and an IAC-only chunk ends a
// reply early (issue 4, defect 4). Here IAC may sit anywhere, even split across chunks.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const SE = 240;
export const NOP = 241;
export const OPTION_ECHO = 1;
export const OPTION_SUPPRESS_GO_AHEAD = 3;

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

type State = 'data' | 'iac' | 'verb' | 'sb' | 'sb-iac';

export class TelnetDecoder {
  private state: State = 'data';
  private verb = 0;
  private readonly remoteEnabled = new Set<number>();
  private readonly localEnabled = new Set<number>();
  private readonly refusals = new Map<number, number>();

  feed(chunk: Uint8Array): TelnetDecoded {
    const data: number[] = [];
    const reply: number[] = [];
    for (const byte of chunk) {
      switch (this.state) {
        case 'data':
          if (byte === IAC) this.state = 'iac';
          else data.push(byte);
          break;
        case 'iac':
          if (byte === IAC) {
            data.push(IAC);
            this.state = 'data';
          } else if (byte >= WILL && byte <= DONT) {
            this.verb = byte;
            this.state = 'verb';
          } else if (byte === SB) {
            this.state = 'sb';
          } else {
            // NOP, GA, AYT, SE without SB…: two-byte commands we ignore.
            this.state = 'data';
          }
          break;
        case 'verb':
          reply.push(...this.answer(this.verb, byte));
          this.state = 'data';
          break;
        case 'sb':
          // Subnegotiations are only sent for options we enabled (none that need them): skip.
          if (byte === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          this.state = byte === SE ? 'data' : 'sb';
          break;
      }
    }
    return { data: Buffer.from(data), reply: Buffer.from(reply) };
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
