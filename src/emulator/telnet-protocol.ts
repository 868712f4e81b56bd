// Telnet for the emulated router's server side: option negotiation after the RFC 1143 rules that
// keep both ends out of loops (TTYPE RFC 1091, NAWS RFC 1073) and IAC escaping of what it sends.
// Reading the client's stream is the shared decoder (src/transport/telnet-decoder.ts, with CR NUL
// read as CR). Pure: bytes and events in, bytes out; the server owns the socket.

import {
  DO, DONT, IAC, OPTION_TERMINAL_TYPE, OPTION_WINDOW_SIZE, SB, SE, TERMINAL_TYPE_IS, TERMINAL_TYPE_SEND, WILL, WONT,
} from '../transport/telnet-codes.js';
import type { TelnetEvent } from '../transport/telnet-decoder.js';

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
          if (option === OPTION_TERMINAL_TYPE && current !== 'on') out.push(IAC, SB, OPTION_TERMINAL_TYPE, TERMINAL_TYPE_SEND, IAC, SE);
        }
      } else {
        if (current === 'on') out.push(IAC, DONT, option);
        state.remote.set(option, 'off');
      }
    }
  } else if (event.type === 'subnegotiation') {
    if (event.option === OPTION_TERMINAL_TYPE && event.data[0] === TERMINAL_TYPE_IS) {
      state.terminalType = event.data.subarray(1).toString('latin1');
    } else if (event.option === OPTION_WINDOW_SIZE && event.data.length >= 4) {
      state.windowSize = { columns: event.data.readUInt16BE(0), rows: event.data.readUInt16BE(2) };
    }
  }
  return Buffer.from(out);
}
