// Traffic classes (issue 19): counting by service port and protocol over time, the classic recipe
// of counting rules per port or protocol, as `lantop setup --ports 80,443 --protocols udp` asks.
// A class counts every forwarded byte of its protocol (and port) on the WAN, whatever the device:
// down = from the WAN with that source port, up = to the WAN with that destination port — the
// remote service's port either way. Classes overlap the per-device counters (a byte is in a
// device's total and in its class), never each other unless asked (tcp/443 and tcp both count it).

export const CLASS_PROTOCOLS = ['tcp', 'udp', 'icmp', 'icmpv6', 'gre', 'esp', 'sctp'] as const;
export type ClassProtocol = (typeof CLASS_PROTOCOLS)[number];
/** Protocols with ports. */
const PORTED: ReadonlySet<ClassProtocol> = new Set(['tcp', 'udp', 'sctp']);

export interface TrafficClass {
  protocol: ClassProtocol;
  /** The remote service's port; null: the whole protocol. */
  port: number | null;
}

/** The stable key: `tcp/443`, `udp`. */
export function classKey(c: TrafficClass): string {
  return c.port === null ? c.protocol : `${c.protocol}/${c.port}`;
}

/** The class a key names, or null when it is not one (a key read back from the router or the database). */
export function classOfKey(key: string): TrafficClass | null {
  const m = /^([a-z0-9]+)(?:\/(\d{1,5}))?$/.exec(key);
  if (m === null || !(CLASS_PROTOCOLS as readonly string[]).includes(m[1]!)) return null;
  const protocol = m[1] as ClassProtocol;
  if (m[2] === undefined) return { protocol, port: null };
  const port = Number(m[2]);
  if (!PORTED.has(protocol) || port < 1 || port > 65535 || String(port) !== m[2]) return null;
  return { protocol, port };
}

export function compareClasses(a: TrafficClass, b: TrafficClass): number {
  return a.protocol === b.protocol ? (a.port ?? -1) - (b.port ?? -1) : CLASS_PROTOCOLS.indexOf(a.protocol) - CLASS_PROTOCOLS.indexOf(b.protocol);
}

/**
 * `--ports` and `--protocols` as classes, deduplicated, in a stable order. A port is `443` (tcp and
 * udp: HTTPS and QUIC), `tcp/443` or `udp/53`; a protocol is one of CLASS_PROTOCOLS. Throws
 * RangeError with a message for people on anything else.
 */
export function parseClassList(ports: string | undefined, protocols: string | undefined): TrafficClass[] {
  const out = new Map<string, TrafficClass>();
  const add = (c: TrafficClass) => out.set(classKey(c), c);
  for (const raw of split(ports)) {
    const m = /^(?:([a-z]+)\/)?(\d{1,5})$/.exec(raw.toLowerCase());
    const port = m === null ? NaN : Number(m[2]);
    if (m === null || !Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`--ports: '${raw.slice(0, 20)}' is not a port (1–65535, optionally tcp/, udp/ or sctp/ before it)`);
    const protocol = m[1];
    if (protocol === undefined) {
      add({ protocol: 'tcp', port });
      add({ protocol: 'udp', port });
    } else if (PORTED.has(protocol as ClassProtocol)) add({ protocol: protocol as ClassProtocol, port });
    else throw new RangeError(`--ports: '${raw.slice(0, 20)}': only tcp, udp and sctp have ports`);
  }
  for (const raw of split(protocols)) {
    const protocol = raw.toLowerCase();
    if (!(CLASS_PROTOCOLS as readonly string[]).includes(protocol)) throw new RangeError(`--protocols: '${raw.slice(0, 20)}' is not one of ${CLASS_PROTOCOLS.join(', ')}`);
    add({ protocol: protocol as ClassProtocol, port: null });
  }
  return [...out.values()].sort(compareClasses);
}

function split(text: string | undefined): string[] {
  return (text ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
}
