// Reading the WAN interface's own counters (issue 19, reconciliation): one read-only shell line,
// appended to every poll's read, and the pure reading of its answer into a WanSample.
//
//   cat /proc/net/dev;echo "__LT""WAN__";cat /sys/class/net/ppp0/type 2>/dev/null
//
// The marker is printed split in two so that a telnet echo of the command line never contains it
// (the trick of detect-firmware.ts's line probe). The whole of /proc/net/dev is read, not one
// grep'd line: `cat` is in every shell lantop reaches, and the other rows help tell the format apart
// (parsers/net-dev.ts). /sys/class/net/<dev>/type is the ARPHRD_* link type (include/uapi/linux/if_arp.h).
import type { WanSample } from '../domain/wan-model.js';
import { counterBitsOf, readNetDev } from './parsers/net-dev.js';
import { canonicalInterfaceName } from './tokens.js';

export const WAN_TYPE_MARKER = '__LTWAN__';

/**
 * Bytes of link header per packet that the interface counts and netfilter (skb->len at layer 3)
 * does not, by ARPHRD_* type. Ethernet: the 14-byte header (the driver counts the frame without
 * FCS). PPP, raw-IP (LTE modems), tunnels and ARPHRD_NONE (tun, WireGuard) count the IP packet.
 */
const LINK_HEADER_BYTES: ReadonlyMap<number, number> = new Map([
  [1, 14], // ARPHRD_ETHER (also VLANs and bridges)
  [512, 0], // ARPHRD_PPP (pppoe-wan, ppp0)
  [519, 0], // ARPHRD_RAWIP (qmi_wwan raw-ip)
  [768, 0], // ARPHRD_TUNNEL (ipip)
  [769, 0], // ARPHRD_TUNNEL6
  [776, 0], // ARPHRD_SIT (6in4)
  [778, 0], // ARPHRD_IPGRE
  [823, 0], // ARPHRD_IP6GRE
  [65534, 0], // ARPHRD_NONE (tun, wireguard)
]);

/** The per-poll command for WAN interface `wan`; a TypeError unless `wan` is a valid interface name. */
export function wanCountersCommand(wan: string): string {
  const name = canonicalInterfaceName(wan);
  if (name === null) throw new TypeError(`not an interface name: ${JSON.stringify(String(wan)).slice(0, 40)}`);
  return `cat /proc/net/dev;echo "__LT""WAN__";cat /sys/class/net/${name}/type 2>/dev/null`;
}

/** The link header the interface counts for an ARPHRD_* type; unknown types count as 0, said so. */
export function linkHeaderOf(linkType: number | null): { linkHeaderBytes: number; isLinkHeaderKnown: boolean } {
  const bytes = linkType === null ? undefined : LINK_HEADER_BYTES.get(linkType);
  return bytes === undefined ? { linkHeaderBytes: 0, isLinkHeaderKnown: false } : { linkHeaderBytes: bytes, isLinkHeaderKnown: true };
}

/**
 * The answer to wanCountersCommand(wan) as a WanSample, or null when /proc/net/dev has no row for
 * `wan` (interface gone, PPP down, command refused). Never throws. `counterBitsHint` overrides the
 * format's guess unless the counters prove 64 bits (parsers/net-dev.ts counterBitsOf).
 */
export function parseWanAnswer(text: string, wan: string, atMs: number, counterBitsHint?: 32 | 64 | null): WanSample | null {
  if (typeof text !== 'string') return null;
  const name = canonicalInterfaceName(wan);
  if (name === null) return null;
  const lines = text.split(/\r?\n/);
  const at = lines.findIndex((l) => l.trim() === WAN_TYPE_MARKER);
  const devLines = at < 0 ? lines : lines.slice(0, at);
  const report = readNetDev(devLines.join('\n'));
  const counters = report.interfaces.get(name);
  if (counters === undefined) return null;
  let linkType: number | null = null;
  if (at >= 0) {
    for (const line of lines.slice(at + 1)) {
      const t = line.trim();
      if (/^[0-9]{1,5}$/.test(t)) {
        linkType = Number(t);
        break;
      }
    }
  }
  return {
    atMs,
    interface: name,
    rxBytes: counters.rxBytes,
    rxPackets: counters.rxPackets,
    txBytes: counters.txBytes,
    txPackets: counters.txPackets,
    ...linkHeaderOf(linkType),
    counterBits: counterBitsOf(report, name, counterBitsHint),
    linkType,
  };
}
