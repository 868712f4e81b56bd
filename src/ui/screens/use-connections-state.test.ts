import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connection, connectionsView } from '../../../test/fakes/fake-controller.js';
import { keyOf } from '../../../test/fakes/fake-terminal.js';
import type { ErrorView } from '../text.js';
import { connectionsReducer, initialConnectionsState, ONLY_NEW_CONNECTIONS, type ConnectionsAction, type ConnectionsState } from './use-connections-state.js';
import { connectionsKeyAction } from './use-connections.js';

const ID = '02:00:00:00:00:10';
const COMMAND = 'sysctl -w net.netfilter.nf_conntrack_acct=1';
const run = (state: ConnectionsState, ...actions: ConnectionsAction[]) => actions.reduce(connectionsReducer, state);
const error: ErrorView = { title: 'Router', message: 'no connection table', nextStep: null, seen: null, isAuth: false, exitCode: 1 as ErrorView['exitCode'] };

const rows = [
  connection('203.0.113.7', 443, { downBytes: 5_000, upBytes: 500, downBps: 10, remoteName: 'cdn.example', service: 'https' }),
  connection('203.0.113.7', 443, { localPort: 50_001, downBytes: 1_000, upBytes: 100, downBps: 900, remoteName: 'cdn.example', service: 'https' }),
  connection('203.0.113.9', 53, { protocol: 'udp', downBytes: 200, upBytes: 80, service: 'dns' }),
  connection('2001:db8::53', 53, { protocol: 'udp', downBytes: null, upBytes: null, service: 'dns' }),
];

test('g cycles the grouping every connection → by remote → by port → by protocol → every connection, each from the top', () => {
  let state = run(initialConnectionsState(ID, 'laptop'), { type: 'loaded', view: connectionsView(ID, rows) }, { type: 'scroll', action: 'down', viewportRows: 1, total: 4 });
  assert.equal(state.scrollTop, 1);
  const seen: string[] = [];
  for (let i = 0; i < 4; i += 1) {
    state = connectionsReducer(state, { type: 'group' });
    seen.push(state.grouping);
    assert.equal(state.scrollTop, 0);
  }
  assert.deepEqual(seen, ['remote', 'port', 'protocol', 'connections']);
});

test('s toggles the sort bytes ⇄ rate', () => {
  let state = initialConnectionsState(ID, 'laptop');
  assert.equal(state.sort, 'bytes');
  state = connectionsReducer(state, { type: 'sort' });
  assert.equal(state.sort, 'rate');
  state = connectionsReducer(state, { type: 'sort' });
  assert.equal(state.sort, 'bytes');
});

// Grouping and sorting themselves are domain/connections.ts's, tested in domain/connections.test.ts.

test('a failed read keeps the last view, counts failures, and a good read clears them', () => {
  let state = run(initialConnectionsState(ID, 'laptop'), { type: 'loaded', view: connectionsView(ID, rows) }, { type: 'failed', error }, { type: 'failed', error });
  assert.equal(state.status, 'failed');
  assert.equal(state.failures, 2);
  assert.equal(state.view?.connections.length, 4);
  state = connectionsReducer(state, { type: 'loaded', view: connectionsView(ID, []) });
  assert.deepEqual([state.status, state.failures, state.error], ['ready', 0, null]);
});

test('accounting off: A asks naming the exact command, n cancels, y sends and the answer says only new connections get bytes', () => {
  const off = connectionsView(ID, rows, { accounting: 'off', enableAccountingCommand: COMMAND });
  let state = run(initialConnectionsState(ID, 'laptop'), { type: 'loaded', view: off }, { type: 'askEnable' });
  assert.deepEqual(state.consent, { kind: 'ask', command: COMMAND });
  state = connectionsReducer(state, { type: 'cancelEnable' });
  assert.equal(state.consent, null);
  state = run(state, { type: 'askEnable' }, { type: 'enableSending' });
  assert.deepEqual(state.consent, { kind: 'sending', command: COMMAND });
  // Nothing cancels a command on its way.
  assert.equal(connectionsReducer(state, { type: 'cancelEnable' }), state);
  assert.equal(connectionsReducer(state, { type: 'askEnable' }), state);
  state = connectionsReducer(state, { type: 'enableSaid', text: 'Connection accounting is on.\u001b[2J', isDone: true });
  assert.deepEqual(state.consent, { kind: 'said', text: `Connection accounting is on. ${ONLY_NEW_CONNECTIONS}`, isDone: true });
  state = connectionsReducer(state, { type: 'enableSaid', text: 'permission denied', isDone: false });
  assert.deepEqual(state.consent, { kind: 'said', text: 'permission denied', isDone: false });
});

test('A does nothing while accounting is on or unknown, and says so when no command is known', () => {
  for (const accounting of ['on', 'unknown'] as const) {
    const state = run(initialConnectionsState(ID, 'laptop'), { type: 'loaded', view: connectionsView(ID, rows, { accounting }) });
    assert.equal(connectionsReducer(state, { type: 'askEnable' }), state, accounting);
  }
  assert.equal(connectionsReducer(initialConnectionsState(ID, 'laptop'), { type: 'askEnable' }).consent, null, 'nothing read yet');
  const noCommand = run(initialConnectionsState(ID, 'laptop'), { type: 'loaded', view: connectionsView(ID, rows, { accounting: 'off', enableAccountingCommand: null }) }, { type: 'askEnable' });
  assert.equal(noCommand.consent?.kind, 'said');
  // A hostile command text is shown sanitised (the controller runs its own, never this text).
  const hostile = run(initialConnectionsState(ID, 'laptop'), { type: 'loaded', view: connectionsView(ID, rows, { accounting: 'off', enableAccountingCommand: 'echo 1\u001b]0;x\u0007 > f' }) }, { type: 'askEnable' });
  assert.deepEqual(hostile.consent, { kind: 'ask', command: 'echo 1 > f' });
});

test('connections keys: g s A, arrows and j/k scroll, q/Esc back; during the question only y, n and Esc count', () => {
  const ready = run(initialConnectionsState(ID, 'laptop'), { type: 'loaded', view: connectionsView(ID, rows, { accounting: 'off', enableAccountingCommand: COMMAND }) });
  assert.deepEqual(connectionsKeyAction('g', keyOf(), ready, 10, 4), { type: 'group' });
  assert.deepEqual(connectionsKeyAction('s', keyOf(), ready, 10, 4), { type: 'sort' });
  assert.deepEqual(connectionsKeyAction('A', keyOf(), ready, 10, 4), { type: 'askEnable' });
  assert.equal(connectionsKeyAction('a', keyOf(), ready, 10, 4), null, 'A only: a capital, not typed by accident');
  assert.deepEqual(connectionsKeyAction('j', keyOf(), ready, 10, 4), { type: 'scroll', action: 'down', viewportRows: 10, total: 4 });
  assert.deepEqual(connectionsKeyAction('', keyOf({ pageUp: true }), ready, 10, 4), { type: 'scroll', action: 'pageUp', viewportRows: 10, total: 4 });
  assert.deepEqual(connectionsKeyAction('q', keyOf(), ready, 10, 4), { type: 'back' });
  assert.deepEqual(connectionsKeyAction('', keyOf({ escape: true }), ready, 10, 4), { type: 'back' });
  const asking = connectionsReducer(ready, { type: 'askEnable' });
  assert.deepEqual(connectionsKeyAction('y', keyOf(), asking, 10, 4), { type: 'enableConfirm' });
  assert.deepEqual(connectionsKeyAction('', keyOf({ escape: true }), asking, 10, 4), { type: 'cancelEnable' });
  assert.equal(connectionsKeyAction('q', keyOf(), asking, 10, 4), null);
  assert.equal(connectionsKeyAction('g', keyOf(), asking, 10, 4), null);
});
