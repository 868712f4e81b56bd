// The router selection (issue 20) and its place in the app reducer: the view switch, the picker
// before a menu action, and one router that is asked nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { choosePick, initialRouterSelection, movePick, nextLiveView, pickAt, startPick, withLiveRouter } from './use-router-select-state.js';
import { appReducer, initialAppState, initialMultiAppState, type AppState } from './use-app-state.js';

test('r cycles combined → router 1 → … → router n → combined', () => {
  let s = initialRouterSelection(3);
  const seen: Array<number | null> = [];
  for (let i = 0; i < 5; i++) {
    s = nextLiveView(s);
    seen.push(s.live);
  }
  assert.deepEqual(seen, [0, 1, 2, null, 0]);
  let one = initialRouterSelection(1);
  one = nextLiveView(one);
  assert.equal(one.live, 0);
  assert.equal(nextLiveView(one).live, null);
});

test('the picker starts on the router the live view shows, else the one used last; moves wrap; Enter opens', () => {
  const s = { ...initialRouterSelection(3), live: 2 };
  const { selection, opens } = startPick(s, 'history');
  assert.equal(opens, null);
  assert.deepEqual(selection.picking, { screen: 'history', cursor: 2 });
  assert.equal(movePick(selection, 1).picking?.cursor, 0);
  assert.equal(movePick(selection, -4).picking?.cursor, 1);
  assert.equal(pickAt(selection, 1).picking?.cursor, 1);
  assert.equal(pickAt(selection, 3), selection, 'no fourth router');
  const chosen = choosePick(pickAt(selection, 1));
  assert.equal(chosen.opens, 'history');
  assert.equal(chosen.selection.current, 1);
  assert.equal(chosen.selection.picking, null);
  assert.deepEqual(startPick({ ...initialRouterSelection(3), current: 1 }, 'setup').selection.picking, { screen: 'setup', cursor: 1 });
});

test('one router: nothing to ask, the screen opens at once', () => {
  const { selection, opens } = startPick(initialRouterSelection(1), 'quotas');
  assert.equal(opens, 'quotas');
  assert.equal(selection.picking, null);
});

test('app reducer, several routers: menu → pick → screen on the router; back from the picker; connections from a router\'s view', () => {
  let s: AppState = initialMultiAppState(2);
  assert.equal(s.screen, 'menu');
  s = appReducer(s, { type: 'open', screen: 'devices' });
  assert.equal(s.screen, 'pick');
  assert.equal(appReducer(s, { type: 'back' }).screen, 'menu');
  assert.equal(appReducer(s, { type: 'back' }).routers?.picking, null);
  s = appReducer(s, { type: 'pickMove', by: 1 });
  s = appReducer(s, { type: 'pickChoose' });
  assert.equal(s.screen, 'devices');
  assert.equal(s.routers?.current, 1);
  s = appReducer(s, { type: 'back' });
  // Live usage asks nothing: it shows every router.
  s = appReducer(s, { type: 'open', screen: 'live' });
  assert.equal(s.screen, 'live');
  const device = { identity: 'ip:10.0.0.5', name: 'printer' };
  assert.equal(appReducer(s, { type: 'openConnections', device }), s, 'the combined view has no device to open');
  s = appReducer(s, { type: 'routerView' });
  assert.equal(s.routers?.live, 0);
  s = appReducer(s, { type: 'openConnections', device });
  assert.equal(s.screen, 'connections');
  assert.equal(s.routers?.current, 0, 'the connections are that router\'s');
  assert.equal(appReducer(s, { type: 'routerView' }), s, 'r only on the live screen');
});

test('app reducer, one router: no picker, no router state (as before issue 20)', () => {
  let s = appReducer(initialAppState, { type: 'connected' });
  s = appReducer(s, { type: 'open', screen: 'devices' });
  assert.equal(s.screen, 'devices');
  assert.equal(s.routers, undefined);
  assert.equal(appReducer(s, { type: 'pickChoose' }), s);
  assert.equal(appReducer({ ...s, screen: 'live' }, { type: 'routerView' }).routers, undefined);
});

test('withLiveRouter: the combined view keeps the router used last', () => {
  const s = { ...initialRouterSelection(2), current: 1 };
  assert.equal(withLiveRouter(s).current, 1);
  assert.equal(withLiveRouter({ ...s, live: 0 }).current, 0);
});
