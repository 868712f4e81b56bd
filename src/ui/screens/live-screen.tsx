// Live usage: one row per host (rates, totals, shares, a share bar and a sparkline of the last
// minute, 10 minutes or hour: key w, live-spark.ts), a totals row (with the WAN's accounted
// share), single-key sorting, the top talker marked ▶, a row cursor (❯, ↑/↓; Enter opens the device's connections, issue 19) that follows
// the device through re-sorts, and scrolling for hundreds of hosts. A fast path that skips the
// counters keeps a warning line on screen while it is on; installed traffic classes show, busiest
// first, in one line under the totals (live-classes.ts). Subscribes to the controller's polls while mounted and stops on unmount.
// The IP column widens for IPv6 addresses when there is room. Key f shows one address family's
// part of every number (use-live-state.ts familyView), in no more columns.
//
// Polls and keys change the LiveView (live-view.ts), not React state, and every line comes from
// live-lines.ts. In the app on its alternate screen (runApp provides a TerminalSurface) the rows
// are written by the surface's row writer, only those that changed, over a blank block Ink keeps
// and never redraws (issue 21). Elsewhere (tests, no alternate screen, a screen reader) Ink draws
// the same lines as fixed lines.
import { useContext, useEffect, useLayoutEffect, useState, useSyncExternalStore } from 'react';
import { Box, useIsScreenReaderEnabled } from 'ink';
import type { RouterController } from '../../app/types.js';
import { FixedLines, isInkStyled } from '../components/fixed-lines.js';
import type { StyledLine } from '../styled-line.js';
import { TerminalSurfaceContext } from '../terminal-surface.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { liveViewportRows } from './live-lines.js';
import { LiveView } from './live-view.js';
import { useLiveKeys, type SelectedDevice } from './use-live.js';
import { ROUTER_VIEW_KEY } from './use-combined.js';
import { useKeys } from '../use-keys.js';

export { LIVE_COLUMNS, type LiveColumn } from './live-lines.js';
export type { SelectedDevice } from './use-live.js';

export interface LiveScreenProps {
  controller: RouterController;
  now: () => number;
  isInputActive: boolean;
  /** False while the help covers the screen (it keeps polling); default: isInputActive. */
  isVisible?: boolean;
  onBack: () => void;
  /** Enter on a row: show that device's connections (the app keeps this screen mounted, hidden). */
  onOpenConnections?: (device: SelectedDevice) => void;
  /** Several routers (issue 20): which one this is, before its address ("office 2/3"). */
  routerTag?: string;
  /** Several routers: key r shows the next view (the next router, or all combined). */
  onRouterView?: () => void;
  /** Several routers: the router's state while it is not up ("✗ down (reason)"), display-safe. */
  routerState?: string;
}

const NO_LINES: StyledLine[] = [];
const noSubscription = () => () => undefined;
const noLines = () => NO_LINES;

export function LiveScreen({ controller, now, isInputActive, isVisible = isInputActive, onBack, onOpenConnections, routerTag, onRouterView, routerState }: LiveScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const surface = useContext(TerminalSurfaceContext);
  const isScreenReader = useIsScreenReaderEnabled();
  const isDirect = surface !== null && !isScreenReader;
  const label = routerTag === undefined ? controller.label : `${routerTag} · ${controller.label} · r next view${routerState === undefined ? '' : ` · ${routerState}`}`;
  const context = { label, protocol: controller.protocol, now, theme, isStyled: isInkStyled, width, rows, noun: controller.subjectNoun };
  const [view] = useState(() => new LiveView(context));
  view.configure(context);

  useEffect(() => {
    view.start();
    const unwatch = controller.watch((snapshot) => view.dispatch({ type: 'snapshot', snapshot }));
    return () => {
      unwatch();
      view.stop();
    };
  }, [controller, view]);
  useLiveKeys({
    dispatch: view.dispatch,
    onBack,
    viewportRows: () => liveViewportRows(rows, view.current),
    isEnabled: isInputActive,
    getState: () => view.current,
    blockDevice: (identity, ms) => controller.blockDevice(identity, ms),
    unblockDevice: (identity) => controller.unblockDevice(identity),
    onOpen: onOpenConnections,
  });
  // r is free on this screen; while the block prompt asks, keys belong to it.
  useKeys((input, key) => {
    if (input === ROUTER_VIEW_KEY && !key.ctrl && view.current.block?.kind !== 'ask') onRouterView?.();
  }, isInputActive && onRouterView !== undefined);

  // Ink's frame stays below the last row (where a full frame would scroll the screen).
  const height = Math.max(1, rows - 1);
  useLayoutEffect(() => {
    if (!isDirect || !isVisible) return;
    const region = surface.attach(view.textLines, height);
    const unsubscribe = view.subscribe(region.redraw);
    return () => {
      unsubscribe();
      region.detach();
    };
  }, [isDirect, isVisible, surface, view, height, width]);

  const lines = useSyncExternalStore(isDirect ? noSubscription : view.subscribe, isDirect ? noLines : view.styledLines);
  if (isDirect) return <Box height={height} />;
  return <FixedLines lines={lines} width={width} />;
}
