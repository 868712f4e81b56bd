// The row writer and the surface it draws on (terminal-surface.ts): only changed rows are written,
// what Ink writes over is redrawn, nothing but lantop's own sequences reaches the terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeScreen } from '../../test/fakes/fake-screen.js';
import { printableLine, RowWriter, TerminalSurface } from './terminal-surface.js';

/** Rows addressed by a write ("\u001b[<row>;1H"), in order. */
const rowsIn = (data: string) => [...data.matchAll(/\u001b\[(\d+);1H/g)].map((m) => Number(m[1]));
const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve));

test('row writer: the first draw writes every row up to the height, later draws only the rows that changed', () => {
  const writes: string[] = [];
  const writer = new RowWriter((data) => writes.push(data));
  writer.draw(['title', 'row a', 'row b'], 5);
  assert.equal(writes.length, 1);
  assert.deepEqual(rowsIn(writes[0]!), [1, 2, 3, 4, 5], 'blank rows below the lines are erased too');
  assert.ok(writes[0]!.startsWith('\u001b7') && writes[0]!.endsWith('\u001b8'), 'the cursor is saved and restored around the write');
  writer.draw(['title', 'row a', 'row b'], 5);
  assert.equal(writes.length, 1, 'nothing changed: nothing written');
  writer.draw(['title', 'row A', 'row b'], 5);
  assert.deepEqual(rowsIn(writes[1]!), [2]);
  assert.match(writes[1]!, /\u001b\[2;1H\u001b\[2Krow A/, 'erase, then the line (an erase after a full row would take its last cell)');
  writer.draw(['title'], 5);
  assert.deepEqual(rowsIn(writes[2]!), [2, 3], 'rows no longer used are erased');
  writer.invalidate();
  writer.draw(['title'], 3);
  assert.deepEqual(rowsIn(writes[3]!), [1, 2, 3], 'after invalidate every row again');
  writer.draw(['title', 'a', 'b', 'c', 'd'], 3);
  assert.deepEqual(rowsIn(writes[4]!), [2, 3], 'never below the height');
});

test('row writer on a screen: the rows show the lines; a changed row replaces the old text entirely', () => {
  const screen = new FakeScreen(20, 6);
  const writer = new RowWriter((data) => screen.write(data));
  screen.write('\u001b[6;1H');
  writer.draw(['first line', 'a much longer line', 'third'], 5);
  assert.equal(screen.lastFrame(), 'first line\na much longer line\nthird');
  writer.draw(['first line', 'short', 'third'], 5);
  assert.equal(screen.lastFrame(), 'first line\nshort\nthird');
  // A line that fills the row keeps its last cell.
  writer.draw(['x'.repeat(20)], 5);
  assert.equal(screen.lastFrame(), 'x'.repeat(20));
  screen.write('cursor');
  assert.equal(screen.lastFrame().split('\n')[5], 'cursor', 'the cursor is back where it was (row 6)');
});

test('printable lines: SGR stays, every other escape sequence and control character goes', () => {
  assert.equal(printableLine('\u001b[1mbold\u001b[22m plain \u001b[36mcyan\u001b[39m'), '\u001b[1mbold\u001b[22m plain \u001b[36mcyan\u001b[39m');
  const hostile = 'a\u001b[2Jb\u001b]0;title\u0007c\u0007d\r\ne\u0008f\u001b[5;1Hg\u202eh\u009b2Ji\u001bj';
  const clean = printableLine(hostile);
  assert.equal(clean, 'abcdefgh2Jij');
  assert.ok(!/[\u0000-\u001f\u007f-\u009f\u202a-\u202e]/.test(clean));
  // And through the writer onto a screen: nothing is cleared, moved or retitled.
  const screen = new FakeScreen(40, 4);
  const writer = new RowWriter((data) => screen.write(data));
  writer.draw(['kept'], 3);
  writer.draw(['kept', hostile], 3);
  assert.equal(screen.lastFrame(), `kept\n${clean}`);
});

test('surface: what Ink writes makes the region redraw in full once, after the writes; a detached region is not drawn', async () => {
  const screen = new FakeScreen(30, 8);
  const surface = new TerminalSurface(screen as unknown as NodeJS.WriteStream);
  let lines = ['live', 'rows'];
  const region = surface.attach(() => lines, 4);
  assert.equal(screen.lastFrame(), 'live\nrows');
  const drawn = screen.raw.length;
  // Ink erases and writes its (blank) frame in three writes, as with synchronized output.
  surface.inkStdout.write('\u001b[?2026h');
  surface.inkStdout.write('\u001b[H\u001b[2J\n\n\n');
  surface.inkStdout.write('\u001b[?2026l');
  assert.equal(screen.lastFrame(), '', 'Ink wrote over the rows');
  await tick();
  assert.equal(screen.lastFrame(), 'live\nrows', 'redrawn');
  assert.equal(screen.raw.length, drawn + 4, 'one redraw for the three writes');
  assert.deepEqual(rowsIn(screen.raw.at(-1)!), [1, 2, 3, 4], 'every row, since Ink wrote over them');
  lines = ['live', 'ROWS'];
  region.redraw();
  assert.deepEqual(rowsIn(screen.raw.at(-1)!), [2]);
  region.detach();
  lines = ['gone'];
  region.redraw();
  surface.inkStdout.write('menu');
  await tick();
  assert.ok(!screen.lastFrame().includes('gone'));
});

test('surface: Ink gets the real stream behind it (size, TTY, resize events, write callbacks)', async () => {
  const screen = new FakeScreen(77, 22);
  const surface = new TerminalSurface(screen as unknown as NodeJS.WriteStream);
  const ink = surface.inkStdout;
  assert.deepEqual([ink.columns, ink.rows, ink.isTTY], [77, 22, true]);
  let resized = 0;
  const onResize = () => (resized += 1);
  ink.on('resize', onResize);
  screen.resize(60, 20);
  assert.deepEqual([resized, ink.columns, ink.rows], [1, 60, 20]);
  ink.off('resize', onResize);
  screen.resize(61, 20);
  assert.equal(resized, 1, 'off() removes the listener on() added');
  await new Promise<void>((resolve) => ink.write('x', () => resolve()));
});
