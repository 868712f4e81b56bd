// Quotas screen state (issue 16): the list (cursor, loading/failed), a removal awaiting y/n, and
// the add/edit form — whom (a choice among the line, persons and known devices), limit, direction,
// period, notify percents and block — checked here with the domain's parsers before it is saved.
import type { QuotaInput, QuotasView } from '../../app/types.js';
import { formatQuotaPeriod, parsePercent, parseQuotaPeriod, parseSize, QUOTA_DIRECTIONS, type QuotaDirection } from '../../domain/quota.js';
import type { ErrorView } from '../text.js';

export const FORM_FIELDS = ['subject', 'limit', 'direction', 'period', 'notify', 'block'] as const;
export type FormField = (typeof FORM_FIELDS)[number];

export interface QuotaForm {
  /** The quota an edit replaces; absent: a new one. */
  replacesId?: number;
  field: number;
  subjectIndex: number;
  limitText: string;
  direction: QuotaDirection;
  periodText: string;
  notifyText: string;
  block: boolean;
  error: string | null;
}

export interface QuotasState {
  status: 'loading' | 'ready' | 'failed';
  view: QuotasView | null;
  error: ErrorView | null;
  cursor: number;
  request: number;
  confirmRemoveId: number | null;
  form: QuotaForm | null;
  message: string | null;
}

export type QuotasAction =
  | { type: 'loaded'; request: number; view: QuotasView }
  | { type: 'failed'; request: number; error: ErrorView }
  | { type: 'reload'; message?: string }
  | { type: 'move'; by: number }
  | { type: 'askRemove' }
  | { type: 'cancel' }
  | { type: 'add' }
  | { type: 'edit' }
  | { type: 'formField'; by: number }
  | { type: 'formChoice'; by: number }
  | { type: 'formType'; text: string }
  | { type: 'formErase' }
  | { type: 'formError'; error: string };

export const initialQuotasState: QuotasState = { status: 'loading', view: null, error: null, cursor: 0, request: 1, confirmRemoveId: null, form: null, message: null };

const TEXT_FIELDS: Readonly<Partial<Record<FormField, 'limitText' | 'periodText' | 'notifyText'>>> = { limit: 'limitText', period: 'periodText', notify: 'notifyText' };

function sizeText(bytes: number): string {
  return bytes % 1e9 === 0 ? `${bytes / 1e9}GB` : bytes % 1e6 === 0 ? `${bytes / 1e6}MB` : String(bytes);
}

function editForm(view: QuotasView, index: number): QuotaForm | null {
  const row = view.quotas[index];
  if (!row) return null;
  const { input } = row;
  const subjectIndex = Math.max(0, view.subjects.findIndex((s) => JSON.stringify(s.subject) === JSON.stringify(input.subject)));
  return { replacesId: row.usage.id, field: 1, subjectIndex, limitText: sizeText(input.limitBytes), direction: input.direction, periodText: formatQuotaPeriod(input.period), notifyText: input.notifyPercents.join(','), block: input.block, error: null };
}

export function quotasReducer(state: QuotasState, action: QuotasAction): QuotasState {
  const form = state.form;
  switch (action.type) {
    case 'loaded':
      if (action.request !== state.request) return state;
      return { ...state, status: 'ready', view: action.view, error: null, cursor: Math.min(state.cursor, Math.max(0, action.view.quotas.length - 1)) };
    case 'failed':
      return action.request === state.request ? { ...state, status: 'failed', error: action.error } : state;
    case 'reload':
      return { ...state, status: 'loading', request: state.request + 1, form: null, confirmRemoveId: null, message: action.message ?? null };
    case 'move': {
      const count = state.view?.quotas.length ?? 0;
      return count === 0 ? state : { ...state, cursor: Math.max(0, Math.min(count - 1, state.cursor + action.by)), message: null };
    }
    case 'askRemove': {
      const row = state.view?.quotas[state.cursor];
      return row ? { ...state, confirmRemoveId: row.usage.id, message: null } : state;
    }
    case 'cancel':
      return { ...state, confirmRemoveId: null, form: null, message: null };
    case 'add':
      return state.view ? { ...state, message: null, form: { field: 0, subjectIndex: 0, limitText: '', direction: 'total', periodText: 'month', notifyText: '80,100', block: false, error: null } } : state;
    case 'edit': {
      const edit = state.view ? editForm(state.view, state.cursor) : null;
      return edit ? { ...state, form: edit, message: null } : state;
    }
    case 'formField':
      return form ? { ...state, form: { ...form, field: (form.field + action.by + FORM_FIELDS.length) % FORM_FIELDS.length } } : state;
    case 'formChoice': {
      if (!form || !state.view) return state;
      const field = FORM_FIELDS[form.field];
      if (field === 'subject') {
        const count = state.view.subjects.length;
        return { ...state, form: { ...form, subjectIndex: (form.subjectIndex + action.by + count) % count, error: null } };
      }
      if (field === 'direction') {
        const i = QUOTA_DIRECTIONS.indexOf(form.direction);
        return { ...state, form: { ...form, direction: QUOTA_DIRECTIONS[(i + action.by + QUOTA_DIRECTIONS.length) % QUOTA_DIRECTIONS.length]!, error: null } };
      }
      if (field === 'block') return { ...state, form: { ...form, block: !form.block, error: null } };
      return state;
    }
    case 'formType': {
      const key = form ? TEXT_FIELDS[FORM_FIELDS[form.field]!] : undefined;
      if (!form || !key || form[key].length >= 20) return state;
      return { ...state, form: { ...form, [key]: form[key] + action.text.replace(/[^\w.:, %-]/g, ''), error: null } };
    }
    case 'formErase': {
      const key = form ? TEXT_FIELDS[FORM_FIELDS[form.field]!] : undefined;
      return form && key ? { ...state, form: { ...form, [key]: form[key].slice(0, -1), error: null } } : state;
    }
    case 'formError':
      return form ? { ...state, form: { ...form, error: action.error } } : state;
  }
}

/** The form as a quota, or the first thing wrong with it in words. */
export function formInput(form: QuotaForm, view: QuotasView): { input: QuotaInput } | { error: string } {
  const subject = view.subjects[form.subjectIndex]?.subject;
  if (!subject) return { error: 'pick whom the quota is on' };
  try {
    const limitBytes = parseSize(form.limitText);
    const period = parseQuotaPeriod(form.periodText);
    const notifyPercents = form.notifyText.split(/[,\s]+/).filter(Boolean).map(parsePercent);
    return { input: { subject, limitBytes, direction: form.direction, period, notifyPercents, block: form.block } };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}
