// Which router the app looks at when it watches several (issue 20): the live screen's view (the
// combined table, or one router's own live screen: key r cycles combined → router 1 → … →
// combined), the router the open per-router screen acts on, and the picker that asks which router
// before a menu action. Pure; the app reducer (use-app-state.ts) keeps it in AppState.routers.

/** The screens that act on one router (every menu entry but the live view). */
export type RouterScreen = 'devices' | 'setup' | 'flush' | 'history' | 'quotas' | 'counters';

export interface RouterSelection {
  count: number;
  /** The live screen: null = all routers combined, else that router's index. */
  live: number | null;
  /** The router the open per-router screen (or the connections screen) acts on. */
  current: number;
  /** The picker: the screen it opens and its cursor; null when not asking. */
  picking: { screen: RouterScreen; cursor: number } | null;
}

export function initialRouterSelection(count: number): RouterSelection {
  return { count: Math.max(1, count), live: null, current: 0, picking: null };
}

/** r: combined → router 1 → … → router n → combined. */
export function nextLiveView(selection: RouterSelection): RouterSelection {
  const { live, count } = selection;
  const next = live === null ? 0 : live + 1 >= count ? null : live + 1;
  return { ...selection, live: next };
}

/**
 * A menu action: ask which router, the cursor on the router the live view shows (else the one
 * last used). With one router there is nothing to ask: `opens` is the screen at once.
 */
export function startPick(selection: RouterSelection, screen: RouterScreen): { selection: RouterSelection; opens: RouterScreen | null } {
  if (selection.count === 1) return { selection: { ...selection, current: 0, picking: null }, opens: screen };
  const cursor = clampIndex(selection.live ?? selection.current, selection.count);
  return { selection: { ...selection, picking: { screen, cursor } }, opens: null };
}

export function movePick(selection: RouterSelection, by: number): RouterSelection {
  const { picking, count } = selection;
  if (picking === null) return selection;
  return { ...selection, picking: { ...picking, cursor: (((picking.cursor + by) % count) + count) % count } };
}

export function pickAt(selection: RouterSelection, index: number): RouterSelection {
  const { picking } = selection;
  if (picking === null || !Number.isInteger(index) || index < 0 || index >= selection.count) return selection;
  return { ...selection, picking: { ...picking, cursor: index } };
}

/** Enter: the screen opens on the router under the cursor. */
export function choosePick(selection: RouterSelection): { selection: RouterSelection; opens: RouterScreen | null } {
  const { picking } = selection;
  if (picking === null) return { selection, opens: null };
  return { selection: { ...selection, current: picking.cursor, picking: null }, opens: picking.screen };
}

export function cancelPick(selection: RouterSelection): RouterSelection {
  return selection.picking === null ? selection : { ...selection, picking: null };
}

/** A device's connections from a router's own live view act on that router. */
export function withLiveRouter(selection: RouterSelection): RouterSelection {
  return selection.live === null ? selection : { ...selection, current: selection.live };
}

function clampIndex(index: number, count: number): number {
  return Math.min(Math.max(0, index), count - 1);
}
