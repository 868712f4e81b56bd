// Quotas (issue 16): every quota of the router with what is used, what is left and when it
// resets, the blocks now and the audit log; a to add, e to edit, d to remove (with y/n), from a
// small keyboard form. State in use-quotas-state.ts (kept in a ref, so keys faster than renders
// see the newest state), keys in use-quotas.ts; the controller does the work.
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { Box, Text } from 'ink';
import type { QuotaRowView, QuotasView, RouterController } from '../../app/types.js';
import { formatBytes } from '../../output/units.js';
import { Footer } from '../components/footer.js';
import { Spinner } from '../components/spinner.js';
import { ErrorPanel } from '../components/error-panel.js';
import { cellText, describeError } from '../text.js';
import { shareBar } from '../sparkline.js';
import { useTheme } from '../theme.js';
import { shortTimeLeft } from './live-quota.js';
import { formatRange } from './history-screen.js';
import { FORM_FIELDS, formInput, initialQuotasState, quotasReducer, type QuotaForm, type QuotasAction, type QuotasState } from './use-quotas-state.js';
import { useQuotasKeys } from './use-quotas.js';

export interface QuotasScreenProps {
  controller: RouterController;
  isInputActive: boolean;
  onBack: () => void;
  now?: () => number;
}

function quotaLine(row: QuotaRowView, nowMs: number): string {
  const q = row.usage;
  const reset = q.resetMs === null ? 'no reset yet' : `resets in ${shortTimeLeft(q.resetMs, nowMs)}`;
  const actions = row.thresholds.map((t) => `${t.percent}%${t.block ? (t.notify ? ' notify+block' : ' block') : ''}`).join(', ');
  return `${String(q.id).padStart(3)}  ${cellText(q.name, 24).padEnd(24)} ${shareBar(q.percent / 100, 10, '░')} ${Math.floor(q.percent)}% of ${formatBytes(q.limitBytes)} ${q.direction}/${q.period} · ${formatBytes(q.leftBytes)} left · ${reset} · at ${actions}${q.isBlocked ? ' · BLOCKED' : ''}`;
}

function FormView({ form, view }: { form: QuotaForm; view: QuotasView }) {
  const theme = useTheme();
  const values: Record<(typeof FORM_FIELDS)[number], string> = {
    subject: `◀ ${cellText(view.subjects[form.subjectIndex]?.label ?? '', 60)} ▶`,
    limit: `${form.limitText}_  (e.g. 50GB, 500MB, 2GiB)`,
    direction: `◀ ${form.direction} ▶`,
    period: `${form.periodText}_  (day, week, month, cycle:N, Nh, Nm)`,
    notify: `${form.notifyText}_  (percents, e.g. 80,100)`,
    block: `◀ ${form.block ? 'yes: block at 100 %' : 'no'} ▶`,
  };
  return (
    <Box flexDirection="column" marginY={1}>
      <Text bold>{form.replacesId === undefined ? 'New quota' : `Edit quota ${form.replacesId}`}</Text>
      {FORM_FIELDS.map((field, i) => (
        <Text key={field} wrap="truncate-end" {...(i === form.field ? theme.selected : {})}>
          {i === form.field ? '❯ ' : '  '}
          {field.padEnd(10)} {values[field]}
        </Text>
      ))}
      {form.error ? <Text {...theme.error}>✗ {cellText(form.error, 200)}</Text> : null}
    </Box>
  );
}

export function QuotasScreen({ controller, isInputActive, onBack, now = Date.now }: QuotasScreenProps) {
  const theme = useTheme();
  const stateRef = useRef<QuotasState>(initialQuotasState);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const dispatch = useCallback((action: QuotasAction) => {
    const next = quotasReducer(stateRef.current, action);
    if (next === stateRef.current) return;
    stateRef.current = next;
    rerender();
  }, []);
  const state = stateRef.current;

  useEffect(() => {
    let isCancelled = false;
    const request = state.request;
    controller.quotas().then(
      (view) => !isCancelled && dispatch({ type: 'loaded', request, view }),
      (error: unknown) => !isCancelled && dispatch({ type: 'failed', request, error: describeError(error) }),
    );
    return () => {
      isCancelled = true;
    };
  }, [controller, state.request, dispatch]);

  const onSave = () => {
    const { form, view } = stateRef.current;
    if (!form || !view) return;
    const checked = formInput(form, view);
    if ('error' in checked) return dispatch({ type: 'formError', error: checked.error });
    controller.saveQuota(checked.input, form.replacesId).then(
      () => dispatch({ type: 'reload', message: form.replacesId === undefined ? 'Quota added.' : `Quota ${form.replacesId} changed.` }),
      (error: unknown) => dispatch({ type: 'formError', error: describeError(error).message }),
    );
  };
  const onRemove = (id: number) => {
    controller.removeQuota(id).then(
      () => dispatch({ type: 'reload', message: `Quota ${id} removed.` }),
      (error: unknown) => dispatch({ type: 'reload', message: describeError(error).message }),
    );
  };
  useQuotasKeys({ getState: () => stateRef.current, dispatch, onBack, onSave, onRemove, isEnabled: isInputActive });

  const view = state.view;
  const nowMs = now();
  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        Quotas{view ? ` · ${view.quotas.length} ${view.quotas.length === 1 ? 'quota' : 'quotas'} · ${view.blocks.length} blocked` : ''}
      </Text>
      {state.status === 'loading' && !view ? <Spinner label="Reading the quotas…" /> : null}
      {state.status === 'failed' && state.error ? <ErrorPanel error={state.error} /> : null}
      {view ? (
        <Box flexDirection="column" marginTop={1}>
          {view.quotas.length === 0 ? <Text>No quotas yet. Press a to add one (or `lantop quota add`).</Text> : null}
          {view.quotas.map((row, i) => (
            <Text key={row.usage.id} wrap="truncate-end" {...(i === state.cursor ? theme.selected : {})}>
              {i === state.cursor ? '❯' : ' '}
              {quotaLine(row, nowMs)}
            </Text>
          ))}
          {state.form ? <FormView form={state.form} view={view} /> : null}
          {state.confirmRemoveId !== null ? <Text {...theme.warn}>Remove quota {state.confirmRemoveId}? y/n</Text> : null}
          {state.message ? <Text {...theme.accent}>{cellText(state.message, 200)}</Text> : null}
          <Text bold>{'\n'}Blocked now</Text>
          {view.blocks.length === 0 ? <Text {...theme.dim}>  none</Text> : null}
          {view.blocks.map((b) => (
            <Text key={b.identity} wrap="truncate-end">
              {'  '}
              {cellText(b.name, 32)} {b.untilMs === null ? '(no end)' : `until ${formatRange(b.untilMs, b.untilMs).split(' → ')[0]} (in ${shortTimeLeft(b.untilMs, nowMs)})`}
            </Text>
          ))}
          <Text bold>{'\n'}Block log</Text>
          {view.audit.length === 0 ? <Text {...theme.dim}>  nothing yet</Text> : null}
          {view.audit.slice(-8).map((a, i) => (
            <Text key={`${a.atMs}-${i}`} wrap="truncate-end" {...theme.dim}>
              {'  '}
              {formatRange(a.atMs, a.atMs).split(' → ')[0]} {a.action.padEnd(7)} {cellText(a.name, 24)} · {a.by === 'hand' ? 'by hand' : 'by quota'} · {cellText(a.reason, 80)}
            </Text>
          ))}
        </Box>
      ) : null}
      <Footer
        hints={
          state.form
            ? [
                { keys: 'Tab/↑↓', action: 'field' },
                { keys: '←→', action: 'choose' },
                { keys: 'Enter', action: 'save' },
                { keys: 'Esc', action: 'cancel' },
              ]
            : [
                { keys: 'a', action: 'add' },
                { keys: 'e', action: 'edit' },
                { keys: 'd', action: 'remove' },
                { keys: '↑↓', action: 'select' },
                { keys: 'r', action: 'read again' },
                { keys: 'q/Esc', action: 'back' },
              ]
        }
      />
    </Box>
  );
}
