import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { displayWidth, fitText, type PlacedColumn } from './columns.js';
import { fitCell, lineText, nestStyle, sgrOf, tableRowLine, truncateLine, type StyledLine } from './styled-line.js';

const col = (id: string, width: number, align?: 'left' | 'right'): PlacedColumn => ({ id, header: id.toUpperCase(), width, priority: 1, ...(align ? { align } : {}) });
const plain = (line: StyledLine) => lineText(line, false);

test('tableRowLine: cells padded and cut to their columns, one space apart, trailing blanks dropped', () => {
  const columns = [col('mark', 1), col('name', 8), col('down', 9, 'right'), col('note', 6)];
  assert.equal(plain(tableRowLine(columns, { mark: '▶', name: 'laptop', down: '2.50 MB/s', note: '' })), '▶ laptop   2.50 MB/s');
  assert.equal(plain(tableRowLine(columns, { mark: ' ', name: 'a-very-long-name', down: '0 B/s' })), '  a-very-…     0 B/s');
  assert.equal(plain(tableRowLine(columns, {})), '', 'an empty row is an empty line');
  // Wide characters take two cells: the column still ends where it should.
  assert.equal(displayWidth(plain(tableRowLine(columns, { mark: ' ', name: '東京タワー', down: 'x', note: 'end' }))), 1 + 1 + 8 + 1 + 9 + 1 + 3);
});

test('tableRowLine: a column with its own style is its own span, nested in the row style (inner colour wins, bold stays)', () => {
  const columns = [col('name', 4), col('bar', 3), col('spark', 3)];
  const row = { bold: true, color: 'magenta' };
  const accent = { color: 'cyan' };
  const line = tableRowLine(columns, { name: 'tv', bar: '█▌', spark: '▁▂' }, row, { bar: accent, spark: accent });
  assert.deepEqual(
    line.map((s) => [s.text, s.style?.color, s.style?.bold]),
    [
      ['tv   ', 'magenta', true],
      ['█▌ ', 'cyan', true],
      [' ', 'magenta', true],
      ['▁▂ ', 'cyan', true],
    ],
  );
  assert.deepEqual(nestStyle(undefined, accent), accent);
  assert.deepEqual(nestStyle(row, undefined), row);
});

test('lineText: plain without styles; SGR codes chalk would write (bold, dim, named colours), closed in reverse order', () => {
  const line: StyledLine = [{ text: 'lantop', style: { bold: true } }, { text: ' · ' }, { text: 'ok', style: { color: 'green', dimColor: true } }, { text: '', style: { bold: true } }];
  assert.equal(lineText(line, false), 'lantop · ok');
  assert.equal(lineText(line, true), '\u001b[1mlantop\u001b[22m · \u001b[2m\u001b[32mok\u001b[39m\u001b[22m');
  assert.deepEqual(sgrOf(undefined), { open: '', close: '' });
  assert.deepEqual(sgrOf({ color: '#ff0000' }), { open: '', close: '' }, 'colours the theme never uses are left out, not guessed');
  assert.equal(sgrOf({ bold: true }), sgrOf({ bold: true }), 'codes are built once per style');
});

test('truncateLine: cuts at the width with an ellipsis, across spans, never splitting a wide character', () => {
  const line: StyledLine = [{ text: 'router', style: { bold: true } }, { text: ' · polled 1.0 s ago' }];
  assert.equal(truncateLine(line, 100), line, 'a line that fits is returned as it is');
  assert.equal(plain(truncateLine(line, 10)), 'router · …');
  assert.deepEqual(truncateLine(line, 4).map((s) => s.style?.bold), [true]);
  assert.equal(plain(truncateLine(line, 4)), 'rou…');
  assert.equal(plain(truncateLine([{ text: 'ab東京' }], 4)), 'ab…', 'a wide character that would straddle the edge goes too');
  assert.equal(plain(truncateLine(line, 1)), '…');
  assert.deepEqual(truncateLine(line, 0), []);
  fc.assert(
    fc.property(fc.array(fc.string({ unit: 'grapheme', maxLength: 20 }), { maxLength: 4 }), fc.integer({ min: 0, max: 40 }), (texts, width) => {
      const cut = truncateLine(texts.map((text) => ({ text })), width);
      assert.ok(displayWidth(plain(cut)) <= width);
    }),
  );
});

test('fitCell: the printable-ASCII shortcut pads exactly as fitText measures', () => {
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 30 }), fc.integer({ min: 1, max: 24 }), fc.boolean(), (text, width, isRight) => {
      const align = isRight ? 'right' : 'left';
      assert.equal(fitCell(text, { width, align }), fitText(text, width, align));
    }),
  );
  assert.equal(fitCell('↓ 5 kB/s', { width: 10, align: 'right' }), '  ↓ 5 kB/s');
});
