// The connections screen's groupings and sorts as the keys cycle through them and the header names
// them (issue 19); the grouping and sorting themselves are domain/connections.ts's.
import type { ConnectionGrouping, ConnectionSort } from '../../domain/connection-model.js';

/** g cycles through these: every connection, then by remote, by port, by protocol. */
export const GROUPINGS: readonly ConnectionGrouping[] = ['connections', 'remote', 'port', 'protocol'];

export const GROUPING_LABELS: Readonly<Record<ConnectionGrouping, string>> = {
  connections: 'every connection',
  remote: 'by remote host',
  port: 'by remote port',
  protocol: 'by protocol',
};

export const SORT_LABELS: Readonly<Record<ConnectionSort, string>> = { bytes: 'bytes', rate: 'rate' };
