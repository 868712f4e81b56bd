// Set up / flush / tear down lantop's accounting rules: show the dry-run plan (the exact commands
// the backend will send, opaque here), foreign rules and notes, ask y/n, apply with a spinner,
// then the result with the router's output and verification.
import { useEffect, useReducer } from 'react';
import { Box, Text } from 'ink';
import type { RouterController, RulePlanView } from '../../app/types.js';
import { sanitizeBlock, sanitizeText } from '../../sanitize.js';
import { Footer, type KeyHint } from '../components/footer.js';
import { Spinner } from '../components/spinner.js';
import { ErrorPanel } from '../components/error-panel.js';
import { describeError } from '../text.js';
import { clampScrollTop, describeScroll } from '../scroll.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { initialRulesState, rulesReducer, type RulesState } from './use-rules-state.js';
import { useRulesKeys } from './use-rules.js';

export const RULES_TITLES: Record<RulePlanView['action'], string> = {
  setup: 'Set up accounting rules',
  flush: 'Flush accounting rules',
  teardown: 'Tear down accounting rules',
};

const MAX_FOREIGN_SHOWN = 5;

export interface RulesScreenProps {
  controller: RouterController;
  action: RulePlanView['action'];
  isInputActive: boolean;
  onBack: () => void;
}

export function RulesScreen({ controller, action, isInputActive, onBack }: RulesScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const [state, dispatch] = useReducer(rulesReducer, false, initialRulesState);

  useEffect(() => {
    if (state.phase !== 'planning') return;
    let isCancelled = false;
    const request = state.planRequest;
    controller.plan(action, { isAdopting: state.isAdopting }).then(
      (plan) => !isCancelled && dispatch({ type: 'planned', request, plan }),
      (error: unknown) => !isCancelled && dispatch({ type: 'failed', step: 'plan', request, error: describeError(error) }),
    );
    return () => {
      isCancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [controller, action, state.planRequest]);

  useEffect(() => {
    if (state.phase !== 'applying' || state.plan === null) return;
    // No cancellation: once commands go to the router the result is shown, whatever the user pressed.
    controller.apply(state.plan).then(
      (result) => dispatch({ type: 'applied', result }),
      (error: unknown) => dispatch({ type: 'failed', step: 'apply', error: describeError(error) }),
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [controller, state.phase]);

  const plan = state.plan;
  const extraRows = plan ? planExtraRows(plan) : 0;
  const viewportRows = Math.max(3, rows - 9 - extraRows);
  const commands = plan?.commands ?? [];
  useRulesKeys({ state, dispatch, onBack, viewportRows, total: commands.length, isEnabled: isInputActive });

  const first = clampScrollTop(state.scrollTop, commands.length, viewportRows);
  const lineWidth = Math.max(10, width - 6);

  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        {RULES_TITLES[action]}
        {state.isAdopting ? <Text {...theme.warn}> (adopting existing rules)</Text> : null}
      </Text>
      <Box flexDirection="column" marginY={1}>
        {state.phase === 'planning' ? <Spinner label="Reading the router's rules and planning (dry run)…" /> : null}
        {state.phase === 'failed' && state.error ? (
          <>
            {state.failedStep === 'apply' ? <Text {...theme.error}>Applying the plan failed; the router may be partly changed. Press r to plan again from what it has now.</Text> : null}
            <ErrorPanel error={state.error} />
          </>
        ) : null}
        {plan && (state.phase === 'confirm' || state.phase === 'applying') ? (
          <PlanView plan={plan} state={state} first={first} viewportRows={viewportRows} lineWidth={lineWidth} />
        ) : null}
        {state.phase === 'applying' ? (
          <Box marginTop={1}>
            <Spinner label={`Applying ${commands.length} ${commands.length === 1 ? 'command' : 'commands'}…`} />
          </Box>
        ) : null}
        {state.phase === 'done' ? <ResultView state={state} lineWidth={lineWidth} /> : null}
      </Box>
      <Footer hints={hintsFor(state)} extra={state.phase === 'confirm' ? describeScroll(first, commands.length, viewportRows) : ''} />
    </Box>
  );
}

function planExtraRows(plan: RulePlanView): number {
  const count = plan.foreignRules.length;
  // Margin, heading, the rules shown, "…and N more", and the adopt line.
  const foreign = count > 0 ? Math.min(count, MAX_FOREIGN_SHOWN) + 3 + (count > MAX_FOREIGN_SHOWN ? 1 : 0) : 0;
  return plan.notes.length + foreign + (plan.rejectedHosts.length > 0 ? 1 : 0);
}

function PlanView({ plan, state, first, viewportRows, lineWidth }: { plan: RulePlanView; state: RulesState; first: number; viewportRows: number; lineWidth: number }) {
  const theme = useTheme();
  const count = plan.commands.length;
  const numberWidth = String(count).length;
  const foreignShown = plan.foreignRules.slice(0, MAX_FOREIGN_SHOWN);
  return (
    <Box flexDirection="column">
      {count === 0 ? (
        <Text {...theme.ok}>✓ Nothing to do: the router already matches.</Text>
      ) : (
        <>
          <Text wrap="truncate-end">
            lantop will send {count === 1 ? 'this command' : `these ${count} commands`} to the router, in order:
          </Text>
          {plan.commands.slice(first, first + viewportRows).map((command, i) => (
            <Text key={first + i} wrap="truncate-end">
              <Text {...theme.dim}>{String(first + i + 1).padStart(numberWidth)} </Text>
              {/* Our own commands, but cleaned anyway: they carry router-derived tokens. */}
              {sanitizeText(command, lineWidth)}
            </Text>
          ))}
        </>
      )}
      {plan.notes.map((note, i) => (
        <Text key={`note${i}`} {...theme.dim} wrap="truncate-end">
          • {sanitizeText(note, lineWidth)}
        </Text>
      ))}
      {plan.rejectedHosts.length > 0 ? (
        <Text {...theme.warn} wrap="truncate-end">
          Skipped (not a valid IPv4 address): {plan.rejectedHosts.map((h) => sanitizeText(h, 40)).join(', ')}
        </Text>
      ) : null}
      {plan.foreignRules.length > 0 ? (
        <Box flexDirection="column" marginTop={1}>
          <Text {...theme.warn} wrap="truncate-end">
            ⚠ {plan.foreignRules.length} {plan.foreignRules.length === 1 ? 'rule' : 'rules'} among lantop's accounting rules that lantop did not write:
          </Text>
          {foreignShown.map((rule, i) => (
            <Text key={`foreign${i}`} wrap="truncate-end">
              {'  '}
              {sanitizeText(rule, lineWidth)}
            </Text>
          ))}
          {plan.foreignRules.length > foreignShown.length ? <Text {...theme.dim}>  …and {plan.foreignRules.length - foreignShown.length} more</Text> : null}
          <Text wrap="truncate-end">
            {state.isAdopting
              ? 'Adopting: lantop will treat them as its own (like --adopt).'
              : plan.action === 'setup'
                ? 'Press a to adopt them (like `lantop setup --adopt`); otherwise lantop leaves them alone.'
                : 'lantop leaves them alone.'}
          </Text>
        </Box>
      ) : null}
      {state.phase === 'confirm' && count > 0 ? (
        <Box marginTop={1}>
          <Text bold>
            Apply {count === 1 ? 'this command' : `these ${count} commands`}? <Text {...theme.accent}>[y/n]</Text>
          </Text>
        </Box>
      ) : null}
    </Box>
  );
}

function ResultView({ state, lineWidth }: { state: RulesState; lineWidth: number }) {
  const theme = useTheme();
  const result = state.result;
  if (result === null || state.plan === null) return null;
  const total = state.plan.commands.length;
  return (
    <Box flexDirection="column">
      {result.failed === null ? (
        <Text {...theme.ok}>
          ✓ Applied {result.applied.length} of {total} {total === 1 ? 'command' : 'commands'}.
        </Text>
      ) : (
        <>
          <Text {...theme.error}>
            ✗ Applied {result.applied.length} of {total} {total === 1 ? 'command' : 'commands'}; this one failed:
          </Text>
          <Text wrap="truncate-end">  {sanitizeText(result.failed.command, lineWidth)}</Text>
          <Text {...theme.dim}>The router said:</Text>
          {sanitizeBlock(result.failed.output, lineWidth, 8)
            .split('\n')
            .map((line, i) => (
              <Text key={i} wrap="truncate-end">
                {'  '}
                {line}
              </Text>
            ))}
        </>
      )}
      {result.isVerified ? (
        <Text {...theme.ok}>✓ Verified: the router's rules now match the plan.</Text>
      ) : (
        <Text {...theme.warn}>⚠ Not verified: the router's rules do not match the plan. Run this again, or check `lantop setup --dry-run`.</Text>
      )}
      {result.notes.map((note, i) => (
        <Text key={i} {...theme.dim} wrap="truncate-end">
          • {sanitizeText(note, lineWidth)}
        </Text>
      ))}
    </Box>
  );
}

function hintsFor(state: RulesState): KeyHint[] {
  const back = { keys: 'q/Esc', action: 'back' };
  switch (state.phase) {
    case 'confirm': {
      const plan = state.plan;
      if (plan === null || plan.commands.length === 0) return [{ keys: 'Enter', action: 'back' }, back];
      const hints: KeyHint[] = [{ keys: 'y', action: 'apply' }, { keys: 'n', action: 'cancel' }];
      if (plan.action === 'setup' && plan.foreignRules.length > 0 && !state.isAdopting) hints.push({ keys: 'a', action: 'adopt foreign rules' });
      hints.push({ keys: '↑↓ PgUp PgDn', action: 'scroll' }, { keys: '?', action: 'help' });
      return hints;
    }
    case 'applying':
      return [{ keys: 'Ctrl-C', action: 'exit' }];
    case 'failed':
      return [{ keys: 'r', action: 'plan again' }, back, { keys: '?', action: 'help' }];
    default:
      return [back, { keys: '?', action: 'help' }];
  }
}
