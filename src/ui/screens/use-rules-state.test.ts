import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan } from '../../../test/fakes/fake-controller.js';
import { keyOf } from '../../../test/fakes/fake-terminal.js';
import { describeError } from '../text.js';
import { RouterError } from '../../errors.js';
import { initialRulesState, rulesReducer, type RulesState } from './use-rules-state.js';
import { rulesKeyAction } from './use-rules.js';

const setupPlan = plan('setup', ['acct create lantop', 'acct hook lantop'], { foreignRules: ['ACCEPT all -- 0.0.0.0/0'] });
const view = { viewportRows: 10, total: 2 };

test('plan → confirm → applying → done; replies to stale requests are ignored', () => {
  let state = initialRulesState();
  assert.equal(rulesReducer(state, { type: 'planned', request: 99, plan: setupPlan }), state);
  state = rulesReducer(state, { type: 'planned', request: 1, plan: setupPlan });
  assert.equal(state.phase, 'confirm');
  state = rulesReducer(state, { type: 'confirm' });
  assert.equal(state.phase, 'applying');
  state = rulesReducer(state, { type: 'applied', result: { applied: setupPlan.commands, failed: null, isVerified: true, notes: [] } });
  assert.equal(state.phase, 'done');
  assert.equal(state.result?.applied.length, 2);
});

test('an empty plan cannot be confirmed; adopting re-plans a setup with foreign rules only', () => {
  const empty = rulesReducer(initialRulesState(), { type: 'planned', request: 1, plan: plan('flush', []) });
  assert.equal(rulesReducer(empty, { type: 'confirm' }), empty);
  assert.equal(rulesReducer(empty, { type: 'adopt' }), empty);
  const confirm = rulesReducer(initialRulesState(), { type: 'planned', request: 1, plan: setupPlan });
  const adopting = rulesReducer(confirm, { type: 'adopt' });
  assert.deepEqual([adopting.phase, adopting.isAdopting, adopting.planRequest], ['planning', true, 2]);
});

test('failures: a failed plan or apply is shown, r plans again, and apply failures only count while applying', () => {
  const error = describeError(new RouterError('acct: Permission denied'));
  const planning = initialRulesState();
  const failed = rulesReducer(planning, { type: 'failed', step: 'plan', request: 1, error });
  assert.deepEqual([failed.phase, failed.failedStep], ['failed', 'plan']);
  const replanned = rulesReducer(failed, { type: 'replan' });
  assert.deepEqual([replanned.phase, replanned.planRequest], ['planning', 2]);
  assert.equal(rulesReducer(planning, { type: 'failed', step: 'apply', error }), planning);
});

test('rules keys: y applies only a non-empty plan, n cancels, a adopts only when offered', () => {
  const confirm: RulesState = { ...initialRulesState(), phase: 'confirm', plan: setupPlan };
  assert.deepEqual(rulesKeyAction(confirm, 'y', keyOf(), view), { type: 'confirm' });
  assert.deepEqual(rulesKeyAction(confirm, 'n', keyOf(), view), { type: 'back' });
  assert.deepEqual(rulesKeyAction(confirm, 'a', keyOf(), view), { type: 'adopt' });
  const flush: RulesState = { ...confirm, plan: plan('flush', ['acct clear lantop'], { foreignRules: ['x'] }) };
  assert.equal(rulesKeyAction(flush, 'a', keyOf(), view), null);
  const empty: RulesState = { ...confirm, plan: plan('setup', []) };
  assert.equal(rulesKeyAction(empty, 'y', keyOf(), view), null);
  assert.deepEqual(rulesKeyAction(empty, '', keyOf({ return: true }), view), { type: 'back' });
  const applying: RulesState = { ...confirm, phase: 'applying' };
  assert.equal(rulesKeyAction(applying, 'q', keyOf(), view), null);
  assert.deepEqual(rulesKeyAction(confirm, '', keyOf({ downArrow: true }), view), { type: 'scroll', action: 'down', ...view });
});
