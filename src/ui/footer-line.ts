// Pure: the key footer ("d/u/t/n sort … · q/Esc back") as one styled line, exactly as the Ink
// <Footer> draws it (components/footer.tsx): the position first in the accent colour, each key
// bold and its action dim, cut at the terminal edge.
import type { TextProps } from 'ink';
import { truncateLine, type Span, type StyledLine } from './styled-line.js';
import type { Theme } from './theme.js';

export interface KeyHint {
  keys: string;
  action: string;
}

const BOLD: TextProps = { bold: true };

export function footerLine(hints: readonly KeyHint[], extra: string | undefined, theme: Theme, width: number): StyledLine {
  const spans: Span[] = [];
  if (extra) spans.push({ text: `${extra} · `, style: theme.accent });
  hints.forEach((h, i) => {
    if (i > 0) spans.push({ text: ' · ', style: theme.dim });
    spans.push({ text: h.keys, style: BOLD }, { text: ` ${h.action}`, style: theme.dim });
  });
  return truncateLine(spans, width);
}
