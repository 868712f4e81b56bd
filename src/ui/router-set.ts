// Several routers in one app (issue 20, `lantop --routers a,b`): what the screens need of them.
// The app's MultiRouterController (app/multi-router-controller.ts) implements it; the screens know
// it only as this interface (ui/ imports nothing from app/ but the controller seam, app/types.ts).
import type { RouterController } from '../app/types.js';
import type { RouterPart, RouterTopology } from '../domain/multi-router.js';
import { sanitizeText } from '../sanitize.js';

export interface RouterEntry {
  /** The router's key (host:port), as in the history and combineSnapshots. */
  key: string;
  /** For people: the profile name. */
  name: string;
  /** Its own controller: session, detection, backend, reconnects, monitor, history. */
  controller: RouterController;
}

/** connecting: logging in or waiting for its first poll (shown as down in the combined totals). */
export type RouterLink = 'connecting' | 'up' | 'down';

/** A router now: a RouterPart for combineSnapshots, and whether it is still connecting. */
export interface RouterStatus extends RouterPart {
  link: RouterLink;
}

export interface RouterSet {
  readonly entries: readonly RouterEntry[];
  /** Who is upstream of whom (the profiles' `upstream` settings). */
  readonly topology: RouterTopology;
  /** Each router now, in entry order; a poll older than the stale limit at `nowMs` is down. */
  statuses(nowMs: number): RouterStatus[];
  /** Any router's poll or state changed. Returns unsubscribe. */
  subscribe(listener: () => void): () => void;
}

const LINK_GLYPH: Record<RouterLink, string> = { up: '●', connecting: '…', down: '✗' };

/** "● up", "… connecting", "✗ down (reason)" — display-safe (the reason is router text). */
export function linkText(status: Pick<RouterStatus, 'link' | 'reason'>, reasonWidth = 120): string {
  if (status.link === 'up') return `${LINK_GLYPH.up} up`;
  if (status.link === 'connecting') return `${LINK_GLYPH.connecting} connecting`;
  const reason = sanitizeText(status.reason ?? 'no answer', reasonWidth).replace(/\.$/, '');
  return `${LINK_GLYPH.down} down (${reason})`;
}

/** One line for the menu: "2 routers: home ● up · office ✗ down". */
export function routersSummary(entries: readonly RouterEntry[], statuses: readonly RouterStatus[]): string {
  const each = entries.map((entry, i) => {
    const status = statuses[i];
    const link = status === undefined ? 'connecting' : status.link;
    return `${sanitizeText(entry.name, 24)} ${LINK_GLYPH[link]} ${link}`;
  });
  return `${entries.length} ${entries.length === 1 ? 'router' : 'routers'}: ${each.join(' · ')}`;
}
