// The lab's network: namespaces for the router, the ISP and each LAN host, the veths between them
// with their addresses and routes, and the console's port in the root namespace (README.md's
// picture). All of it goes away with the namespaces and the console veth (lab-registry.ts).
import {
  CONSOLE_IP, CONSOLE_MAC, ISP_IP, ISP_IP6, ISP_MAC, LAN6_PREFIX, ROUTER_LAN_IP, ROUTER_LAN_IP6, ROUTER_LAN_MAC, ROUTER_WAN_IP,
  ROUTER_WAN_IP6, ROUTER_WAN_MAC, WAN_PREFIX_LENGTH, type LabNames,
} from './lab-model.js';
import { STEP_TIMEOUT_MS } from './lab-settings.js';
import { LabError, run, runOk } from './run-command.js';

/** `ip …`, failing the step on a non-zero exit. */
export async function ip(argv: readonly string[]): Promise<void> {
  await runOk(['ip', ...argv], { timeoutMs: STEP_TIMEOUT_MS });
}

async function sysctl(ns: string, settings: readonly string[]): Promise<void> {
  await runOk(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings], { timeoutMs: STEP_TIMEOUT_MS });
}

async function addNamespace(ns: string, ipv6: boolean): Promise<void> {
  await ip(['netns', 'add', ns]);
  if (!ipv6) {
    // IPv6 off: no autoconfiguration chatter on the links.
    await sysctl(ns, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  } else {
    // Dual stack without waits or chatter: no duplicate address detection (addresses usable at
    // once, `nodad` as well), no router solicitations (the lab has no RA daemon; addresses are set).
    await sysctl(ns, [
      'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.accept_ra=0', 'net.ipv6.conf.default.accept_ra=0',
      'net.ipv6.conf.default.router_solicitations=0',
    ]);
  }
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

export interface TopologyHost {
  index: number;
  ns: string;
  ip: string;
  mac: string;
  /** The stable IPv6 address (dual stack only). */
  ip6: string | null;
}

/** Builds the namespaces and links of one lab; fails when another lab's console route is in place. */
export async function buildTopology(names: LabNames, hosts: readonly TopologyHost[], options: { ipv6: boolean }): Promise<void> {
  const { ipv6 } = options;
  const { routerNs: r, ispNs: isp, consoleIf } = names;
  const taken = (await runOk(['ip', '-o', 'route', 'show', 'root', '198.51.100.0/24'])).trim();
  if (taken) throw new LabError(`lab: the root namespace already routes 198.51.100.0/24 (${taken}); run test/lab/cleanup.sh`);
  await addNamespace(r, ipv6);
  await addNamespace(isp, ipv6);
  for (const host of hosts) await addNamespace(host.ns, ipv6);

  await sysctl(r, ['net.ipv4.ip_forward=1']);
  await ip(['-n', r, 'link', 'add', 'br0', 'address', ROUTER_LAN_MAC, 'type', 'bridge']);
  // Routed LAN<->WAN packets must cross iptables once, at the IP layer, as on the real router.
  await run(['ip', 'netns', 'exec', r, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
  await ip(['-n', r, 'addr', 'add', `${ROUTER_LAN_IP}/24`, 'dev', 'br0']);
  await ip(['-n', r, 'link', 'set', 'br0', 'up']);

  await ip(['-n', r, 'link', 'add', 'ppp0', 'address', ROUTER_WAN_MAC, 'type', 'veth', 'peer', 'name', 'wan0', 'address', ISP_MAC, 'netns', isp]);
  await ip(['-n', r, 'addr', 'add', `${ROUTER_WAN_IP}/${WAN_PREFIX_LENGTH}`, 'dev', 'ppp0']);
  await ip(['-n', r, 'link', 'set', 'ppp0', 'up']);
  await ip(['-n', isp, 'addr', 'add', `${ISP_IP}/${WAN_PREFIX_LENGTH}`, 'dev', 'wan0']);
  await ip(['-n', isp, 'link', 'set', 'wan0', 'up']);
  await ip(['-n', r, 'route', 'add', 'default', 'via', ISP_IP, 'dev', 'ppp0']);
  // The ISP gets no route to 198.51.100.0/24: replies come back only through the router's NAT.
  if (ipv6) {
    // Routed, as an ISP delegates a prefix: the LAN /64 via the router's WAN address, no NAT66.
    await sysctl(r, ['net.ipv6.conf.all.forwarding=1']);
    // Without a querier the bridge floods multicast anyway; snooping off makes that explicit for the
    // neighbour solicitations of addresses a host adds later (temporary ones).
    await ip(['-n', r, 'link', 'set', 'br0', 'type', 'bridge', 'mcast_snooping', '0']);
    await ip(['-n', r, '-6', 'addr', 'add', `${ROUTER_LAN_IP6}/64`, 'dev', 'br0', 'nodad']);
    await ip(['-n', r, '-6', 'addr', 'add', `${ROUTER_WAN_IP6}/64`, 'dev', 'ppp0', 'nodad']);
    await ip(['-n', isp, '-6', 'addr', 'add', `${ISP_IP6}/64`, 'dev', 'wan0', 'nodad']);
    await ip(['-n', r, '-6', 'route', 'add', 'default', 'via', ISP_IP6, 'dev', 'ppp0']);
    await ip(['-n', isp, '-6', 'route', 'add', LAN6_PREFIX, 'via', ROUTER_WAN_IP6, 'dev', 'wan0']);
  }

  for (const host of hosts) {
    const port = `lan${host.index}`;
    await ip(['-n', host.ns, 'link', 'add', 'eth0', 'address', host.mac, 'type', 'veth', 'peer', 'name', port, 'netns', r]);
    // A bridge port carries frames, not addresses of its own.
    if (ipv6) await sysctl(r, [`net.ipv6.conf.${port}.disable_ipv6=1`]);
    await ip(['-n', r, 'link', 'set', port, 'master', 'br0', 'up']);
    await ip(['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
    await ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', host.ns, 'route', 'add', 'default', 'via', ROUTER_LAN_IP]);
    if (ipv6 && host.ip6) await addHostIpv6(host.ns, host.ip6);
  }

  // The console: the root namespace's port on br0. Adding the /24 address creates the only
  // root-namespace route the lab makes (198.51.100.0/24 dev <prefix>c); deleting the veth removes it.
  await ip(['link', 'add', consoleIf, 'address', CONSOLE_MAC, 'type', 'veth', 'peer', 'name', 'con0', 'netns', r]);
  await run(['sysctl', '-q', '-w', `net.ipv6.conf.${consoleIf}.disable_ipv6=1`]);
  if (ipv6) await sysctl(r, ['net.ipv6.conf.con0.disable_ipv6=1']);
  await ip(['-n', r, 'link', 'set', 'con0', 'master', 'br0', 'up']);
  await ip(['addr', 'add', `${CONSOLE_IP}/24`, 'dev', consoleIf]);
  await ip(['link', 'set', consoleIf, 'up']);
}


/**
 * A host's IPv6: its stable address, marked `mngtmpaddr` with `use_tempaddr=2`, so the kernel itself
 * makes a temporary (privacy) address from the prefix, with a random interface identifier and the
 * lifetimes RFC 8981 gives it (Linux: temp_prefered_lft 1 day, temp_valid_lft; ip-sysctl.rst), and
 * prefers it as the source address, as on every current desktop and phone.
 */
async function addHostIpv6(ns: string, stable: string): Promise<void> {
  await sysctl(ns, ['net.ipv6.conf.eth0.use_tempaddr=2']);
  await ip(['-n', ns, '-6', 'addr', 'add', `${stable}/64`, 'dev', 'eth0', 'nodad', 'mngtmpaddr']);
  await ip(['-n', ns, '-6', 'route', 'add', 'default', 'via', ROUTER_LAN_IP6, 'dev', 'eth0']);
}

export interface HostAddress6 {
  address: string;
  temporary: boolean;
  /** Preferred lifetime over: still valid for existing connections, no longer chosen for new ones. */
  deprecated: boolean;
}

/** The host's global IPv6 addresses (`ip -6 -j addr show dev eth0 scope global`). */
export async function hostAddresses6(ns: string): Promise<HostAddress6[]> {
  const out = await runOk(['ip', '-n', ns, '-6', '-j', 'addr', 'show', 'dev', 'eth0', 'scope', 'global'], { timeoutMs: STEP_TIMEOUT_MS });
  const links = JSON.parse(out || '[]') as Array<{ addr_info?: Array<{ local?: string; temporary?: boolean; deprecated?: boolean }> }>;
  return links.flatMap((link) => link.addr_info ?? []).filter((a) => typeof a.local === 'string')
    .map((a) => ({ address: a.local!, temporary: a.temporary === true, deprecated: a.deprecated === true }));
}

/**
 * A new temporary address, as when the old one reaches the end of its preferred lifetime: the old
 * one is deprecated (preferred_lft 0, still valid for a while) and the kernel makes the next one at
 * once. Returns the new address.
 */
export async function rotateTemporaryAddress(ns: string): Promise<string> {
  const before = await hostAddresses6(ns);
  for (const old of before.filter((a) => a.temporary && !a.deprecated)) {
    await ip(['-n', ns, '-6', 'addr', 'change', `${old.address}/64`, 'dev', 'eth0', 'preferred_lft', '0', 'valid_lft', '3600']);
  }
  const known = new Set(before.map((a) => a.address));
  for (let i = 0; i < 100; i++) {
    const fresh = (await hostAddresses6(ns)).find((a) => a.temporary && !a.deprecated && !known.has(a.address));
    if (fresh) return fresh.address;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new LabError(`lab: no new temporary address appeared in ${ns}`);
}
