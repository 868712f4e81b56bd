// The lab's LAN hosts as router-lab.ts uses them: built from the options, found by reference, the
// addresses a transfer and the oracle use, and the pings that put every one of them in the
// router's ARP/NDP tables.
import { CONSOLE_IP, ROUTER_LAN_IP, ROUTER_LAN_IP6, defaultHostname, hostIp, hostIp6, hostMac, type LabNames } from './lab-model.js';
import type { HostRef, LabHost, LabOptions } from './lab.js';
import { LabError, runOk } from './run-command.js';

/** h1..hN, with the lease hostnames given (as bytes, kept as given) or the defaults. */
export function labHosts(count: number, hostnames: LabOptions['hostnames'], names: LabNames, ipv6: boolean): LabHost[] {
  return Array.from({ length: count }, (_, i) => {
    const index = i + 1;
    const name = hostnames?.[i] ?? defaultHostname(index);
    const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
    return {
      index, name: `h${index}`, ns: names.hostNs(index), ip: hostIp(index), mac: hostMac(index), hostname: bytes.toString('utf8'), hostnameBytes: bytes,
      ip6: ipv6 ? hostIp6(index) : null, tempIp6: null,
    };
  });
}

/** A host by number (1-based), name, address or namespace, or the host itself. */
export function findHost(hosts: readonly LabHost[], ref: HostRef): LabHost {
  const found = typeof ref === 'number' ? hosts[ref - 1]
    : typeof ref === 'string' ? hosts.find((h) => h.name === ref || h.ip === ref || h.ns === ref)
      : hosts.find((h) => h.ns === ref.ns);
  if (!found) throw new LabError(`lab: no host ${typeof ref === 'object' ? ref.name : String(ref)}`);
  return found;
}

/** The IPv6 source of a transfer: the stable address, the current temporary one, or one given. */
export function transferSource6(host: LabHost, source: string, ipv6: boolean): string {
  if (!ipv6 || !host.ip6) throw new LabError('lab: IPv6 transfers need a dual-stack lab (ipv6: true)');
  if (source === 'stable') return host.ip6;
  if (source === 'temporary') {
    if (!host.tempIp6) throw new LabError(`lab: ${host.name} has no temporary address`);
    return host.tempIp6;
  }
  if (!/^[0-9a-f:]+$/i.test(source)) throw new LabError(`lab: not an IPv6 address: ${source}`);
  return source;
}

/** A host's addresses that must be listed even at zero: its IPv4, stable and current temporary IPv6. */
export function expectedAddresses(host: LabHost): string[] {
  return [host.ip, ...(host.ip6 ? [host.ip6] : []), ...(host.tempIp6 ? [host.tempIp6] : [])];
}

/** Every host pings the router from each of its addresses, and the router the console: ARP/NDP entries for all. */
export async function pingNeighbours(routerNs: string, hosts: readonly LabHost[]): Promise<void> {
  const ping = (ns: string, target: string, source?: string): Promise<string> =>
    runOk(['ip', 'netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '2', ...(source ? ['-I', source] : []), target]);
  const pings = hosts.map((host) => ping(host.ns, ROUTER_LAN_IP));
  for (const host of hosts) {
    if (host.ip6) pings.push(ping(host.ns, ROUTER_LAN_IP6, host.ip6));
    if (host.tempIp6) pings.push(ping(host.ns, ROUTER_LAN_IP6, host.tempIp6));
  }
  pings.push(ping(routerNs, CONSOLE_IP));
  await Promise.all(pings);
}
