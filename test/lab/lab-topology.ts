// The lab's network: namespaces for the router, the ISP and each LAN host, the veths between them
// with their addresses and routes, and the console's port in the root namespace (README.md's
// picture). All of it goes away with the namespaces and the console veth (lab-registry.ts).
import {
  CONSOLE_IP, CONSOLE_MAC, ISP_IP, ISP_MAC, ROUTER_LAN_IP, ROUTER_LAN_MAC, ROUTER_WAN_IP, ROUTER_WAN_MAC, WAN_PREFIX_LENGTH,
  type LabNames,
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

async function addNamespace(ns: string): Promise<void> {
  await ip(['netns', 'add', ns]);
  // IPv6 off: no autoconfiguration chatter on the links (IPv6 is not what lantop accounts).
  await sysctl(ns, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Builds the namespaces and links of one lab; fails when another lab's console route is in place. */
export async function buildTopology(names: LabNames, hosts: ReadonlyArray<{ index: number; ns: string; ip: string; mac: string }>): Promise<void> {
  const { routerNs: r, ispNs: isp, consoleIf } = names;
  const taken = (await runOk(['ip', '-o', 'route', 'show', 'root', '198.51.100.0/24'])).trim();
  if (taken) throw new LabError(`lab: the root namespace already routes 198.51.100.0/24 (${taken}); run test/lab/cleanup.sh`);
  await addNamespace(r);
  await addNamespace(isp);
  for (const host of hosts) await addNamespace(host.ns);

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

  for (const host of hosts) {
    const port = `lan${host.index}`;
    await ip(['-n', host.ns, 'link', 'add', 'eth0', 'address', host.mac, 'type', 'veth', 'peer', 'name', port, 'netns', r]);
    await ip(['-n', r, 'link', 'set', port, 'master', 'br0', 'up']);
    await ip(['-n', host.ns, 'addr', 'add', `${host.ip}/24`, 'dev', 'eth0']);
    await ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
    await ip(['-n', host.ns, 'route', 'add', 'default', 'via', ROUTER_LAN_IP]);
  }

  // The console: the root namespace's port on br0. Adding the /24 address creates the only
  // root-namespace route the lab makes (198.51.100.0/24 dev <prefix>c); deleting the veth removes it.
  await ip(['link', 'add', consoleIf, 'address', CONSOLE_MAC, 'type', 'veth', 'peer', 'name', 'con0', 'netns', r]);
  await run(['sysctl', '-q', '-w', `net.ipv6.conf.${consoleIf}.disable_ipv6=1`]);
  await ip(['-n', r, 'link', 'set', 'con0', 'master', 'br0', 'up']);
  await ip(['addr', 'add', `${CONSOLE_IP}/24`, 'dev', consoleIf]);
  await ip(['link', 'set', consoleIf, 'up']);
}

