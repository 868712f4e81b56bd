// `?` help: every key of the current screen plus the global ones. The screen underneath stays
// mounted (live polling continues); ? / q / Esc close this.
import { Box, Text } from 'ink';
import type { ScreenId } from '../use-app-state.js';
import { useTheme } from '../theme.js';
import { Footer } from './footer.js';

const SCREEN_KEYS: Record<ScreenId, ReadonlyArray<readonly [string, string]>> = {
  connect: [
    ['Enter', 'connect with the typed password'],
    ['r', 'retry after a failure'],
    ['p', 'type the password again'],
  ],
  menu: [
    ['1 … 5', 'open a menu entry'],
    ['↑ ↓ / j k', 'move'],
    ['Enter', 'open the highlighted entry'],
    ['q / Esc', 'quit lantop'],
  ],
  devices: [
    ['↑ ↓ PgUp PgDn Home End', 'scroll'],
    ['r', 'ask the router again'],
    ['q / Esc', 'back to the menu'],
  ],
  live: [
    ['d', 'sort by download rate'],
    ['u', 'sort by upload rate'],
    ['t', 'sort by total traffic'],
    ['n', 'sort by name'],
    ['f', 'both address families, IPv4 only, IPv6 only'],
    ['w', 'sparkline over the last minute, 10 minutes or hour'],
    ['↑ ↓ / j k', 'move the row cursor (it follows its device when rows re-sort)'],
    ['PgUp PgDn Home End', 'move the cursor a page, to the first or last row'],
    ['Enter', "the selected device's connections (remote, port, bytes, rate)"],
    ['b / U', 'block the selected device (asks; ←→ device, +/- duration) / unblock one'],
    ['q / Esc', 'back to the menu (polling stops)'],
  ],
  connections: [
    ['g', 'group: every connection, by remote host, by remote port, by protocol'],
    ['s', 'sort by bytes or by rate'],
    ['A', 'turn connection accounting on, when the router has it off (asks y/n)'],
    ['↑ ↓ / j k PgUp PgDn Home End', 'scroll'],
    ['q / Esc', 'back to live usage'],
  ],
  setup: [
    ['y / n', 'apply the plan / cancel'],
    ['a', "adopt rules lantop did not write (like --adopt)"],
    ['r', 'plan again after a failure'],
    ['↑ ↓ PgUp PgDn', 'scroll the commands'],
    ['q / Esc', 'back to the menu'],
  ],
  flush: [
    ['y / n', 'apply the plan / cancel'],
    ['r', 'plan again after a failure'],
    ['↑ ↓ PgUp PgDn', 'scroll the commands'],
    ['q / Esc', 'back to the menu'],
  ],
  history: [
    ['h t y w m c a', 'last 6 hours, today, yesterday, week, month, billing cycle, all time'],
    ['← →', 'one period back / forward'],
    ['↑ ↓ PgUp PgDn Home End', 'move the row cursor'],
    ['Enter / d', "chart the selected device (d or Esc again: all devices)"],
    ['r', 'read again'],
    ['q / Esc', 'back to the menu'],
  ],
  quotas: [
    ['a / e / d', 'add, edit, remove a quota (d asks y/n)'],
    ['↑ ↓', 'select a quota'],
    ['Tab ←→ Enter Esc', 'in the form: field, choose, save, cancel'],
    ['r', 'read again'],
    ['q / Esc', 'back to the menu'],
  ],
  counters: [['q / Esc', 'back to the menu']],
  pick: [
    ['↑ ↓ / j k', 'move'],
    ['1 … 9', 'put the cursor on that router'],
    ['Enter', 'open the screen on the highlighted router'],
    ['q / Esc', 'back to the menu'],
  ],
};

// Several routers (issue 20): the live screen's view switch, and what the menu does first.
const MULTI_ROUTER_KEYS: Partial<Record<ScreenId, ReadonlyArray<readonly [string, string]>>> = {
  live: [['r', "next view: all routers combined → each router's own live usage → combined"]],
  menu: [['(several routers)', 'an entry that acts on one router asks which first']],
};
const MULTI_ROUTER_NOTES: Partial<Record<ScreenId, string>> = {
  live: 'combined: one row per device and router, a subtotal per router, and a total that counts each byte once ("via" rows of a router behind another are not added)',
};

// What a screen shows that no key explains: one line each, under the keys.
const SCREEN_NOTES: Partial<Record<ScreenId, string>> = {
  live: 'by port: the busiest traffic classes (setup --ports/--protocols), fastest first',
  counters: 'totals since each counter\'s last `lantop counter reset`; add and remove them with `lantop counter add|remove`, then `lantop setup`',
};

const GLOBAL_KEYS: ReadonlyArray<readonly [string, string]> = [
  ['?', 'show or hide this help'],
  ['Ctrl-C', 'exit lantop at once (the terminal is restored)'],
];

export function HelpOverlay({ screen, isMultiRouter = false }: { screen: ScreenId; isMultiRouter?: boolean }) {
  const theme = useTheme();
  const entries = [...(isMultiRouter ? (MULTI_ROUTER_KEYS[screen] ?? []) : []), ...SCREEN_KEYS[screen], ...GLOBAL_KEYS];
  const note = (isMultiRouter ? MULTI_ROUTER_NOTES[screen] : undefined) ?? SCREEN_NOTES[screen];
  const keyWidth = Math.max(...entries.map(([k]) => k.length));
  return (
    <Box flexDirection="column">
      <Text bold>Help · keys</Text>
      <Box flexDirection="column" marginY={1}>
        {entries.map(([keys, what]) => (
          <Text key={keys} wrap="truncate-end">
            <Text {...theme.accent}>{keys.padEnd(keyWidth)}</Text>  {what}
          </Text>
        ))}
        {note ? (
          <Text wrap="truncate-end" {...theme.dim}>
            {note}
          </Text>
        ) : null}
      </Box>
      <Footer hints={[{ keys: '? / q / Esc', action: 'close help' }]} />
    </Box>
  );
}
