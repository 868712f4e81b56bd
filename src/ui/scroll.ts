// Pure scrolling arithmetic shared by every list screen: the reducer stores an offset, the
// screen clamps it to what fits, the key hook maps keys to ScrollAction.
import type { Key } from 'ink';

export type ScrollAction = 'up' | 'down' | 'pageUp' | 'pageDown' | 'home' | 'end';

export function clampScrollTop(top: number, total: number, viewportRows: number): number {
  const maxTop = Math.max(0, total - Math.max(1, viewportRows));
  return Math.min(Math.max(0, top), maxTop);
}

export function scrollTopAfter(top: number, action: ScrollAction, total: number, viewportRows: number): number {
  const page = Math.max(1, viewportRows - 1);
  const current = clampScrollTop(top, total, viewportRows);
  const next = {
    up: current - 1,
    down: current + 1,
    pageUp: current - page,
    pageDown: current + page,
    home: 0,
    end: total,
  }[action];
  return clampScrollTop(next, total, viewportRows);
}

/** Arrow keys, PgUp/PgDn, Home/End (and vi-ish j/k/g/G are left to screens that have no other use for them). */
export function scrollActionForKey(key: Key): ScrollAction | null {
  if (key.upArrow) return 'up';
  if (key.downArrow) return 'down';
  if (key.pageUp) return 'pageUp';
  if (key.pageDown) return 'pageDown';
  if (key.home) return 'home';
  if (key.end) return 'end';
  return null;
}

/** "rows 11–30 of 300" for the footer; empty when everything fits. */
export function describeScroll(top: number, total: number, viewportRows: number): string {
  if (total <= viewportRows) return '';
  const first = clampScrollTop(top, total, viewportRows);
  const last = Math.min(total, first + viewportRows);
  return `rows ${first + 1}–${last} of ${total}`;
}
