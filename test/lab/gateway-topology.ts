// The gateway lab's network (README.md "The gateway lab"): the gateway's namespace with a bridge to
// the clients (203.0.113.0/24), a link to the server (198.51.100.0/25) and one to the console port in
// the root namespace (198.51.100.128/25), IPv4 only unless `ipv6`: then the client link also carries
// 2001:db8:ff::/64 (br0 and the clients' eth0 only; the server and console links stay IPv4). The
// gateway does not forward: every tunnelled byte reaches the server only through sshd, so it crosses
// the gateway's INPUT and OUTPUT.
import {
  CLIENT_PREFIX6_LENGTH, CLIENT_PREFIX_LENGTH, CONSOLE_IP, GW_CLIENT_IP, GW_CLIENT_IP6, GW_CONSOLE_IP, GW_SERVER_IP, SERVER_IP, SERVER_PREFIX_LENGTH,
} from './gateway-model.js';
import { STEP_TIMEOUT_MS } from './lab-settings.js';
import { LabError, run, runOk } from './run-command.js';

async function ip(argv: readonly string[]): Promise<void> {
  await runOk(['ip', ...argv], { timeoutMs: STEP_TIMEOUT_MS });
}

async function sysctl(ns: string, settings: readonly string[]): Promise<void> {
  await runOk(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings], { timeoutMs: STEP_TIMEOUT_MS });
}

async function addNamespace(ns: string, ipv6: boolean): Promise<void> {
  await ip(['netns', 'add', ns]);
  if (!ipv6) await sysctl(ns, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  // As the router lab's dual stack (lab-topology.ts): addresses usable at once (no DAD), no router
  // solicitations or RAs (nothing here sends them; the addresses are set by hand).
  else {
    await sysctl(ns, [
      'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0',
      'net.ipv6.conf.all.accept_ra=0', 'net.ipv6.conf.default.accept_ra=0', 'net.ipv6.conf.default.router_solicitations=0',
    ]);
  }
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** `ipv6`: a link that stays IPv4 only (no link-local address, no neighbour discovery on it). */
async function ipv4Only(ns: string, dev: string, ipv6: boolean): Promise<void> {
  if (ipv6) await sysctl(ns, [`net.ipv6.conf.${dev}.disable_ipv6=1`]);
}

export interface GatewayTopology {
  gatewayNs: string;
  serverNs: string;
  clients: ReadonlyArray<{ ns: string; ip: string; ip6?: string | undefined; index: number }>;
  /** The client link's IPv6 as well (gateway 2001:db8:ff::1, each client its `ip6`). */
  ipv6?: boolean;
  /** The root namespace's end of the console link. */
  consoleIf: string;
}

export async function buildGatewayTopology(t: GatewayTopology): Promise<void> {
  // The console's /25 is inside 198.51.100.0/24: neither a router lab's console route nor anything else may be there.
  const taken = (await runOk(['ip', '-o', 'route', 'show', 'root', '198.51.100.0/24'])).trim()
    || (await runOk(['ip', '-o', 'route', 'show', 'match', CONSOLE_IP])).split('\n').filter((l) => !l.startsWith('default')).join(' ').trim();
  if (taken) throw new LabError(`gateway lab: the root namespace already routes ${CONSOLE_IP} (${taken}); run test/lab/cleanup.sh`);
  const gw = t.gatewayNs;
  const ipv6 = t.ipv6 === true;
  await addNamespace(gw, ipv6);
  await addNamespace(t.serverNs, ipv6);
  for (const client of t.clients) await addNamespace(client.ns, ipv6);
  await sysctl(gw, ['net.ipv4.ip_forward=0']);

  await ip(['-n', gw, 'link', 'add', 'br0', 'type', 'bridge']);
  // Frames between clients stay on the bridge; only what is addressed to the gateway reaches its IP layer.
  await run(['ip', 'netns', 'exec', gw, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
  await ip(['-n', gw, 'addr', 'add', `${GW_CLIENT_IP}/${CLIENT_PREFIX_LENGTH}`, 'dev', 'br0']);
  if (ipv6) await ip(['-n', gw, '-6', 'addr', 'add', `${GW_CLIENT_IP6}/${CLIENT_PREFIX6_LENGTH}`, 'dev', 'br0', 'nodad']);
  await ip(['-n', gw, 'link', 'set', 'br0', 'up']);
  for (const client of t.clients) {
    const port = `lan${client.index}`;
    await ip(['-n', client.ns, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', port, 'netns', gw]);
    await ipv4Only(gw, port, ipv6);
    await ip(['-n', gw, 'link', 'set', port, 'master', 'br0', 'up']);
    await ip(['-n', client.ns, 'addr', 'add', `${client.ip}/${CLIENT_PREFIX_LENGTH}`, 'dev', 'eth0']);
    if (ipv6 && client.ip6) await ip(['-n', client.ns, '-6', 'addr', 'add', `${client.ip6}/${CLIENT_PREFIX6_LENGTH}`, 'dev', 'eth0', 'nodad']);
    await ip(['-n', client.ns, 'link', 'set', 'eth0', 'up']);
  }

  await ip(['-n', gw, 'link', 'add', 'srv0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', t.serverNs]);
  await ipv4Only(gw, 'srv0', ipv6);
  await ipv4Only(t.serverNs, 'eth0', ipv6);
  await ip(['-n', gw, 'addr', 'add', `${GW_SERVER_IP}/${SERVER_PREFIX_LENGTH}`, 'dev', 'srv0']);
  await ip(['-n', gw, 'link', 'set', 'srv0', 'up']);
  await ip(['-n', t.serverNs, 'addr', 'add', `${SERVER_IP}/${SERVER_PREFIX_LENGTH}`, 'dev', 'eth0']);
  await ip(['-n', t.serverNs, 'link', 'set', 'eth0', 'up']);

  // The console: lantop in the root namespace reaches the gateway's sshd at 198.51.100.129. The /25 on
  // the veth is the only route the lab adds to the root namespace; deleting the veth removes it.
  await ip(['link', 'add', t.consoleIf, 'type', 'veth', 'peer', 'name', 'con0', 'netns', gw]);
  await run(['sysctl', '-q', '-w', `net.ipv6.conf.${t.consoleIf}.disable_ipv6=1`]);
  await ipv4Only(gw, 'con0', ipv6);
  await ip(['-n', gw, 'addr', 'add', `${GW_CONSOLE_IP}/25`, 'dev', 'con0']);
  await ip(['-n', gw, 'link', 'set', 'con0', 'up']);
  await ip(['addr', 'add', `${CONSOLE_IP}/25`, 'dev', t.consoleIf]);
  await ip(['link', 'set', t.consoleIf, 'up']);
}
