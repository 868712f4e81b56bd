// Pure pieces of the transport: telnet negotiation and the text framing helpers.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DO, DONT, IAC, SB, SE, WILL, WONT } from '../src/transport/telnet-codes.js';
import { TelnetDecoder } from '../src/transport/telnet-protocol.js';
import { LineEndNormalizer, PAGER, isPromptLike, renderTerminalLine, stripEcho } from '../src/transport/text-framing.js';

describe('TelnetDecoder', () => {
  test('removes commands anywhere, keeps IAC IAC as one 0xFF byte, answers per RFC 1143', () => {
    const decoder = new TelnetDecoder();
    const out = decoder.feed(Buffer.from([0x61, IAC, WILL, 1, 0x62, IAC, DO, 24, IAC, IAC, IAC, SB, 24, 1, IAC, SE, 0x63]));
    assert.deepEqual([...out.data], [0x61, 0x62, 0xff, 0x63]);
    assert.deepEqual([...out.reply], [IAC, DO, 1, IAC, WONT, 24]);
    // Already agreed: no answer (no negotiation loops).
    assert.deepEqual([...decoder.feed(Buffer.from([IAC, WILL, 1])).reply], []);
    assert.deepEqual([...decoder.feed(Buffer.from([IAC, WONT, 1])).reply], [IAC, DONT, 1]);
  });

  test('any split of a byte stream gives the same text (property)', () => {
    const byte = fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constantFrom(IAC, WILL, WONT, DO, DONT, SB, SE, 1, 3, 24));
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 79 }), { maxLength: 6 }), (bytes, cuts) => {
        const whole = new TelnetDecoder().feed(Buffer.from(bytes)).data;
        const decoder = new TelnetDecoder();
        const points = [...new Set(cuts.filter((cut) => cut < bytes.length))].sort((a, b) => a - b);
        const pieces: Buffer[] = [];
        let start = 0;
        for (const point of [...points, bytes.length]) {
          pieces.push(decoder.feed(Buffer.from(bytes.slice(start, point))).data);
          start = point;
        }
        assert.deepEqual(Buffer.concat(pieces), whole);
      }),
    );
  });
});

describe('text framing', () => {
  test('line ends: CR LF split across chunks, CR CR LF, CR NUL', () => {
    const normalizer = new LineEndNormalizer();
    assert.equal(normalizer.push('a\r'), 'a');
    assert.equal(normalizer.push('\nb\r\r\nc\r\0d'), '\nb\nc\rd');
  });

  test('renders carriage returns, backspaces and erase sequences as a terminal shows them', () => {
    assert.equal(renderTerminalLine('--More--\r        \rline 3'), 'line 3');
    assert.equal(renderTerminalLine('abc\b\bX'), 'aXc');
    assert.equal(renderTerminalLine('--More--\u001b[2K\rline'), 'line');
    assert.equal(renderTerminalLine('\u001b[1;32mgreen\u001b[0m'), 'green');
  });

  test('prompt and pager recognition', () => {
    for (const prompt of [' > ', '>', 'ATP>', '# ', '$ ', 'root@DD-WRT:~# ', 'router>   ']) assert.ok(isPromptLike(prompt), prompt);
    for (const line of ['', '   ', 'Password:', 'login:', 'done']) assert.ok(!isPromptLike(line), line);
    for (const pager of ['--More--', '---- More ----', ' --More-- (45%)']) assert.ok(PAGER.test(pager), pager);
    for (const text of ['x-more', 'host-moretti', 'furthermore']) assert.ok(!PAGER.test(text), text);
  });

  test('strips an echo, also when the terminal wrapped it; leaves echo-less replies alone', () => {
    assert.equal(stripEcho('arp -n\nline', 'arp -n'), 'line');
    assert.equal(stripEcho('iptables -L TRA\nFFIC -v\nline', 'iptables -L TRAFFIC -v'), 'line');
    assert.equal(stripEcho('iptables -L TRA \rFFIC -v\nline', 'iptables -L TRAFFIC -v'), 'line');
    assert.equal(stripEcho('first line\nsecond', 'arp -n'), 'first line\nsecond');
    assert.equal(stripEcho('arp -n', 'arp -n'), '');
  });
});
