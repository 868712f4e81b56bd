// Telnet protocol for the emulated router's server side (RFC 854/855, option negotiation after the
// RFC 1143 rules that keep both ends out of loops, TTYPE RFC 1091, NAWS RFC 1073). Pure: bytes in,
// bytes and events out; the server owns the socket.

export const IAC = 255;
export const DONT = 254;
export const DO = 253;
export const WONT = 252;
export const WILL = 251;
export const SB = 250;
export const GA = 249;
export const NOP = 241;
export const SE = 240;

export const OPT_ECHO = 1;
export const OPT_SGA = 3;
export const OPT_TTYPE = 24;
export const OPT_NAWS = 31;

const TTYPE_IS = 0;
const TTYPE_SEND = 1;
const MAX_SUBNEGOTIATION_BYTES = 512;

export type TelnetEvent =
  | { type: 'negotiation'; command: number; option: number }
  | { type: 'subnegotiation'; option: number; data: Buffer }
  | { type: 'command'; command: number };

type ParserState = 'data' | 'iac' | 'negotiation' | 'sb' | 'sb-data' | 'sb-iac' | 'cr';

/**
 * Incremental decoder of the client's byte stream. Survives every split: a sequence may arrive one
 * byte per TCP read. Removes all IAC sequences from the data, turns IAC IAC into 0xFF and CR NUL
 * into CR (RFC 854), and reports negotiations and subnegotiations as events.
 */
export class TelnetDecoder {
  private state: ParserState = 'data';
  private pendingCommand = 0;
  private sbOption = 0;
  private sbData: number[] = [];

  feed(chunk: Uint8Array): { data: Buffer; events: TelnetEvent[] } {
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
            this.state = byte === 13 ? 'cr' : 'data';
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
            events.push({ type: 'command', command: byte });
            this.state = 'data';
          }
          break;
        case 'negotiation':
          events.push({ type: 'negotiation', command: this.pendingCommand, option: byte });
          this.state = 'data';
          break;
        case 'sb':
          this.sbOption = byte;
          this.sbData = [];
          this.state = 'sb-data';
          break;
        case 'sb-data':
          if (byte === IAC) this.state = 'sb-iac';
          else if (this.sbData.length < MAX_SUBNEGOTIATION_BYTES) this.sbData.push(byte);
          break;
        case 'sb-iac':
          if (byte === SE) {
            events.push({ type: 'subnegotiation', option: this.sbOption, data: Buffer.from(this.sbData) });
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

/** Doubles every 0xFF so data bytes are never read as IAC (RFC 854). */
export function escapeIac(data: Buffer): Buffer {
  if (!data.includes(IAC)) return data;
  const out: number[] = [];
  for (const byte of data) {
    out.push(byte);
    if (byte === IAC) out.push(IAC);
  }
  return Buffer.from(out);
}

export interface NegotiationState {
  /** Options we perform (server WILL): on, or asked for and waiting for the answer. */
  local: Map<number, 'on' | 'off' | 'pending-on'>;
  /** Options the client performs (client WILL). */
  remote: Map<number, 'on' | 'off' | 'pending-on'>;
  terminalType: string | null;
  windowSize: { columns: number; rows: number } | null;
}

export interface NegotiationPolicy {
  /** Options this server is willing to perform, e.g. ECHO, SGA. */
  localOptions: ReadonlySet<number>;
  /** Options it wants the client to perform, e.g. TTYPE, NAWS. */
  remoteOptions: ReadonlySet<number>;
}

export function createNegotiationState(): NegotiationState {
  return { local: new Map(), remote: new Map(), terminalType: null, windowSize: null };
}

/** What the server sends right after accepting: WILL for its options, DO for the client's. */
export function openingNegotiation(state: NegotiationState, policy: NegotiationPolicy): Buffer {
  const out: number[] = [];
  for (const option of policy.localOptions) {
    state.local.set(option, 'pending-on');
    out.push(IAC, WILL, option);
  }
  for (const option of policy.remoteOptions) {
    state.remote.set(option, 'pending-on');
    out.push(IAC, DO, option);
  }
  return Buffer.from(out);
}

/**
 * Answers one event and updates the state (RFC 1143): agreement is acknowledged only when it changes
 * something, so an answer to our own request is not answered again and neither end loops; requests
 * for options we do not support are refused every time they come.
 */
export function answerTelnetEvent(state: NegotiationState, policy: NegotiationPolicy, event: TelnetEvent): Buffer {
  const out: number[] = [];
  if (event.type === 'negotiation') {
    const { command, option } = event;
    if (command === DO || command === DONT) {
      const current = state.local.get(option) ?? 'off';
      if (command === DO) {
        if (!policy.localOptions.has(option)) {
          out.push(IAC, WONT, option);
          state.local.set(option, 'off');
        } else if (current === 'off') {
          state.local.set(option, 'on');
          out.push(IAC, WILL, option);
        } else state.local.set(option, 'on');
      } else {
        if (current === 'on') out.push(IAC, WONT, option);
        state.local.set(option, 'off');
      }
    } else {
      const current = state.remote.get(option) ?? 'off';
      if (command === WILL) {
        if (!policy.remoteOptions.has(option)) {
          out.push(IAC, DONT, option);
          state.remote.set(option, 'off');
        } else {
          if (current === 'off') out.push(IAC, DO, option);
          state.remote.set(option, 'on');
          if (option === OPT_TTYPE && current !== 'on') out.push(IAC, SB, OPT_TTYPE, TTYPE_SEND, IAC, SE);
        }
      } else {
        if (current === 'on') out.push(IAC, DONT, option);
        state.remote.set(option, 'off');
      }
    }
  } else if (event.type === 'subnegotiation') {
    if (event.option === OPT_TTYPE && event.data[0] === TTYPE_IS) {
      state.terminalType = event.data.subarray(1).toString('latin1');
    } else if (event.option === OPT_NAWS && event.data.length >= 4) {
      state.windowSize = { columns: event.data.readUInt16BE(0), rows: event.data.readUInt16BE(2) };
    }
  }
  return Buffer.from(out);
}
