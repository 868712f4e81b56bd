// The emulated router's interface counters as the kernel prints them (issue 19): /proc/net/dev and
// /sys/class/net/<if>/{type,statistics/*}. The WAN counts every forwarded byte (at L3, as netfilter
// and a PPP device count them) plus the router's own traffic (DNS forwarding, NTP); the LAN bridge
// the same from the other side; under PPPoE the Ethernet device below the WAN also carries the
// PPPoE/PPP headers (6 + 2 bytes, RFC 2516) and its own 14-byte Ethernet header per packet. Where the
// formats come from: testdata/SOURCE.md ("Interface counters"). Pure.

import type { RouterModel } from './model.js';
import type { InterfaceCounters } from './model-conntrack-state.js';

interface NetInterface {
  name: string;
  /** ARPHRD_* of include/uapi/linux/if_arp.h: 1 ether, 512 ppp, 772 loopback. */
  type: number;
  counters: InterfaceCounters;
}

const ZERO: InterfaceCounters = { rxBytes: 0, rxPackets: 0, txBytes: 0, txPackets: 0 };
/** PPPoE header (6) + PPP protocol field (2) + Ethernet header (14) per frame on the device below pppoe-wan. */
const PPPOE_FRAME_OVERHEAD = 22;

/** The interfaces in the order the kernel registered them (its /proc/net/dev order). */
export function netInterfaces(model: RouterModel): NetInterface[] {
  const lan = model.netdev.get(model.lanInterface) ?? ZERO;
  const wan = model.netdev.get(model.wanInterface) ?? ZERO;
  const lo: NetInterface = { name: 'lo', type: 772, counters: ZERO };
  if (model.flavour === 'openwrt-fw4') {
    // OpenWrt 23.05 on ramips/mt7621 (DSA): the WAN port `wan` carries the PPPoE session pppoe-wan.
    const below: InterfaceCounters = {
      rxBytes: wan.rxBytes + wan.rxPackets * PPPOE_FRAME_OVERHEAD, rxPackets: wan.rxPackets,
      txBytes: wan.txBytes + wan.txPackets * PPPOE_FRAME_OVERHEAD, txPackets: wan.txPackets,
    };
    return [
      lo,
      { name: 'wan', type: 1, counters: below },
      { name: model.lanInterface, type: 1, counters: lan },
      { name: model.wanInterface, type: 512, counters: wan },
    ];
  }
  return [lo, { name: model.lanInterface, type: 1, counters: lan }, { name: model.wanInterface, type: 512, counters: wan }];
}

const HEADER =
  'Inter-|   Receive                            ' + '                    |  Transmit\n' +
  ' face |bytes    packets errs drop fifo frame ' + 'compressed multicast|bytes    packets errs ' + 'drop fifo colls carrier compressed\n';

/** C's %Nu: right-aligned in at least N columns. */
function u(value: number, width: number): string {
  return String(value).padStart(width);
}

/**
 * /proc/net/dev. The 5.15 kernel (net-procfs.c dev_seq_printf_stats): "%6s: %7llu %7llu %4llu …"
 * from rtnl_link_stats64. Broadcom's 2.6.30 (net/core/dev.c before 2.6.35): "%6s:%8lu %7lu …" from
 * net_device_stats — unsigned long, 32 bits on its MIPS, so the counters wrap at 4 GiB, and a
 * name of six characters runs into the first number.
 */
export function formatProcNetDev(model: RouterModel): string {
  const isOld = model.flavour === 'broadcom';
  let out = HEADER;
  for (const netif of netInterfaces(model)) {
    const c = netif.counters;
    const wrap = (n: number): number => (isOld ? n % 4_294_967_296 : n);
    const name = netif.name.padStart(6);
    out += isOld ? `${name}:${u(wrap(c.rxBytes), 8)} ` : `${name}: ${u(c.rxBytes, 7)} `;
    out += `${u(wrap(c.rxPackets), 7)} ${u(0, 4)} ${u(0, 4)} ${u(0, 4)} ${u(0, 5)} ${u(0, 10)} ${u(0, 9)} `;
    out += `${u(wrap(c.txBytes), 8)} ${u(wrap(c.txPackets), 7)} ${u(0, 4)} ${u(0, 4)} ${u(0, 4)} ${u(0, 5)} ${u(0, 7)} ${u(0, 10)}\n`;
  }
  return out;
}

/** /sys/class/net/<if>/type and /sys/class/net/<if>/statistics/{rx,tx}_{bytes,packets}; null: no such file. */
export function readSysClassNet(model: RouterModel, path: string): string | null {
  const match = /^\/sys\/class\/net\/([^/]+)\/(type|statistics\/(rx_bytes|tx_bytes|rx_packets|tx_packets))$/.exec(path);
  if (!match) return null;
  const netif = netInterfaces(model).find((n) => n.name === match[1]);
  if (!netif) return null;
  if (match[2] === 'type') return `${netif.type}\n`;
  const c = netif.counters;
  const value = { rx_bytes: c.rxBytes, tx_bytes: c.txBytes, rx_packets: c.rxPackets, tx_packets: c.txPackets }[match[3] as 'rx_bytes'];
  return `${model.flavour === 'broadcom' ? value % 4_294_967_296 : value}\n`;
}

/** Directories of /sys/class/net the shell's `test -d` finds. */
export function isSysClassNetDir(model: RouterModel, path: string): boolean {
  if (path === '/sys' || path === '/sys/class' || path === '/sys/class/net') return true;
  const match = /^\/sys\/class\/net\/([^/]+)(\/statistics)?$/.exec(path);
  return match !== null && netInterfaces(model).some((n) => n.name === match[1]);
}
