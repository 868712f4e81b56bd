import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyOf } from '../../test/fakes/fake-terminal.js';
import { appReducer, initialAppState, MENU_ITEMS, type AppState } from './use-app-state.js';
import { appKeyAction, EXIT_INTERRUPTED } from './use-app.js';
import { menuKeyAction } from './screens/use-menu.js';

const menu: AppState = { ...initialAppState, screen: 'menu' };

test('navigation: screens open only after connecting, back returns to the menu, help closes on the way', () => {
  assert.equal(appReducer(initialAppState, { type: 'open', screen: 'live' }), initialAppState);
  const connected = appReducer(initialAppState, { type: 'connected' });
  assert.equal(connected.screen, 'menu');
  const live = appReducer(connected, { type: 'open', screen: 'live' });
  assert.deepEqual([live.screen, live.menuIndex], ['live', 1]);
  const withHelp = appReducer(live, { type: 'toggleHelp' });
  assert.equal(withHelp.isHelpOpen, true);
  const back = appReducer(withHelp, { type: 'back' });
  assert.deepEqual([back.screen, back.isHelpOpen, back.menuIndex], ['menu', false, 1]);
  assert.equal(appReducer(back, { type: 'back' }), back);
});

test('menu cursor wraps around; Enter opens what the cursor is on', () => {
  assert.equal(appReducer({ ...menu, menuIndex: 3 }, { type: 'openSelected' }).screen, 'flush');
  assert.equal(appReducer(menu, { type: 'menuMove', by: -1 }).menuIndex, MENU_ITEMS.length - 1);
  assert.equal(appReducer({ ...menu, menuIndex: MENU_ITEMS.length - 1 }, { type: 'menuMove', by: 1 }).menuIndex, 0);
});

test('menu keys: numbers open, arrows move, Enter opens the highlighted entry, q quits', () => {
  assert.deepEqual(menuKeyAction('3', keyOf()), { type: 'open', screen: 'setup' });
  assert.deepEqual(menuKeyAction('5', keyOf()), { type: 'open', screen: 'history' });
  assert.deepEqual(menuKeyAction('', keyOf({ downArrow: true })), { type: 'menuMove', by: 1 });
  assert.deepEqual(menuKeyAction('', keyOf({ return: true })), { type: 'openSelected' });
  assert.deepEqual(menuKeyAction('q', keyOf()), { type: 'quit' });
  assert.equal(menuKeyAction('9', keyOf()), null);
});

test('global keys: Ctrl-C exits with 130 everywhere; ? toggles help except while connecting', () => {
  assert.deepEqual(appKeyAction(initialAppState, 'c', keyOf({ ctrl: true })), { type: 'exit', code: EXIT_INTERRUPTED });
  assert.equal(appKeyAction(initialAppState, '?', keyOf()), null);
  assert.deepEqual(appKeyAction(menu, '?', keyOf()), { type: 'toggleHelp' });
  const help = { ...menu, isHelpOpen: true };
  assert.deepEqual(appKeyAction(help, 'q', keyOf()), { type: 'closeHelp' });
  assert.deepEqual(appKeyAction(help, '', keyOf({ escape: true })), { type: 'closeHelp' });
  assert.equal(appKeyAction(help, 'd', keyOf()), null);
});
