// Several routers (issue 20): one router's own live screen, as with one router, its status line
// naming it ("office 2/3") and, while it is not up, its state with the reason (a router that never
// logged in has no poll to show the connection state from).
import type { RouterSet } from '../router-set.js';
import { linkText } from '../router-set.js';
import { useRouterRedraw } from '../use-router-redraw.js';
import { sanitizeText } from '../../sanitize.js';
import { LiveScreen, type LiveScreenProps } from './live-screen.js';

export interface RouterLiveScreenProps extends Omit<LiveScreenProps, 'controller' | 'routerTag' | 'routerState'> {
  routers: RouterSet;
  index: number;
}

export function RouterLiveScreen({ routers, index, ...props }: RouterLiveScreenProps) {
  useRouterRedraw(routers);
  const entry = routers.entries[index]!;
  const status = routers.statuses(props.now())[index];
  const state = status === undefined || status.link === 'up' ? undefined : linkText(status, 60);
  return (
    <LiveScreen
      {...props}
      controller={entry.controller}
      routerTag={`${sanitizeText(entry.name, 24)} ${index + 1}/${routers.entries.length}`}
      {...(state !== undefined ? { routerState: state } : {})}
    />
  );
}
