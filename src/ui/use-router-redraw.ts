// Several routers (issue 20): redraw the component on any router's poll or state change, and once
// a second (poll ages; a router whose polls stopped goes down at the stale limit).
import { useEffect, useReducer } from 'react';
import type { RouterSet } from './router-set.js';

export function useRouterRedraw(routers: RouterSet | undefined): void {
  const [, redraw] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (routers === undefined) return undefined;
    const unsubscribe = routers.subscribe(redraw);
    const timer = setInterval(redraw, 1000);
    return () => {
      unsubscribe();
      clearInterval(timer);
    };
  }, [routers]);
}
