// `lantop top DEVICE`: what one device is doing (issue 19) — its connections from the router's
// connection table, two reads apart so rates are real, sorted by bytes or rate, or grouped by remote
// host, port/service or protocol. Read-only, except `--enable-accounting`, which turns the router's
// connection accounting on after the user's consent (`--yes` for scripts).
import { EXIT, UsageError } from '../errors.js';
import type { Action } from './context.js';
import type { ConnectionGroup, ConnectionGrouping, ConnectionSort, ConnectionsView, DeviceConnection } from '../domain/connection-model.js';
import { groupConnections, sortConnections, sortGroups } from '../domain/connections.js';
import { renderTable, type Column } from '../output/table.js';
import { formatBytes, formatDuration, formatRate } from '../output/units.js';
import { sanitizeText } from '../sanitize.js';
import { createServices, noteCleartextTelnet, type Services } from './services.js';
import { resolveBlockDevice } from './block-commands.js';
import { confirm, withRouter } from './commands.js';
import { DeviceConnectionsReader } from './device-connections.js';

const GROUPINGS: readonly ConnectionGrouping[] = ['connections', 'remote', 'port', 'protocol'];
const SORTS: readonly ConnectionSort[] = ['bytes', 'rate'];

export interface TopOptions {
  json: boolean;
  intervalMs: number;
  group: ConnectionGrouping;
  sort: ConnectionSort;
  limit: number;
  watch: boolean;
  count: number;
  enableAccounting: boolean;
  yes: boolean;
}

export function parseTopOptions(options: Record<string, unknown>): TopOptions {
  const text = (key: string) => (typeof options[key] === 'string' ? (options[key] as string) : undefined);
  const intervalMs = Number(text('interval') ?? 1000);
  if (!Number.isInteger(intervalMs) || intervalMs < 200 || intervalMs > 600_000) throw new UsageError('--interval must be a whole number of milliseconds from 200 to 600000.');
  const group = (text('group') ?? 'connections') as ConnectionGrouping;
  if (!GROUPINGS.includes(group)) throw new UsageError(`--group must be one of ${GROUPINGS.join(', ')}.`);
  const sort = (text('sort') ?? 'bytes') as ConnectionSort;
  if (!SORTS.includes(sort)) throw new UsageError('--sort must be bytes or rate.');
  const limit = Number(text('limit') ?? 25);
  if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a whole number ≥ 1.');
  const watch = options['watch'] === true;
  const count = text('count') === undefined ? (watch ? Infinity : 2) : Number(text('count'));
  if (!(count === Infinity || (Number.isInteger(count) && count >= 1))) throw new UsageError('--count must be a whole number ≥ 1.');
  return { json: options['json'] === true, intervalMs, group, sort, limit, watch, count, enableAccounting: options['enableAccounting'] === true, yes: options['yes'] === true };
}

/** A connection as `top --json` prints it (docs/cli.md). */
export function connectionJson(c: DeviceConnection) {
  return {
    protocol: c.protocol, remote: c.remote, remotePort: c.remotePort, remoteName: c.remoteName, service: c.service,
    localAddress: c.localAddress, localPort: c.localPort, initiator: c.initiator,
    downBytes: c.downBytes, upBytes: c.upBytes, downBps: Math.round(c.downBps), upBps: Math.round(c.upBps),
    state: c.state, isOffloaded: c.isOffloaded, ageMs: c.ageMs, timeoutS: c.timeoutS,
  };
}

export function topJson(view: ConnectionsView, options: Pick<TopOptions, 'group' | 'sort' | 'limit'>) {
  const connections = sortConnections(view.connections, options.sort);
  return {
    device: { identity: view.identity, name: view.name, addresses: view.addresses },
    at: new Date(view.atMs).toISOString(),
    atMs: view.atMs,
    source: view.source,
    accounting: view.accounting,
    enableAccountingCommand: view.enableAccountingCommand,
    connections: connections.map(connectionJson),
    ...(options.group !== 'connections' ? { groups: sortGroups(groupConnections(view.connections, options.group), options.sort) } : {}),
    notes: view.notes,
  };
}

const bytes = (n: number | null) => (n === null ? '–' : formatBytes(n));
const port = (c: DeviceConnection) => (c.remotePort === null ? '' : `${c.remotePort}${c.service ? ` ${c.service}` : ''}`);

const CONNECTION_COLUMNS: Column<DeviceConnection>[] = [
  { header: 'REMOTE', value: (c) => sanitizeText(c.remoteName ? `${c.remoteName} (${c.remote})` : c.remote, 60), maxWidth: 48, minWidth: 15, priority: 9 },
  { header: 'PORT', value: port, maxWidth: 16, priority: 8 },
  { header: 'PROTO', value: (c) => c.protocol, priority: 7 },
  { header: '↓ BYTES', value: (c) => bytes(c.downBytes), align: 'right', priority: 9 },
  { header: '↑ BYTES', value: (c) => bytes(c.upBytes), align: 'right', priority: 8 },
  { header: '↓ RATE', value: (c) => formatRate(c.downBps), align: 'right', priority: 6 },
  { header: '↑ RATE', value: (c) => formatRate(c.upBps), align: 'right', priority: 5 },
  { header: 'STATE', value: (c) => `${c.state ?? ''}${c.isOffloaded ? ' OFFLOAD' : ''}`.trim(), priority: 3 },
  { header: 'AGE', value: (c) => formatDuration(c.ageMs), align: 'right', priority: 2 },
];

const GROUP_COLUMNS: Column<ConnectionGroup>[] = [
  { header: 'GROUP', value: (g) => sanitizeText(g.remoteName ? `${g.remoteName} (${g.label})` : g.label, 60), maxWidth: 48, priority: 9 },
  { header: 'CONNS', value: (g) => String(g.connections), align: 'right', priority: 7 },
  { header: '↓ BYTES', value: (g) => bytes(g.downBytes), align: 'right', priority: 9 },
  { header: '↑ BYTES', value: (g) => bytes(g.upBytes), align: 'right', priority: 8 },
  { header: '↓ RATE', value: (g) => formatRate(g.downBps), align: 'right', priority: 6 },
  { header: '↑ RATE', value: (g) => formatRate(g.upBps), align: 'right', priority: 5 },
];

/** The plain rendering: a header line, the table, the accounting note and the notes. */
export function renderTop(view: ConnectionsView, options: Pick<TopOptions, 'group' | 'sort' | 'limit'>, width: number): string {
  const out: string[] = [];
  const addresses = view.addresses.map((a) => sanitizeText(a, 45)).join(', ');
  out.push(`${sanitizeText(view.name, 64)} (${addresses}) — ${view.connections.length} connection(s) from ${sanitizeText(view.source, 40)}, by ${options.sort}${options.group === 'connections' ? '' : `, grouped by ${options.group}`}`);
  if (options.group === 'connections') {
    const rows = sortConnections(view.connections, options.sort).slice(0, options.limit);
    out.push(rows.length === 0 ? '  (no connections now)' : renderTable(rows, CONNECTION_COLUMNS, width));
  } else {
    const groups = sortGroups(groupConnections(view.connections, options.group), options.sort).slice(0, options.limit);
    out.push(groups.length === 0 ? '  (no connections now)' : renderTable(groups, GROUP_COLUMNS, width));
  }
  const more = (options.group === 'connections' ? view.connections.length : groupConnections(view.connections, options.group).length) - options.limit;
  if (more > 0) out.push(`  … ${more} more (--limit)`);
  if (view.accounting === 'off') {
    out.push(`The router does not count bytes per connection (nf_conntrack_acct=0): connections are listed without bytes.`);
    out.push(`  To turn it on: \`lantop top ${sanitizeText(view.name, 40)} --enable-accounting\` (runs \`${view.enableAccountingCommand ?? ''}\` on the router; only new connections get bytes).`);
  }
  for (const note of view.notes) out.push(`note: ${sanitizeText(note, 200)}`);
  return out.join('\n') + '\n';
}

export async function runTop(services: Services, deviceText: string | undefined, options: TopOptions): Promise<number> {
  if (deviceText === undefined || deviceText.trim() === '') throw new UsageError('Name the device: `lantop top DEVICE` (a MAC, an address or a name as `lantop hosts` shows it).');
  const io = services.io;
  return withRouter(services, async ({ client, label }) => {
    const device = resolveBlockDevice(deviceText, await client.listHosts());
    if (device.addresses.length === 0) throw new UsageError(`${sanitizeText(deviceText, 40)} is not on the router's LAN now: it has no connections to show.`, 'Run `lantop hosts` to see the devices there.');
    if (options.enableAccounting) {
      if (!options.yes) {
        if (!io.stdin.isTTY) throw new UsageError('Refusing to change the router without confirmation.', 'Pass --yes to turn connection accounting on.');
        if (!(await confirm(io, `Turn connection accounting on at ${label} (echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct)?`))) {
          io.stderr.write('Nothing changed.\n');
          return EXIT.ok;
        }
      }
      const outcome = await client.connections.enableAccounting();
      io.stderr.write(`${outcome.isDone ? '' : 'error: '}${outcome.message}\n`);
      if (!outcome.isDone) return EXIT.router;
    }
    // Whether a fast path is on says how far the table's bytes can be trusted (read-only probes).
    const offload = await client.probeOffload().catch(() => null);
    const reader = new DeviceConnectionsReader(client.connections, () => offload);
    const ref = { identity: device.identity, name: device.name, addresses: device.addresses };
    let stop = false;
    const onSignal = () => {
      stop = true;
    };
    process.once('SIGINT', onSignal);
    try {
      for (let i = 0; i < options.count && !stop; i++) {
        const startedMs = Date.now();
        const view = await reader.read(ref);
        const isLast = i + 1 >= options.count;
        // Without --watch only the last read is printed: the first has no rates yet.
        if (options.watch || isLast) {
          if (options.json) io.stdout.write(JSON.stringify(topJson(view, options)) + '\n');
          else io.stdout.write(renderTop(view, options, io.stdout.columns ?? 100));
        }
        if (isLast) break;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, options.intervalMs - (Date.now() - startedMs))));
      }
    } finally {
      process.off('SIGINT', onSignal);
    }
    return EXIT.ok;
  });
}

export const topActions = {
  async top(ctx, options, [device]) {
    const services = createServices(ctx);
    noteCleartextTelnet(services);
    return runTop(services, device, parseTopOptions(options));
  },
} satisfies Record<string, Action>;
