// Lines whose text changes on every poll, drawn so that Ink measures nothing new: one <Transform>
// over a blank block of the same size, which hands Ink each finished line as it writes the frame.
// Ink lays out the blank block once per size (its text never changes), so the per-poll cost is
// only Ink writing the characters, and its never-emptied measure cache (vadimdemedes/ink#986)
// stops growing. The lines must fit `width` cells (styled-line.ts pads, cuts and truncates).
import { renderToString, Text, Transform } from 'ink';
import { useMemo } from 'react';
import { lineText, type StyledLine } from '../styled-line.js';

// Ink's <Text> styles through chalk, which writes no codes at all when the terminal cannot show
// them (not a TTY, FORCE_COLOR=0, TERM=dumb): ask it once, as the lines must look like <Text>.
// At import, not during a render: renderToString is a render of its own.
export const isInkStyled = renderToString(<Text bold>x</Text>) !== 'x';

const blanks = new Map<string, string>();

/** `rows` lines of `width` spaces (kept per size: the same string each frame, so Ink measures it once). */
function blankBlock(width: number, rows: number): string {
  const key = `${width}x${rows}`;
  let block = blanks.get(key);
  if (block === undefined) {
    if (blanks.size > 64) blanks.clear();
    block = Array.from({ length: rows }, () => ' '.repeat(width)).join('\n');
    blanks.set(key, block);
  }
  return block;
}

export function FixedLines({ lines, width }: { lines: readonly StyledLine[]; width: number }) {
  const texts = useMemo(() => lines.map((line) => lineText(line, isInkStyled)), [lines]);
  // Screen readers get the text itself (Ink reads the children then, not the transform).
  const label = useMemo(() => lines.map((line) => lineText(line, false)).join('\n'), [lines]);
  if (lines.length === 0 || width <= 0) return null;
  return (
    <Transform transform={(_blank, index) => texts[index] ?? ''} accessibilityLabel={label}>
      {blankBlock(width, lines.length)}
    </Transform>
  );
}
