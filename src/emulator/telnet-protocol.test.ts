import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import {
  TelnetDecoder, answerTelnetEvent, createNegotiationState, escapeIac, openingNegotiation,
  DO, DONT, IAC, NOP, OPT_ECHO, OPT_NAWS, OPT_SGA, OPT_TTYPE, SB, SE, WILL, WONT, type NegotiationPolicy,
} from './telnet-protocol.js';

const policy: NegotiationPolicy = { localOptions: new Set([OPT_ECHO, OPT_SGA]), remoteOptions: new Set([OPT_TTYPE, OPT_NAWS]) };

describe('TelnetDecoder', () => {
  const stream = Buffer.from([
    ...Buffer.from('ro'), IAC, DO, OPT_ECHO, ...Buffer.from('ot'), IAC, NOP, IAC, IAC, 13, 0, 13, 10,
    IAC, SB, OPT_NAWS, 0, 200, IAC, IAC, 24, IAC, SE, IAC, WILL, OPT_TTYPE, ...Buffer.from('x'),
  ]);
  const expectedData = Buffer.from([...Buffer.from('root'), 255, 13, 13, 10, ...Buffer.from('x')]);

  test('strips every IAC sequence, keeps IAC IAC as 0xFF and CR NUL as CR, reports the events', () => {
    const { data, events } = new TelnetDecoder().feed(stream);
    assert.deepEqual(data, expectedData);
    assert.deepEqual(events, [
      { type: 'negotiation', command: DO, option: OPT_ECHO },
      { type: 'command', command: NOP },
      { type: 'subnegotiation', option: OPT_NAWS, data: Buffer.from([0, 200, 255, 24]) },
      { type: 'negotiation', command: WILL, option: OPT_TTYPE },
    ]);
  });

  test('gives the same result however the stream is cut into TCP reads', () => {
    const whole = new TelnetDecoder().feed(stream);
    for (let cut = 1; cut < stream.length; cut++) {
      for (const size of [1, 2, 3, 5]) {
        const decoder = new TelnetDecoder();
        const data: Buffer[] = [];
        const events: unknown[] = [];
        for (let at = 0; at < stream.length; at += at === 0 ? cut : size) {
          const part = decoder.feed(stream.subarray(at, at === 0 ? cut : at + size));
          data.push(part.data);
          events.push(...part.events);
        }
        assert.deepEqual(Buffer.concat(data), whole.data, `cut ${cut}, size ${size}`);
        assert.deepEqual(events, whole.events);
      }
    }
  });
});

test('escapeIac doubles 0xFF and leaves other bytes alone', () => {
  assert.deepEqual(escapeIac(Buffer.from([1, 255, 2, 255, 255])), Buffer.from([1, 255, 255, 2, 255, 255, 255, 255]));
  const plain = Buffer.from('no iac');
  assert.equal(escapeIac(plain), plain);
});

describe('option negotiation (RFC 1143)', () => {
  test('the server opens with WILL ECHO, WILL SGA, DO TTYPE, DO NAWS', () => {
    assert.deepEqual([...openingNegotiation(createNegotiationState(), policy)], [IAC, WILL, OPT_ECHO, IAC, WILL, OPT_SGA, IAC, DO, OPT_TTYPE, IAC, DO, OPT_NAWS]);
  });

  test('answers to our own requests are not answered again; TTYPE SEND follows a granted TTYPE', () => {
    const state = createNegotiationState();
    openingNegotiation(state, policy);
    const answer = (command: number, option: number) => [...answerTelnetEvent(state, policy, { type: 'negotiation', command, option })];
    assert.deepEqual(answer(DO, OPT_ECHO), []);
    assert.deepEqual(answer(DO, OPT_SGA), []);
    assert.deepEqual(answer(WILL, OPT_TTYPE), [IAC, SB, OPT_TTYPE, 1, IAC, SE]);
    assert.deepEqual(answer(WONT, OPT_NAWS), []);
    assert.equal(state.local.get(OPT_ECHO), 'on');
    assert.equal(state.remote.get(OPT_NAWS), 'off');
    // Repeats change nothing and draw no answer.
    assert.deepEqual(answer(DO, OPT_ECHO), []);
    assert.deepEqual(answer(WONT, OPT_NAWS), []);
  });

  test('refuses what it does not support, every time, and agrees to switch echo off and on again', () => {
    const state = createNegotiationState();
    openingNegotiation(state, policy);
    const answer = (command: number, option: number) => [...answerTelnetEvent(state, policy, { type: 'negotiation', command, option })];
    assert.deepEqual(answer(DO, 0), [IAC, WONT, 0]);
    assert.deepEqual(answer(DO, 0), [IAC, WONT, 0]);
    assert.deepEqual(answer(WILL, 39), [IAC, DONT, 39]);
    answer(DO, OPT_ECHO);
    assert.deepEqual(answer(DONT, OPT_ECHO), [IAC, WONT, OPT_ECHO]);
    assert.deepEqual(answer(DO, OPT_ECHO), [IAC, WILL, OPT_ECHO]);
  });

  test('records terminal type and window size from subnegotiations', () => {
    const state = createNegotiationState();
    answerTelnetEvent(state, policy, { type: 'subnegotiation', option: OPT_TTYPE, data: Buffer.from([0, ...Buffer.from('XTERM')]) });
    answerTelnetEvent(state, policy, { type: 'subnegotiation', option: OPT_NAWS, data: Buffer.from([0, 132, 0, 43]) });
    assert.equal(state.terminalType, 'XTERM');
    assert.deepEqual(state.windowSize, { columns: 132, rows: 43 });
  });
});
