// `cat /proc/net/route` → the interface of the default route (the WAN, for `--wan auto`).
// Example row (Destination, Gateway and Mask are little-endian hex):
//   ppp0	00000000	00000000	0001	0	0	0	00000000	0	0	0
import { canonicalInterfaceName } from '../tokens.js';

export interface RouteEntry {
  iface: string;
  /** Destination network as hex (00000000 = default). */
  destination: string;
  mask: string;
  metric: number;
  isUp: boolean;
}

const RTF_UP = 0x1;

/** Parses /proc/net/route; unreadable lines are skipped. */
export function parseRouteTable(text: string): RouteEntry[] {
  const entries: RouteEntry[] = [];
  for (const line of text.split(/\r?\n/)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 8 || fields[0] === 'Iface') continue;
    const [iface, destination, , flags, , , metric, mask] = fields as [string, string, string, string, string, string, string, string];
    if (!/^[0-9A-Fa-f]{8}$/.test(destination) || !/^[0-9A-Fa-f]{8}$/.test(mask) || !/^[0-9A-Fa-f]+$/.test(flags)) continue;
    const name = canonicalInterfaceName(iface);
    if (name === null) continue;
    entries.push({ iface: name, destination: destination.toUpperCase(), mask: mask.toUpperCase(), metric: Number(metric) || 0, isUp: (Number.parseInt(flags, 16) & RTF_UP) !== 0 });
  }
  return entries;
}

/** The interface of the up default route with the lowest metric, or null. */
export function defaultRouteInterface(text: string): string | null {
  const defaults = parseRouteTable(text).filter((r) => r.isUp && r.destination === '00000000' && r.mask === '00000000');
  defaults.sort((a, b) => a.metric - b.metric);
  return defaults[0]?.iface ?? null;
}
