// Pure: the live screen's traffic-class line (issue 19, `setup --ports/--protocols`), under the
// totals row: "by port: tcp/443 https ↓1.20 MB/s ↑40.0 kB/s · udp/53 dns ↓2.00 kB/s · +3 more",
// the busiest classes first by their current rate (down + up), as many as fit the width. The line
// is there whenever the snapshot has classes (idle ones too), so the table's height does not jump
// as traffic comes and goes; without classes there is no line.
import type { ClassUsage } from '../../domain/class-usage.js';
import type { Snapshot } from '../../domain/snapshot.js';
import { formatRate } from '../../output/units.js';
import { sanitizeText } from '../../sanitize.js';
import { displayWidth } from '../columns.js';
import { truncateLine, type Span, type StyledLine } from '../styled-line.js';
import type { Theme } from '../theme.js';

const SEPARATOR = ' · ';
// Labels are `tcp/443 https` (classLabel): short; the cap only guards against a hostile one.
const MAX_LABEL = 40;

/** Whether the screen shows the class line (it takes one table row while it does). */
export function hasClassesLine(snapshot: Snapshot | null): boolean {
  return (snapshot?.classes?.length ?? 0) > 0;
}

const rateOf = (c: ClassUsage): number => (Number.isFinite(c.downBps) ? Math.max(0, c.downBps) : 0) + (Number.isFinite(c.upBps) ? Math.max(0, c.upBps) : 0);

/** The classes busiest first (down + up now); ties keep the snapshot's classKey order. */
export function busiestClasses(classes: readonly ClassUsage[]): ClassUsage[] {
  return classes
    .map((c, i) => ({ c, i, bps: rateOf(c) }))
    .sort((a, b) => b.bps - a.bps || a.i - b.i)
    .map((e) => e.c);
}

/** One class's spans: the label, then each direction that moves ("idle" when neither does). */
function classSpans(c: ClassUsage, theme: Theme): Span[] {
  const spans: Span[] = [{ text: sanitizeText(c.label, MAX_LABEL).trim() || sanitizeText(c.key, MAX_LABEL) }];
  const down = Number.isFinite(c.downBps) && c.downBps > 0;
  const up = Number.isFinite(c.upBps) && c.upBps > 0;
  if (down) spans.push({ text: ` ↓${formatRate(c.downBps)}`, style: theme.down });
  if (up) spans.push({ text: ` ↑${formatRate(c.upBps)}`, style: theme.up });
  if (!down && !up) spans.push({ text: ' idle', style: theme.dim });
  return spans;
}

const spansWidth = (spans: readonly Span[]): number => {
  let w = 0;
  for (const s of spans) w += displayWidth(s.text);
  return w;
};

/**
 * The class line, at most `width` wide; null when the snapshot has no classes. The classes count
 * both address families (the router's class rules are not split by family), so with the IPv4 or
 * IPv6 view on, the prefix says so.
 */
export function classesLine(snapshot: Snapshot | null, width: number, theme: Theme, isFamilyView = false): StyledLine | null {
  const classes = snapshot?.classes;
  if (!classes || classes.length === 0) return null;
  const prefix: Span = { text: isFamilyView ? 'by port (both families): ' : 'by port: ', style: theme.dim };
  const items = busiestClasses(classes).map((c) => classSpans(c, theme));
  const moreText = (n: number) => `+${n} more`;
  // The most classes that fit with the "+N more" their cut needs; at least one (cut at the edge).
  let used = displayWidth(prefix.text);
  let count = 0;
  for (let i = 0; i < items.length; i += 1) {
    const w = (i === 0 ? 0 : SEPARATOR.length) + spansWidth(items[i]!);
    const rest = items.length - i - 1;
    const tail = rest > 0 ? SEPARATOR.length + moreText(rest).length : 0;
    if (used + w + tail > width) break;
    used += w;
    count = i + 1;
  }
  if (count === 0) count = 1;
  const line: Span[] = [prefix];
  for (let i = 0; i < count; i += 1) {
    if (i > 0) line.push({ text: SEPARATOR, style: theme.dim });
    line.push(...items[i]!);
  }
  if (count < items.length) line.push({ text: SEPARATOR, style: theme.dim }, { text: moreText(items.length - count), style: theme.dim });
  return truncateLine(line, width);
}
