// The Quotas screen's reducer and form check (pure, no Ink): loading by request number, the cursor,
// the removal prompt, the add and edit forms (whom, limit, direction, period, notify, block).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuotasView } from '../../app/types.js';
import type { ErrorView } from '../text.js';
import { formInput, initialQuotasState, quotasReducer, type QuotasAction, type QuotasState } from './use-quotas-state.js';

const MAC = '02:00:00:00:00:0a';
const row = (id: number, limitBytes: number, over: Partial<QuotasView['quotas'][number]['input']> = {}): QuotasView['quotas'][number] => ({
  usage: { id, subject: { kind: 'device', id: MAC }, name: 'laptop', identities: [MAC], direction: 'total', period: 'day', usedBytes: 0, limitBytes, leftBytes: limitBytes, percent: 0, startMs: 0, resetMs: null, isBlocked: false },
  input: { subject: { kind: 'device', identity: MAC }, limitBytes, direction: 'up', period: { kind: 'cycle', startDay: 15 }, notifyPercents: [50, 90], block: true, ...over },
  thresholds: [],
});
const view = (quotas = [row(3, 5e9), row(4, 1_500_000), row(5, 123_456, { subject: { kind: 'person', name: 'Nobody' } })]): QuotasView => ({
  quotas,
  subjects: [
    { subject: { kind: 'line' }, label: 'whole line (every device)' },
    { subject: { kind: 'person', name: 'Ben' }, label: 'Ben (person, 2 devices)' },
    { subject: { kind: 'device', identity: MAC }, label: 'laptop' },
  ],
  blocks: [],
  audit: [],
});
const run = (state: QuotasState, ...actions: QuotasAction[]) => actions.reduce(quotasReducer, state);
const ready = (v = view()) => run(initialQuotasState, { type: 'loaded', request: 1, view: v });

test('loading: only the answer to the current request counts; reload asks again and closes form and prompt', () => {
  assert.equal(run(initialQuotasState, { type: 'loaded', request: 7, view: view() }), initialQuotasState, 'a stale answer is ignored');
  const state = ready();
  assert.deepEqual([state.status, state.view?.quotas.length, state.error], ['ready', 3, null]);
  const reloading = run(state, { type: 'add' }, { type: 'reload', message: 'Quota added.' });
  assert.deepEqual([reloading.status, reloading.request, reloading.form, reloading.message], ['loading', 2, null, 'Quota added.']);
  const error: ErrorView = { title: 'Not connected', message: 'no router', nextStep: null, seen: null, isAuth: false, exitCode: 4 };
  assert.equal(run(reloading, { type: 'failed', request: 1, error }), reloading, 'a stale failure too');
  assert.deepEqual(run(reloading, { type: 'failed', request: 2, error }).status, 'failed');
  // The cursor stays inside a shorter list.
  const moved = run(state, { type: 'move', by: 5 });
  assert.equal(moved.cursor, 2);
  assert.equal(run(moved, { type: 'reload' }, { type: 'loaded', request: 2, view: view([row(3, 5e9)]) }).cursor, 0);
});

test('cursor and removal: moves within the list, asks for the row under the cursor, cancel forgets it', () => {
  const state = ready();
  assert.equal(run(state, { type: 'move', by: -1 }).cursor, 0);
  const asked = run(state, { type: 'move', by: 1 }, { type: 'askRemove' });
  assert.equal(asked.confirmRemoveId, 4);
  assert.equal(run(asked, { type: 'cancel' }).confirmRemoveId, null);
  const empty = ready(view([]));
  assert.equal(run(empty, { type: 'move', by: 1 }), empty);
  assert.equal(run(empty, { type: 'askRemove' }), empty);
  assert.equal(run(empty, { type: 'edit' }), empty, 'nothing to edit');
  assert.equal(run(initialQuotasState, { type: 'add' }), initialQuotasState, 'no form before the view is there');
});

test('the add form: defaults, fields wrap, choices cycle, text only in text fields, filtered and capped', () => {
  let state = run(ready(), { type: 'add' });
  assert.deepEqual(state.form, { field: 0, subjectIndex: 0, limitText: '', direction: 'total', periodText: 'month', notifyText: '80,100', block: false, error: null });
  state = run(state, { type: 'formChoice', by: -1 });
  assert.equal(state.form?.subjectIndex, 2, 'whom wraps backwards to the last choice');
  state = run(state, { type: 'formType', text: 'x' });
  assert.equal(state.form?.subjectIndex, 2, 'typing on a choice does nothing');
  state = run(state, { type: 'formField', by: 1 }, { type: 'formType', text: '5G\u001b[2J' }, { type: 'formType', text: 'B' });
  assert.equal(state.form?.limitText, '5G2JB', 'escape characters (and brackets) never reach the text');
  state = run(state, { type: 'formErase' }, { type: 'formErase' }, { type: 'formErase' }, { type: 'formType', text: 'B' });
  assert.equal(state.form?.limitText, '5GB');
  assert.equal(run(state, { type: 'formType', text: '1'.repeat(40) }, { type: 'formType', text: '1' }).form?.limitText.length, 43, 'a paste is taken whole, then no more');
  const capped = run(state, { type: 'formType', text: '1'.repeat(17) }, { type: 'formType', text: '2' });
  assert.equal(capped.form?.limitText, `5GB${'1'.repeat(17)}`, 'no more typing at 20 characters');
  state = run(state, { type: 'formField', by: 1 }, { type: 'formChoice', by: 1 });
  assert.equal(state.form?.direction, 'down', 'total → down (wraps)');
  state = run(state, { type: 'formField', by: 3 }, { type: 'formChoice', by: 1 });
  assert.equal(state.form?.block, true);
  assert.equal(run(state, { type: 'formField', by: 1 }).form?.field, 0, 'past the last field: the first');
  assert.equal(run(state, { type: 'formField', by: -6 }).form?.field, 5);
  state = run(state, { type: 'formError', error: 'bad' });
  assert.equal(state.form?.error, 'bad');
  assert.equal(run(state, { type: 'formChoice', by: 1 }).form?.error, null, 'a change clears the error');
});

test('the edit form starts from the quota under the cursor and remembers which one it replaces', () => {
  const v = view();
  const edit = (cursor: number) => run(ready(v), { type: 'move', by: cursor }, { type: 'edit' }).form;
  assert.deepEqual(edit(0), { replacesId: 3, field: 1, subjectIndex: 2, limitText: '5GB', direction: 'up', periodText: 'cycle:15', notifyText: '50,90', block: true, error: null });
  assert.equal(edit(1)?.limitText, '1500000', 'bytes when not whole MB or GB');
  assert.equal(run(ready(view([row(6, 2e6)])), { type: 'edit' }).form?.limitText, '2MB');
  assert.equal(edit(2)?.subjectIndex, 0, 'a subject no longer offered: the first choice');
});

test('formInput: the form as a quota, or the first thing wrong in words', () => {
  const v = view();
  const form = run(ready(v), { type: 'edit' }).form!;
  assert.deepEqual(formInput(form, v), {
    input: { subject: { kind: 'device', identity: MAC }, limitBytes: 5e9, direction: 'up', period: { kind: 'cycle', startDay: 15 }, notifyPercents: [50, 90], block: true },
  });
  assert.deepEqual(formInput({ ...form, notifyText: ' 80, 100 ' }, v), { input: { ...(formInput(form, v) as { input: object }).input, notifyPercents: [80, 100] } });
  const error = (over: Partial<typeof form>) => (formInput({ ...form, ...over }, v) as { error?: string }).error;
  assert.match(error({ limitText: 'xy' }) ?? '', /cannot read size "xy"/);
  assert.match(error({ limitText: '-1GB' }) ?? '', /must be positive/);
  assert.match(error({ periodText: 'fortnight' }) ?? '', /cannot read period/);
  assert.match(error({ periodText: 'cycle' }) ?? '', /start day/);
  assert.match(error({ notifyText: '0' }) ?? '', /whole percent/);
  assert.match(error({ subjectIndex: 9 }) ?? '', /pick whom/);
});
