// One device's connections as the drill-down shows them (issue 19: the app's Connections screen and
// `lantop top DEVICE`): the router's connection table for the device's addresses, attributed to
// it, with rates against the previous read and reverse-DNS names where the router's resolver gave
// them. No rules are added on the router.
import type { ConnectionsView } from '../domain/connection-model.js';
import { ConnectionTracker, connectionsOf, sortConnections } from '../domain/connections.js';
import { sanitizeText } from '../sanitize.js';
import type { ConnectionsLoader } from '../router/connections-loader.js';
import { ENABLE_ACCOUNTING_COMMAND } from '../router/conntrack-commands.js';
import type { OffloadReport } from '../domain/offload-model.js';

/** What a fast path that is on means for these numbers (display-safe). */
function offloadNotes(report: OffloadReport | null): string[] {
  const on = report?.findings.filter((f) => f.state === 'on') ?? [];
  if (on.length === 0) return [];
  const names = on.map((f) => sanitizeText(f.name, 60)).join(', ');
  const isHardware = on.some((f) => f.isHardware === true);
  return [
    `${names} ${on.length === 1 ? 'is' : 'are'} on: ${isHardware ? 'under hardware offload a connection\'s bytes may stop growing here once it is offloaded' : 'the connection table still counts offloaded connections where the firmware keeps flow counters (OpenWrt 23.05+, Broadcom), but on other firmware their bytes may stop growing once offloaded'}`,
  ];
}

export interface DeviceRef {
  identity: string;
  /** Raw (a host name from the router): sanitised here. */
  name: string | null;
  addresses: string[];
}

export class DeviceConnectionsReader {
  private readonly tracker = new ConnectionTracker();

  constructor(
    private readonly loader: Pick<ConnectionsLoader, 'read' | 'lookUp' | 'nameOf'>,
    /** The fast paths found at connect (null: not probed): an offloaded router's table may lag. */
    private readonly offload: () => OffloadReport | null = () => null,
  ) {}

  async read(device: DeviceRef): Promise<ConnectionsView> {
    const table = await this.loader.read(device.addresses);
    const rows = this.tracker.update(table.atMs, connectionsOf(table.entries, device.addresses, table.atMs));
    const sorted = sortConnections(rows, 'bytes');
    // Names for the busiest remotes first; the rest come on later reads.
    await this.loader.lookUp([...new Set(sorted.map((r) => r.remote))]);
    const connections = sorted.map((row) => ({ ...row, remoteName: this.loader.nameOf(row.remote) ?? null }));
    return {
      atMs: table.atMs,
      identity: device.identity,
      name: sanitizeText(device.name ?? device.addresses[0] ?? device.identity, 64),
      addresses: [...device.addresses],
      connections,
      accounting: table.accounting,
      enableAccountingCommand: table.accounting === 'off' ? ENABLE_ACCOUNTING_COMMAND : null,
      source: table.source,
      notes: [...table.notes, ...offloadNotes(this.offload())],
    };
  }
}
