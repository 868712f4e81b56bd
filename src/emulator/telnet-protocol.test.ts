import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  DO, DONT, IAC, OPTION_ECHO, OPTION_SUPPRESS_GO_AHEAD, OPTION_TERMINAL_TYPE, OPTION_WINDOW_SIZE, SB, SE, WILL, WONT,
} from '../transport/telnet-codes.js';
import { answerTelnetEvent, createNegotiationState, escapeIac, openingNegotiation, type NegotiationPolicy } from './telnet-protocol.js';

const policy: NegotiationPolicy = { localOptions: new Set([OPTION_ECHO, OPTION_SUPPRESS_GO_AHEAD]), remoteOptions: new Set([OPTION_TERMINAL_TYPE, OPTION_WINDOW_SIZE]) };

test('escapeIac doubles 0xFF and leaves other bytes alone', () => {
  assert.deepEqual(escapeIac(Buffer.from([1, 255, 2, 255, 255])), Buffer.from([1, 255, 255, 2, 255, 255, 255, 255]));
  const plain = Buffer.from('no iac');
  assert.equal(escapeIac(plain), plain);
});

describe('option negotiation (RFC 1143)', () => {
  test('the server opens with WILL ECHO, WILL SGA, DO TTYPE, DO NAWS', () => {
    assert.deepEqual([...openingNegotiation(createNegotiationState(), policy)], [IAC, WILL, OPTION_ECHO, IAC, WILL, OPTION_SUPPRESS_GO_AHEAD, IAC, DO, OPTION_TERMINAL_TYPE, IAC, DO, OPTION_WINDOW_SIZE]);
  });

  test('answers to our own requests are not answered again; TTYPE SEND follows a granted TTYPE', () => {
    const state = createNegotiationState();
    openingNegotiation(state, policy);
    const answer = (command: number, option: number) => [...answerTelnetEvent(state, policy, { type: 'negotiation', command, option })];
    assert.deepEqual(answer(DO, OPTION_ECHO), []);
    assert.deepEqual(answer(DO, OPTION_SUPPRESS_GO_AHEAD), []);
    assert.deepEqual(answer(WILL, OPTION_TERMINAL_TYPE), [IAC, SB, OPTION_TERMINAL_TYPE, 1, IAC, SE]);
    assert.deepEqual(answer(WONT, OPTION_WINDOW_SIZE), []);
    assert.equal(state.local.get(OPTION_ECHO), 'on');
    assert.equal(state.remote.get(OPTION_WINDOW_SIZE), 'off');
    // Repeats change nothing and draw no answer.
    assert.deepEqual(answer(DO, OPTION_ECHO), []);
    assert.deepEqual(answer(WONT, OPTION_WINDOW_SIZE), []);
  });

  test('refuses what it does not support, every time, and agrees to switch echo off and on again', () => {
    const state = createNegotiationState();
    openingNegotiation(state, policy);
    const answer = (command: number, option: number) => [...answerTelnetEvent(state, policy, { type: 'negotiation', command, option })];
    assert.deepEqual(answer(DO, 0), [IAC, WONT, 0]);
    assert.deepEqual(answer(DO, 0), [IAC, WONT, 0]);
    assert.deepEqual(answer(WILL, 39), [IAC, DONT, 39]);
    answer(DO, OPTION_ECHO);
    assert.deepEqual(answer(DONT, OPTION_ECHO), [IAC, WONT, OPTION_ECHO]);
    assert.deepEqual(answer(DO, OPTION_ECHO), [IAC, WILL, OPTION_ECHO]);
  });

  test('records terminal type and window size from subnegotiations', () => {
    const state = createNegotiationState();
    answerTelnetEvent(state, policy, { type: 'subnegotiation', option: OPTION_TERMINAL_TYPE, data: Buffer.from([0, ...Buffer.from('XTERM')]) });
    answerTelnetEvent(state, policy, { type: 'subnegotiation', option: OPTION_WINDOW_SIZE, data: Buffer.from([0, 132, 0, 43]) });
    assert.equal(state.terminalType, 'XTERM');
    assert.deepEqual(state.windowSize, { columns: 132, rows: 43 });
  });
});
