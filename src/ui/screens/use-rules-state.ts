// Set up / flush: plan (dry run) → confirm → apply → result. The plan shown is the plan applied:
// apply() receives the very object the user confirmed.
import type { ApplyResult, RulePlanView } from '../../app/types.js';
import type { ErrorView } from '../text.js';
import { scrollTopAfter, type ScrollAction } from '../scroll.js';

export type RulesPhase = 'planning' | 'confirm' | 'applying' | 'done' | 'failed';

export interface RulesState {
  phase: RulesPhase;
  plan: RulePlanView | null;
  result: ApplyResult | null;
  error: ErrorView | null;
  /** Where the error came from: a failed plan can be retried, a failed apply is re-planned. */
  failedStep: 'plan' | 'apply' | null;
  isAdopting: boolean;
  scrollTop: number;
  /** Bumped to (re)run plan(). */
  planRequest: number;
}

export type RulesAction =
  | { type: 'planned'; request: number; plan: RulePlanView }
  | { type: 'failed'; step: 'plan' | 'apply'; request?: number; error: ErrorView }
  | { type: 'adopt' }
  | { type: 'replan' }
  | { type: 'confirm' }
  | { type: 'applied'; result: ApplyResult }
  | { type: 'scroll'; action: ScrollAction; viewportRows: number; total: number };

export function initialRulesState(isAdopting = false): RulesState {
  return { phase: 'planning', plan: null, result: null, error: null, failedStep: null, isAdopting, scrollTop: 0, planRequest: 1 };
}

export function rulesReducer(state: RulesState, action: RulesAction): RulesState {
  switch (action.type) {
    case 'planned':
      if (state.phase !== 'planning' || action.request !== state.planRequest) return state;
      return { ...state, phase: 'confirm', plan: action.plan, scrollTop: 0 };
    case 'failed':
      if (action.step === 'plan' && (state.phase !== 'planning' || action.request !== state.planRequest)) return state;
      if (action.step === 'apply' && state.phase !== 'applying') return state;
      return { ...state, phase: 'failed', error: action.error, failedStep: action.step };
    case 'adopt':
      // Only a setup plan that found foreign rules can be re-planned to adopt them.
      if (state.phase !== 'confirm' || state.plan?.action !== 'setup' || state.plan.foreignRules.length === 0 || state.isAdopting) return state;
      return { ...initialRulesState(true), planRequest: state.planRequest + 1 };
    case 'replan':
      if (state.phase !== 'failed' && state.phase !== 'done') return state;
      return { ...initialRulesState(state.isAdopting), planRequest: state.planRequest + 1 };
    case 'confirm':
      if (state.phase !== 'confirm' || state.plan === null || state.plan.commands.length === 0) return state;
      return { ...state, phase: 'applying' };
    case 'applied':
      return state.phase === 'applying' ? { ...state, phase: 'done', result: action.result, scrollTop: 0 } : state;
    case 'scroll':
      return { ...state, scrollTop: scrollTopAfter(state.scrollTop, action.action, action.total, action.viewportRows) };
  }
}
