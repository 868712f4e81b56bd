// Two routers, chained (issue 20, the access-point case): router A is the ordinary lab (startLab,
// its LAN 198.51.100.0/24, hosts h1, h2), router B a second CMS router whose WAN "ppp0" is a port
// of A's bridge (198.51.100.50/24, default via A), with its own LAN 198.51.100.128/26 (hosts h3,
// h4), NATed onto its WAN address as an access point in router mode does. B runs the same programs
// as A (telnetd with the Broadcom CLI, dropbear, the boot firewall) from the same lab parts;
// lantop reaches it from the console at 198.51.100.50, on A's LAN (B's firewall lets the console's
// telnet/SSH in on its WAN, as an access point's management from the upstream LAN). Each host of B
// carries the same nftables oracle as A's hosts. No second console and no root-namespace route: B
// lives inside A's /24, so A's console lock covers both.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LabLease } from './lab-model.js';
import { findHost, expectedAddresses } from './lab-hosts.js';
import { deviceCounts, type OracleCounts, type OracleDevices } from './lab-oracle.js';
import { allocatePrefix, destroyLabByPrefixSync, registerLab, unregisterLab } from './lab-registry.js';
import { writeLeaseFiles, writeRouterFiles } from './lab-router-files.js';
import { bootFirewall, rebootFirewall, type FirewallContext } from './lab-router-firewall.js';
import { RouterProcesses } from './lab-router-processes.js';
import { SSH_PORT, STATE_ROOT, TELNET_PORT } from './lab-settings.js';
import { ip } from './lab-topology.js';
import { installOracle, readHostOracle, resetHostOracle, settleOracle, TrafficAgents } from './lab-traffic.js';
import { resolveProfile, type RouterProfile } from './lab-variants.js';
import { startLab, type HostRef, type Lab, type LabHost, type LabOptions, type TransferOptions, type TransferResult } from './lab.js';
import { LabError, run, runOk, sleep, type ExecResult } from './run-command.js';

/** B's WAN address on A's LAN: lantop logs in to B here, and A lists it as one of its devices. */
export const B_WAN_IP = '198.51.100.50';
export const B_LAN_IP = '198.51.100.129';
/** A /26, not a /25: 198.51.100.128/25 would take in the console's .254, and B would answer lantop on br0. */
export const B_LAN_PREFIX = '198.51.100.128/26';
/** B's MACs: another locally administered block than A's 02:1a:b0:00:…, last byte = last IP octet. */
export const B_WAN_MAC = '02:1a:b0:01:ff:32';
const B_LAN_MAC = '02:1a:b0:01:00:81';
const CONSOLE_IP = '198.51.100.254';

/** A host of B: h3 is B's first (198.51.100.130), h4 its second, and so on. */
function bHost(i: number, prefix: string, hostname: string): LabHost {
  const octet = 130 + i;
  const bytes = Buffer.from(hostname, 'utf8');
  return {
    index: i + 1, name: `h${i + 3}`, ns: `${prefix}-h${i + 1}`, ip: `198.51.100.${octet}`,
    mac: `02:1a:b0:01:00:${octet.toString(16)}`, hostname, hostnameBytes: bytes, ip6: null, tempIp6: null,
  };
}

async function sysctl(ns: string, settings: readonly string[]): Promise<void> {
  await runOk(['ip', 'netns', 'exec', ns, 'sysctl', '-q', '-w', ...settings]);
}

async function addNamespace(ns: string): Promise<void> {
  await ip(['netns', 'add', ns]);
  await sysctl(ns, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
  await ip(['-n', ns, 'link', 'set', 'lo', 'up']);
}

/** Router B: built inside a running lab A, torn down with it (ChainedLab.stop) or on exit. */
export class SecondRouter {
  readonly prefix = allocatePrefix();
  readonly routerNs = `${this.prefix}-r`;
  readonly routerIp = B_WAN_IP;
  readonly telnetPort = TELNET_PORT;
  readonly sshPort = SSH_PORT;
  readonly user = 'admin';
  readonly profile: RouterProfile = resolveProfile('cms', {});
  readonly hosts: LabHost[];
  private readonly dir = join(STATE_ROOT, this.prefix);
  private readonly processes: RouterProcesses;
  private readonly traffic: TrafficAgents;
  private destroyed = false;

  constructor(private readonly a: Lab, readonly password: string, hostnames: readonly string[]) {
    this.hosts = hostnames.map((name, i) => bHost(i, this.prefix, name));
    this.processes = new RouterProcesses(this.routerNs, this.dir, this.profile);
    // Its own agent in the ISP: the same server A's hosts reach, through both NATs.
    this.traffic = new TrafficAgents(a.ispNs);
    registerLab(this);
  }

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'owner'), `${process.pid}\n`);
    await writeRouterFiles({ dir: this.dir, backend: 'legacy', shell: 'plain', user: this.user, password: this.password, banner: 'BCM96358 Broadband Router', profile: this.profile, hosts: this.hosts });
    this.setLeases(this.hosts.map((h) => ({ mac: h.mac, ip: h.ip, hostname: h.hostnameBytes })));
    const r = this.routerNs;
    await addNamespace(r);
    for (const host of this.hosts) await addNamespace(host.ns);
    await sysctl(r, ['net.ipv4.ip_forward=1']);
    // WAN: a port of A's bridge, as the access point's WAN cable in one of the modem's LAN ports.
    await ip(['-n', r, 'link', 'add', 'ppp0', 'address', B_WAN_MAC, 'type', 'veth', 'peer', 'name', 'lanb', 'netns', this.a.routerNs]);
    await ip(['-n', this.a.routerNs, 'link', 'set', 'lanb', 'master', 'br0', 'up']);
    await ip(['-n', r, 'addr', 'add', `${B_WAN_IP}/24`, 'dev', 'ppp0']);
    await ip(['-n', r, 'link', 'set', 'ppp0', 'up']);
    await ip(['-n', r, 'route', 'add', 'default', 'via', this.a.routerIp, 'dev', 'ppp0']);
    // LAN: the /26 inside A's /24 (not reaching the console's .254) is more specific, so B routes it to br0, the rest to its WAN.
    await ip(['-n', r, 'link', 'add', 'br0', 'address', B_LAN_MAC, 'type', 'bridge']);
    await run(['ip', 'netns', 'exec', r, 'sysctl', '-q', '-w', 'net.bridge.bridge-nf-call-iptables=0']);
    await ip(['-n', r, 'addr', 'add', `${B_LAN_IP}/26`, 'dev', 'br0']);
    await ip(['-n', r, 'link', 'set', 'br0', 'up']);
    for (const host of this.hosts) {
      const port = `lan${host.index}`;
      await ip(['-n', host.ns, 'link', 'add', 'eth0', 'address', host.mac, 'type', 'veth', 'peer', 'name', port, 'netns', r]);
      await ip(['-n', r, 'link', 'set', port, 'master', 'br0', 'up']);
      await ip(['-n', host.ns, 'addr', 'add', `${host.ip}/26`, 'dev', 'eth0']);
      await ip(['-n', host.ns, 'link', 'set', 'eth0', 'up']);
      await ip(['-n', host.ns, 'route', 'add', 'default', 'via', B_LAN_IP]);
      await installOracle(host.ns);
    }
    await this.processes.startKeeper();
    await this.bootFirewall(false);
    await this.processes.startTelnet();
    await this.processes.startDaemon('dropbear');
    await this.refreshArp();
  }

  private get firewall(): FirewallContext {
    return {
      exec: (argv, options) => this.exec(argv, options), routerNs: this.routerNs, dir: this.dir, backend: 'legacy',
      profile: this.profile, keeperPid: this.processes.pid, offloadRuleset: null,
    };
  }

  /** The CMS boot firewall, and management from the console on the WAN side (its boot rules drop NEW on ppp0). */
  private async bootFirewall(reboot: boolean): Promise<void> {
    await (reboot ? rebootFirewall(this.firewall) : bootFirewall(this.firewall));
    const r = await this.exec(['iptables', '-I', 'INPUT', '1', '-i', 'ppp0', '-s', CONSOLE_IP, '-p', 'tcp', '-m', 'multiport', '--dports', '22,23', '-j', 'ACCEPT']);
    if (r.code !== 0) throw new LabError(`lab B: management rule: ${r.stderr}`);
  }

  exec(argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    if (this.destroyed) throw new LabError('lab B: already stopped');
    return this.processes.exec(argv, options);
  }

  setLeases(leases: readonly LabLease[]): void {
    writeLeaseFiles(this.dir, this.profile, leases);
  }

  /** Each host pings B, and B pings A and the console: ARP complete on both routers. */
  async refreshArp(): Promise<void> {
    const ping = (ns: string, target: string): Promise<string> => runOk(['ip', 'netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '2', target]);
    await Promise.all([...this.hosts.map((h) => ping(h.ns, B_LAN_IP)), ping(this.routerNs, this.a.routerIp), ping(this.routerNs, CONSOLE_IP)]);
  }

  async transfer(ref: HostRef, amounts: TransferOptions): Promise<TransferResult> {
    const host = findHost(this.hosts, ref);
    const started = Date.now();
    const moved = await this.traffic.transfer(host, amounts);
    await this.settle();
    return { host: host.name, downBytes: moved.downBytes, upBytes: moved.upBytes, ms: Date.now() - started, family: 4, source: host.ip };
  }

  async oracle(): Promise<OracleCounts> {
    const result: OracleCounts = {};
    for (const host of this.hosts) Object.assign(result, await readHostOracle(host.ns, expectedAddresses(host)));
    return result;
  }

  async oracleByHost(): Promise<OracleDevices> {
    const result: OracleDevices = {};
    for (const host of this.hosts) result[host.name] = deviceCounts(host, await readHostOracle(host.ns, expectedAddresses(host)));
    return result;
  }

  async resetOracle(): Promise<void> {
    await Promise.all(this.hosts.map((h) => resetHostOracle(h.ns)));
  }

  settle(): Promise<OracleCounts> {
    return settleOracle(() => this.oracle());
  }

  /** As lab.reboot(): every process but the keeper killed, the boot firewall back (counters zero), ARP flushed. */
  async reboot(options: { downMs?: number } = {}): Promise<void> {
    await this.processes.killAllButKeeper();
    await this.bootFirewall(true);
    await ip(['-n', this.routerNs, 'neigh', 'flush', 'dev', 'br0']);
    if (options.downMs) await sleep(options.downMs);
    await this.processes.startTelnet();
    await this.processes.startDaemon('dropbear');
    await this.refreshArp();
  }

  /**
   * Roaming: A's host `host` unplugs from A and plugs into B (its veth port moves from A's bridge to
   * B's), with the same MAC and a new address `newIp` on B's LAN (and a lease there). The host keeps
   * its namespace, so its oracle keeps counting; `host.ip` becomes the new address.
   */
  async roamFromA(host: LabHost, newIp: string, leases: readonly LabLease[]): Promise<void> {
    const a = this.a.routerNs;
    const port = `lan${host.index}`;
    await ip(['-n', a, 'link', 'set', port, 'down']);
    await ip(['-n', a, 'link', 'set', port, 'nomaster']);
    await ip(['-n', a, 'link', 'set', port, 'name', 'roam0']);
    await ip(['-n', a, 'link', 'set', 'roam0', 'netns', this.routerNs]);
    await ip(['-n', this.routerNs, 'link', 'set', 'roam0', 'master', 'br0', 'up']);
    await ip(['-n', host.ns, 'addr', 'flush', 'dev', 'eth0']);
    await ip(['-n', host.ns, 'addr', 'add', `${newIp}/26`, 'dev', 'eth0']);
    await ip(['-n', host.ns, 'route', 'replace', 'default', 'via', B_LAN_IP]);
    await ip(['-n', host.ns, 'neigh', 'flush', 'dev', 'eth0']);
    host.ip = newIp;
    this.setLeases(leases);
    await runOk(['ip', 'netns', 'exec', host.ns, 'busybox', 'ping', '-c', '1', '-W', '2', B_LAN_IP]);
  }

  diagnostics(): string {
    return this.processes.diagnostics();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.traffic.killAll();
    this.processes.killAllSync();
    destroyLabByPrefixSync(this.prefix);
    unregisterLab(this);
  }
}

export interface ChainedLab {
  a: Lab;
  b: SecondRouter;
  stop(): Promise<void>;
}

/** A (startLab with `a`'s options, default 2 hosts) and B behind it; everything removed on failure. */
export async function startChainedLab(options: { a?: LabOptions; bPassword?: string; bHostnames?: string[] } = {}): Promise<ChainedLab> {
  const a = await startLab({ hosts: 2, ...options.a });
  let b: SecondRouter | null = null;
  try {
    b = new SecondRouter(a, options.bPassword ?? 'admin', options.bHostnames ?? ['carol-tablet', 'dave-tv']);
    await b.start();
    await a.refreshArp();
  } catch (error) {
    if (error instanceof Error && b) error.message += `\n--- lab B diagnostics ---\n${b.diagnostics()}`;
    b?.destroySync();
    await a.stop();
    throw error;
  }
  const bb = b;
  return {
    a, b: bb,
    async stop() {
      bb.destroySync();
      await a.stop();
    },
  };
}
