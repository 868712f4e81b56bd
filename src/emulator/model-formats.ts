// What the emulated router's files and commands print about its LAN, from the model: /proc/net/arp,
// the Broadcom CLI's `lanhosts show all`, dnsmasq's lease file, `ip neigh`, /proc/uptime, each in
// the layout of the program that prints it, so lantop's parsers read them as they read the real
// thing. Pure.

import { parseIpv4 } from './iptables.js';
import { uptimeSeconds, type RouterModel } from './model.js';

/** /proc/net/arp: the kernel's "%-16s 0x%-10x0x%-10x%-17s     %-8s %s\n" rows, in hash-bucket order. */
export function formatProcNetArp(model: RouterModel): string {
  let out = 'IP address       HW type     Flags       HW address            Mask     Device\n';
  const rows = model.hosts
    .filter((host) => host.arp !== 'absent')
    .sort((a, b) => arpBucket(a.ip) - arpBucket(b.ip) || a.ip.localeCompare(b.ip));
  for (const host of rows) {
    const isComplete = host.arp !== 'incomplete';
    const mac = isComplete ? host.mac : '00:00:00:00:00:00';
    out += `${host.ip.padEnd(16)} 0x${'1'.padEnd(10)}0x${(isComplete ? '2' : '0').padEnd(10)}${mac.padEnd(17)}     ${'*'.padEnd(8)} ${model.lanInterface}\n`;
  }
  return out;
}

function arpBucket(ip: string): number {
  const value = parseIpv4(ip) ?? 0;
  return (Math.imul(value ^ (value >>> 16), 0x45d9f3b) >>> 0) % 32;
}

/** Broadcom CLI `lanhosts show all` (cli_cmd.c: processLanHostsCmd / printHostsInLanDev). */
export function formatLanHosts(model: RouterModel): string {
  let out = `Bridge ${model.lanInterface}\n   MAC Addr          IP Addr     Lease Time Remaining    Hostname\n`;
  for (const host of model.hosts) {
    if (host.leaseEndsAtMs === null) continue;
    const remaining = Math.max(0, Math.floor((host.leaseEndsAtMs - model.nowMs) / 1000));
    out += `${host.mac}  ${host.ip}        ${remaining}              ${host.hostname}\n`;
  }
  return out;
}

/** dnsmasq's /tmp/dhcp.leases: "<expiry epoch> <mac> <ip> <hostname|*> <client-id|*>", newest first. */
export function formatDhcpLeases(model: RouterModel): string {
  return model.hosts
    .filter((host) => host.leaseEndsAtMs !== null)
    .sort((a, b) => (b.leaseEndsAtMs ?? 0) - (a.leaseEndsAtMs ?? 0))
    .map((host) => {
      // dnsmasq keeps only legal host names; anything else becomes "*".
      const name = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/.test(host.hostname) ? host.hostname : '*';
      const clientId = host.kind === 'iot' ? '*' : `01:${host.mac}`;
      return `${Math.floor((host.leaseEndsAtMs as number) / 1000)} ${host.mac} ${host.ip} ${name} ${clientId}\n`;
    })
    .join('');
}

/** `ip neigh show` as BusyBox/iproute2 print it. */
export function formatIpNeigh(model: RouterModel): string {
  return model.hosts
    .filter((host) => host.arp !== 'absent')
    .map((host) =>
      host.arp === 'incomplete'
        ? `${host.ip} dev ${model.lanInterface}  FAILED\n`
        : `${host.ip} dev ${model.lanInterface} lladdr ${host.mac} ${host.arp === 'reachable' ? 'REACHABLE' : 'STALE'}\n`,
    )
    .join('');
}

/** /proc/uptime: seconds up and idle seconds, two decimals. */
export function formatProcUptime(model: RouterModel): string {
  const up = uptimeSeconds(model);
  return `${up.toFixed(2)} ${(up * 0.93).toFixed(2)}\n`;
}

/** BusyBox ifconfig's layout (fixtures/blocking/busybox-ifconfig.txt): the router's LAN and loopback. */
export function formatIfconfig(model: RouterModel): string {
  const inet6 = model.nft !== null ? '          inet6 addr: 2001:db8:1::1/64 Scope:Global\n' : '';
  return `${model.lanInterface.padEnd(10)}Link encap:Ethernet  HWaddr 02:00:5E:10:00:01  \n          inet addr:198.51.100.1  Bcast:198.51.100.255  Mask:255.255.255.0\n${inet6}          UP BROADCAST RUNNING MULTICAST  MTU:1500  Metric:1\n\nlo        Link encap:Local Loopback  \n          inet addr:127.0.0.1  Mask:255.0.0.0\n\n`;
}
