import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DO, DONT, GA, IAC, NOP, OPTION_ECHO, OPTION_TERMINAL_TYPE, OPTION_WINDOW_SIZE, SB, SE, WILL, WONT } from './telnet-codes.js';
import { TelnetStreamDecoder } from './telnet-decoder.js';

describe('TelnetStreamDecoder, reading a client (CR NUL is CR)', () => {
  const stream = Buffer.from([
    ...Buffer.from('ro'), IAC, DO, OPTION_ECHO, ...Buffer.from('ot'), IAC, NOP, IAC, IAC, 13, 0, 13, 10,
    IAC, SB, OPTION_WINDOW_SIZE, 0, 200, IAC, IAC, 24, IAC, SE, IAC, WILL, OPTION_TERMINAL_TYPE, ...Buffer.from('x'),
  ]);
  const expectedData = Buffer.from([...Buffer.from('root'), 255, 13, 13, 10, ...Buffer.from('x')]);

  test('strips every IAC sequence, keeps IAC IAC as 0xFF and CR NUL as CR, reports the events', () => {
    const { data, events } = new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(stream);
    assert.deepEqual(data, expectedData);
    assert.deepEqual(events, [
      { type: 'negotiation', command: DO, option: OPTION_ECHO },
      { type: 'command', command: NOP },
      { type: 'subnegotiation', option: OPTION_WINDOW_SIZE, data: Buffer.from([0, 200, 255, 24]) },
      { type: 'negotiation', command: WILL, option: OPTION_TERMINAL_TYPE },
    ]);
  });

  test('gives the same result however the stream is cut into TCP reads', () => {
    const whole = new TelnetStreamDecoder({ isCrNulBareCr: true }).feed(stream);
    for (let cut = 1; cut < stream.length; cut++) {
      for (const size of [1, 2, 3, 5]) {
        const decoder = new TelnetStreamDecoder({ isCrNulBareCr: true });
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

describe('TelnetStreamDecoder, reading a server (the default)', () => {
  test('CR NUL stays data (the client normalises line ends later); a chunk without IAC comes back as a copy', () => {
    const decoder = new TelnetStreamDecoder();
    assert.deepEqual([...decoder.feed(Buffer.from([0x61, 13, 0, 13, 10])).data], [0x61, 13, 0, 13, 10]);
    const chunk = Buffer.from('plain text\r\n');
    const { data, events } = decoder.feed(chunk);
    assert.deepEqual(data, chunk);
    assert.deepEqual(events, []);
    chunk[0] = 0x50;
    assert.equal(data.toString(), 'plain text\r\n', 'a copy: the socket may reuse its buffer');
  });

  test('IAC straight after SB ends at IAC SE with no event; subnegotiation data stops at 512 bytes', () => {
    const decoder = new TelnetStreamDecoder();
    const empty = decoder.feed(Buffer.from([IAC, SB, IAC, SE, 0x61]));
    assert.deepEqual([...empty.data], [0x61]);
    assert.deepEqual(empty.events, []);
    const long = decoder.feed(Buffer.from([IAC, SB, OPTION_TERMINAL_TYPE, ...new Array<number>(600).fill(0x41), IAC, SE, 0x62]));
    assert.deepEqual([...long.data], [0x62]);
    assert.deepEqual(long.events, [{ type: 'subnegotiation', option: OPTION_TERMINAL_TYPE, data: Buffer.alloc(512, 0x41) }]);
  });

  test('any split of a byte stream gives the same data and events, in either mode (property)', () => {
    const byte = fc.oneof(fc.integer({ min: 0, max: 0x7e }), fc.constantFrom(IAC, WILL, WONT, DO, DONT, SB, SE, NOP, GA, 13, 1, 24));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1, maxLength: 20 }), fc.boolean(), (bytes, sizes, isCrNulBareCr) => {
        const stream = Buffer.from(bytes);
        const whole = new TelnetStreamDecoder({ isCrNulBareCr }).feed(stream);
        const decoder = new TelnetStreamDecoder({ isCrNulBareCr });
        const data: Buffer[] = [];
        const events: unknown[] = [];
        for (let at = 0, i = 0; at < stream.length; at += sizes[i++ % sizes.length]!) {
          const part = decoder.feed(stream.subarray(at, at + sizes[i % sizes.length]!));
          data.push(part.data);
          events.push(...part.events);
        }
        assert.deepEqual(Buffer.concat(data), whole.data);
        assert.deepEqual(events, whole.events);
      }),
      { numRuns: 300 },
    );
  });
});
