// The router's own addresses and MACs, from `ip -o addr; ip -o link` (iproute2 or BusyBox) or
// `ifconfig` (BusyBox): a token scan over either, so a router that has only one of them answers
// too. Example rows (fixtures/blocking/ip-o-addr-link.txt, busybox-ifconfig.txt):
//   2: br0    inet 198.51.100.1/24 scope global br0\       valid_lft forever preferred_lft forever
//   2: br0: <BROADCAST,MULTICAST,UP> mtu 1500 qdisc noqueue state UP …\    link/ether 02:00:5e:10:00:01 brd ff:ff:ff:ff:ff:ff
//   br0       Link encap:Ethernet  HWaddr 02:00:5E:10:00:01
//             inet addr:198.51.100.1  Bcast:0.0.0.0  Mask:255.255.255.0
//             inet6 addr: 2001:db8:1::1/64 Scope:Global
// Loopback addresses, zero and group MACs are left out. Pure; never throws.
import { canonicalAddress } from '../../domain/address.js';
import { canonicalMac, isGroupMac, isZeroMac } from '../tokens.js';

export interface InterfaceAddresses {
  addresses: string[];
  macs: string[];
}

export function parseInterfaceAddresses(text: string): InterfaceAddresses {
  const addresses = new Set<string>();
  const macs = new Set<string>();
  const words = text.split(/\s+/);
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    let candidate: string | null = null;
    if ((word === 'inet' || word === 'inet6') && words[i + 1] !== undefined) {
      const next = words[i + 1]!;
      // ifconfig: `inet addr:A` and `inet6 addr: A/64`; ip: `inet A/24`.
      candidate = next === 'addr:' ? (words[i + 2] ?? null) : next.startsWith('addr:') ? next.slice(5) : next;
    } else if ((word === 'HWaddr' || word === 'link/ether' || word === 'ether') && words[i + 1] !== undefined) {
      const mac = canonicalMac(words[i + 1]!);
      if (mac !== null && !isZeroMac(mac) && !isGroupMac(mac)) macs.add(mac);
      continue;
    }
    if (candidate === null) continue;
    const address = canonicalAddress(candidate.replace(/\/\d{1,3}$/, ''));
    if (address !== null && !address.startsWith('127.') && address !== '::1') addresses.add(address);
  }
  return { addresses: [...addresses], macs: [...macs] };
}
