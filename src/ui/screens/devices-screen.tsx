// Connected devices: "Router reports N active devices" and a table of name, IP, MAC and whether
// lantop counts each one. Narrow terminals drop MAC first, then the counted column. A device
// with several addresses has a row per address; the IP column widens for IPv6 when there is room.
import { useEffect, useMemo, useReducer } from 'react';
import { Box, Text } from 'ink';
import type { DiscoveredHost, RouterController } from '../../app/types.js';
import { addressColumnWidth, layoutColumns, widenColumn, type ColumnSpec } from '../columns.js';
import { TableHeader, TableRow } from '../components/table.js';
import { Footer } from '../components/footer.js';
import { Spinner } from '../components/spinner.js';
import { ErrorPanel } from '../components/error-panel.js';
import { cellText, describeError, displayName } from '../text.js';
import { clampScrollTop, describeScroll } from '../scroll.js';
import { useTerminalSize } from '../use-terminal-size.js';
import { useTheme } from '../theme.js';
import { compareAddresses, MAX_ADDRESS_LENGTH } from '../../domain/address.js';
import { IPV4_COLUMN_WIDTH } from '../../output/table.js';
import { devicesReducer, initialDevicesState } from './use-devices-state.js';
import { useDevicesKeys } from './use-devices.js';

type DeviceColumn = 'name' | 'ip' | 'mac' | 'counted';

export const DEVICE_COLUMNS: readonly ColumnSpec<DeviceColumn>[] = [
  { id: 'name', header: 'NAME', width: 12, maxWidth: 32, priority: 100 },
  { id: 'ip', header: 'IP', width: IPV4_COLUMN_WIDTH, priority: 90 },
  { id: 'mac', header: 'MAC', width: 17, priority: 50 },
  { id: 'counted', header: 'COUNTED', width: 7, priority: 70 },
];

/** A row is one (device, address) pair: the device's identity alone repeats when it holds several. */
function rowKey(host: DiscoveredHost): string {
  return `${host.identity} ${host.ip}`;
}

// Title, margins, count line, header, footer and one spare line so Ink never hits the bottom row.
const CHROME_ROWS = 7;

export interface DevicesScreenProps {
  controller: RouterController;
  isInputActive: boolean;
  onBack: () => void;
}

export function DevicesScreen({ controller, isInputActive, onBack }: DevicesScreenProps) {
  const theme = useTheme();
  const { columns: width, rows } = useTerminalSize();
  const [state, dispatch] = useReducer(devicesReducer, initialDevicesState);
  const viewportRows = Math.max(3, rows - CHROME_ROWS);

  useEffect(() => {
    let isCancelled = false;
    const request = state.request;
    controller.listHosts().then(
      (hosts) => !isCancelled && dispatch({ type: 'loaded', request, hosts }),
      (error: unknown) => !isCancelled && dispatch({ type: 'failed', request, error: describeError(error) }),
    );
    return () => {
      isCancelled = true;
    };
  }, [controller, state.request]);

  useDevicesKeys({ dispatch, onBack, viewportRows, isEnabled: isInputActive });

  const ipWidth = useMemo(() => addressColumnWidth(state.hosts), [state.hosts]);
  const columns = useMemo(() => layoutColumns(widenColumn(DEVICE_COLUMNS, 'ip', ipWidth), width), [ipWidth, width]);
  const sorted = useMemo(() => [...state.hosts].sort((a, b) => compareAddresses(a.ip, b.ip)), [state.hosts]);
  const top = clampScrollTop(state.scrollTop, sorted.length, viewportRows);
  const visible = sorted.slice(top, top + viewportRows);
  const nameWidth = columns.find((c) => c.id === 'name')?.width ?? 32;
  const countedCount = sorted.filter((h) => h.isCounted).length;
  // Users mode (issue 18): the rows are the gateway's SSH users.
  const noun = controller.subjectNoun ?? { one: 'device', many: 'devices' };
  const isUsers = controller.subjectNoun !== undefined;

  return (
    <Box flexDirection="column">
      <Text bold wrap="truncate-end">
        Connected {noun.many}
      </Text>
      <Box flexDirection="column" marginY={1}>
        {state.status === 'loading' ? <Spinner label={`Asking the router for its ${noun.many}…`} /> : null}
        {state.status === 'failed' && state.error ? <ErrorPanel error={state.error} /> : null}
        {state.status === 'ready' ? (
          <>
            <Text wrap="truncate-end">
              Router reports {sorted.length} active {sorted.length === 1 ? noun.one : noun.many}
              <Text {...theme.dim}> · lantop counts {countedCount}</Text>
            </Text>
            {sorted.length === 0 ? (
              <Text {...theme.dim} wrap="truncate-end">
                {isUsers ? 'No SSH sessions on the gateway yet. Users appear once they log in.' : "Nothing in the router's ARP/DHCP tables yet. Devices appear once they talk on the LAN."}
              </Text>
            ) : (
              <Box flexDirection="column">
                <TableHeader columns={columns} style={theme.accent} />
                {visible.map((h) => (
                  <TableRow
                    key={rowKey(h)}
                    columns={columns}
                    cells={{
                      name: displayName(h.hostname, nameWidth),
                      ip: cellText(h.ip, MAX_ADDRESS_LENGTH),
                      mac: cellText(h.mac, 17) || '–',
                      counted: h.isCounted ? 'yes' : 'no',
                    }}
                  />
                ))}
              </Box>
            )}
          </>
        ) : null}
      </Box>
      <Footer
        hints={[
          { keys: '↑↓ PgUp PgDn', action: 'scroll' },
          { keys: 'r', action: 'refresh' },
          { keys: 'q/Esc', action: 'back' },
          { keys: '?', action: 'help' },
        ]}
        extra={describeScroll(top, sorted.length, viewportRows)}
      />
    </Box>
  );
}
