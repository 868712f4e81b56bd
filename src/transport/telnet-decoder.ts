// The telnet byte stream taken apart (RFC 854/855): data bytes on one side, negotiations,
// subnegotiations and other commands on the other. One decoder for both ends lantop has: its
// client (telnet-protocol.ts answers the negotiations) and the emulated router's server
// (src/emulator/telnet-protocol.ts). Pure: bytes in, bytes and events out.
//
// Why its own: telnet-client 2.2.14 only negotiates when a chunk *starts* with IAC and walks it in
// 3-byte steps, so IAC in the middle of a chunk leaks into the text and an IAC-only chunk ends a
// reply early (issue 4, defect 4). Here IAC may sit anywhere, even split across chunks.

import { DO, DONT, IAC, SB, SE, WILL, WONT } from './telnet-codes.js';

const MAX_SUBNEGOTIATION_BYTES = 512;
const CR = 13;

export type TelnetEvent =
  | { type: 'negotiation'; command: number; option: number }
  | { type: 'subnegotiation'; option: number; data: Buffer }
  | { type: 'command'; command: number };

export interface TelnetDecoded {
  /** Data bytes with every telnet command removed (IAC IAC → one 0xFF byte). */
  data: Buffer;
  events: TelnetEvent[];
}

export interface TelnetStreamDecoderOptions {
  /**
   * Read CR NUL as a bare CR (RFC 854's NVT rule) and drop the NUL. The server side reads typed
   * lines this way; lantop's client leaves it to its line-end normaliser (text-framing.ts).
   */
  isCrNulBareCr?: boolean;
}

type DecoderState = 'data' | 'cr' | 'iac' | 'negotiation' | 'sb' | 'sb-data' | 'sb-iac';

/**
 * Incremental decoder that survives every split: a sequence may arrive one byte per TCP read.
 * Subnegotiation data is kept up to 512 bytes (IAC IAC inside it is one 0xFF); a subnegotiation
 * that never ends swallows what follows, as the protocol says it must.
 */
export class TelnetStreamDecoder {
  private state: DecoderState = 'data';
  private pendingCommand = 0;
  /** Option of the subnegotiation being read; null when IAC came straight after SB. */
  private sbOption: number | null = null;
  private sbData: number[] = [];
  private readonly isCrNulBareCr: boolean;

  constructor(options: TelnetStreamDecoderOptions = {}) {
    this.isCrNulBareCr = options.isCrNulBareCr ?? false;
  }

  feed(chunk: Uint8Array): TelnetDecoded {
    // Most chunks are plain text: no per-byte work for them.
    if (this.state === 'data' && !chunk.includes(IAC) && !(this.isCrNulBareCr && chunk.includes(CR))) {
      return { data: Buffer.from(chunk), events: [] };
    }
    const data: number[] = [];
    const events: TelnetEvent[] = [];
    for (const byte of chunk) {
      switch (this.state) {
        case 'data':
        case 'cr':
          if (byte === IAC) {
            this.state = 'iac';
          } else if (this.state === 'cr' && byte === 0) {
            this.state = 'data'; // CR NUL is a bare CR
          } else {
            data.push(byte);
            this.state = byte === CR && this.isCrNulBareCr ? 'cr' : 'data';
          }
          break;
        case 'iac':
          if (byte === IAC) {
            data.push(IAC);
            this.state = 'data';
          } else if (byte === WILL || byte === WONT || byte === DO || byte === DONT) {
            this.pendingCommand = byte;
            this.state = 'negotiation';
          } else if (byte === SB) {
            this.state = 'sb';
          } else {
            // NOP, GA, AYT, an SE without SB…
            events.push({ type: 'command', command: byte });
            this.state = 'data';
          }
          break;
        case 'negotiation':
          events.push({ type: 'negotiation', command: this.pendingCommand, option: byte });
          this.state = 'data';
          break;
        case 'sb':
          this.sbData = [];
          if (byte === IAC) {
            this.sbOption = null;
            this.state = 'sb-iac';
          } else {
            this.sbOption = byte;
            this.state = 'sb-data';
          }
          break;
        case 'sb-data':
          if (byte === IAC) this.state = 'sb-iac';
          else if (this.sbData.length < MAX_SUBNEGOTIATION_BYTES) this.sbData.push(byte);
          break;
        case 'sb-iac':
          if (byte === SE) {
            if (this.sbOption !== null) events.push({ type: 'subnegotiation', option: this.sbOption, data: Buffer.from(this.sbData) });
            this.state = 'data';
          } else {
            // IAC IAC inside SB is a data 0xFF; anything else is a protocol error we tolerate.
            if (byte === IAC && this.sbData.length < MAX_SUBNEGOTIATION_BYTES) this.sbData.push(IAC);
            this.state = 'sb-data';
          }
          break;
      }
    }
    return { data: Buffer.from(data), events };
  }
}
