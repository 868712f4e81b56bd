// One lab: the router, its hosts and the ISP, put together from the parts beside this file
// (topology, router files and processes, traffic and oracle) and torn down as one. Public face:
// startLab() and the Lab interface in lab.ts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONSOLE_IP, CONSOLE_MAC, ISP_IP, ISP_IP6, MAX_HOSTS, ROUTER_LAN_IP, ROUTER_LAN_IP6, hostileHostnames, labNames, type IptablesBackend, type LabLease, type LabNames,
} from './lab-model.js';
import {
  fastPathRuleset, fw4OffloadRuleset, vendorOffloadRuleset, type ConntrackEntry, type FastPathKind, type FlowOffload, type InterfaceCounters,
} from './lab-fastpath.js';
import { expectedAddresses, findHost, labHosts, pingNeighbours, transferSource6 } from './lab-hosts.js';
import { deviceCounts, type OracleCounts, type OracleDevices } from './lab-oracle.js';
import { acquireConsoleLock, allocatePrefix, destroyLabByPrefixSync, registerLab, unregisterLab } from './lab-registry.js';
import { writeLeaseFiles, writeRouterFiles } from './lab-router-files.js';
import {
  bootFirewall, fw4, iptablesSave, nftRuleset, rebootFirewall, type FirewallContext, type Fw4Command,
} from './lab-router-firewall.js';
import { RouterProcesses } from './lab-router-processes.js';
import {
  FastPathWatcher, hasKernelFlowtable, readConntrack, readInterfaceCounters, readRouterSysctl, setRouterSysctl, writeOffloadStandIns,
} from './lab-router-offload.js';
import { BACKEND_BINARIES, SSH_PORT, STATE_ROOT, STEP_TIMEOUT_MS, TELNET_PORT } from './lab-settings.js';
import { buildTopology, hostAddresses6, ip, rotateTemporaryAddress, type HostAddress6 } from './lab-topology.js';
import { installOracle, readHostOracle, resetHostOracle, settleOracle, TrafficAgents } from './lab-traffic.js';
import { cliDialogue, resolveProfile, type CliDialogue, type LabVariantName, type RouterProfile } from './lab-variants.js';
import type { HostRef, Lab, LabHost, LabOptions, TransferOptions, TransferResult } from './lab.js';
import { LabError, run, runOk, sleep, waitFor, type ExecResult } from './run-command.js';

export class RouterLab implements Lab {
  readonly prefix: string;
  readonly backend: IptablesBackend;
  readonly routerIp = ROUTER_LAN_IP;
  readonly routerIp6: string | null;
  readonly ipv6: boolean;
  readonly telnetPort = TELNET_PORT;
  readonly sshPort = SSH_PORT;
  readonly user: string;
  readonly password: string;
  readonly routerNs: string;
  readonly ispNs: string;
  readonly console: { ip: string; mac: string; iface: string };
  readonly markerName: string;
  readonly variant: LabVariantName;
  readonly profile: RouterProfile;
  readonly dialogue: CliDialogue;
  readonly flowOffload: FlowOffload;
  readonly conntrackAcct: boolean;
  fastPath: FastPathKind | null = null;
  hosts: LabHost[];
  leases: LabLease[] = [];

  private readonly names: LabNames;
  private readonly dir: string;
  private readonly banner: string;
  private readonly shell: 'plain' | 'busybox';
  private readonly processes: RouterProcesses;
  private readonly traffic: TrafficAgents;
  private watcher: FastPathWatcher | null = null;
  private offloadRuleset: string | null = null;
  private destroyed = false;

  constructor(options: LabOptions) {
    const hostCount = options.hosts ?? 3;
    if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > MAX_HOSTS) throw new LabError(`lab: hosts must be 1..${MAX_HOSTS}`);
    this.variant = options.variant ?? 'cms';
    this.profile = resolveProfile(this.variant, { ...options.profile, ...(options.ipv6 !== undefined ? { ipv6: options.ipv6 } : {}) });
    // The OpenWrt router has no iptables; its kernel side is nf_tables either way.
    this.backend = options.backend ?? (this.profile.firmware === 'openwrt' ? 'nft' : 'legacy');
    if (!(this.backend in BACKEND_BINARIES)) throw new LabError(`lab: unknown backend ${String(this.backend)}`);
    // OpenWrt has one user, root; the vendor firmware's CLI login is admin.
    this.user = options.user ?? (this.profile.firmware === 'openwrt' ? 'root' : 'admin');
    this.password = options.password ?? 'admin';
    if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(this.user)) throw new LabError('lab: user must be a plain login name');
    if (/[\0\n\r]/.test(this.password) || this.password.length === 0) throw new LabError('lab: password must be non-empty, without NUL/CR/LF');
    this.banner = options.banner ?? 'BCM96358 Broadband Router';
    this.shell = options.shell ?? 'plain';
    this.ipv6 = this.profile.ipv6;
    this.routerIp6 = this.ipv6 ? ROUTER_LAN_IP6 : null;
    this.dialogue = cliDialogue(this.profile);
    this.flowOffload = options.flowOffload ?? 'off';
    if (this.flowOffload !== 'off' && this.flowOffload !== 'software') throw new LabError(`lab: flowOffload must be 'off' or 'software'`);
    // OpenWrt ships net.netfilter.nf_conntrack_acct=1 (package/kernel/linux/files/sysctl-nf-conntrack.conf);
    // the kernel's default, which vendor firmware keeps unless something needs it, is 0.
    this.conntrackAcct = options.conntrackAcct ?? this.profile.firmware === 'openwrt';
    this.prefix = allocatePrefix();
    this.names = labNames(this.prefix);
    this.routerNs = this.names.routerNs;
    this.ispNs = this.names.ispNs;
    this.console = { ip: CONSOLE_IP, mac: CONSOLE_MAC, iface: this.names.consoleIf };
    this.markerName = `pwned-${this.prefix}`;
    this.dir = join(STATE_ROOT, this.prefix);
    this.hosts = labHosts(hostCount, options.hostnames, this.names, this.ipv6);
    this.processes = new RouterProcesses(this.routerNs, this.dir, this.profile);
    this.traffic = new TrafficAgents(this.ispNs);
    registerLab(this);
  }

  // --- bring-up -------------------------------------------------------------------------------

  async start(): Promise<void> {
    mkdirSync(this.dir, { recursive: true });
    writeFileSync(join(this.dir, 'owner'), `${process.pid}\n`);
    await writeRouterFiles({ dir: this.dir, backend: this.backend, shell: this.shell, user: this.user, password: this.password, banner: this.banner, profile: this.profile, hosts: this.hosts });
    await this.setLeases(this.hosts.map((h) => ({ mac: h.mac, ip: h.ip, hostname: h.hostnameBytes })));
    await acquireConsoleLock(this.prefix);
    await buildTopology(this.names, this.hosts, { ipv6: this.ipv6 });
    // Before any connection exists: the accounting extension is attached when a connection is created.
    await setRouterSysctl(this.routerNs, 'net.netfilter.nf_conntrack_acct', this.conntrackAcct ? '1' : '0');
    if (this.flowOffload === 'software') await this.prepareOffload();
    writeOffloadStandIns(this.dir, this.profile, this.fastPath);
    for (const host of this.hosts) {
      await installOracle(host.ns);
      if (this.ipv6) host.tempIp6 = await this.currentTemporary(host);
    }
    await this.processes.startKeeper();
    await bootFirewall(this.firewall);
    await this.startFastPath();
    await this.processes.startTelnet();
    await this.processes.startDaemon('dropbear');
    await this.refreshArp();
  }

  /** The kernel's flowtable where it exists, else the emulated fast path (lab-fastpath.ts). */
  private async prepareOffload(): Promise<void> {
    this.fastPath = (await hasKernelFlowtable(this.routerNs)) ? 'kernel-flowtable' : 'emulated';
    if (this.fastPath === 'emulated') {
      // The kernel marks offloaded TCP connections "be liberal" (flow_offload_ct_tcp); see lab-fastpath.ts.
      await setRouterSysctl(this.routerNs, 'net.netfilter.nf_conntrack_tcp_be_liberal', '1');
    }
    if (this.profile.firmware === 'openwrt') {
      // fw4 loads the rendered ruleset at every start/reload/restart: offloading is part of it.
      const file = join(this.dir, 'openwrt', 'ruleset.nft');
      const ruleset = readFileSync(file, 'utf8');
      writeFileSync(file, this.fastPath === 'kernel-flowtable' ? fw4OffloadRuleset(ruleset) : `${ruleset}
${fastPathRuleset()}`);
    } else {
      this.offloadRuleset = this.fastPath === 'kernel-flowtable' ? vendorOffloadRuleset() : fastPathRuleset();
    }
  }

  private async startFastPath(): Promise<void> {
    if (this.fastPath !== 'emulated') return;
    this.watcher?.stop();
    this.watcher = new FastPathWatcher(this.routerNs, this.dir);
    await this.watcher.start();
  }

  // --- running things -------------------------------------------------------------------------

  exec(argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    this.assertRunning();
    return this.processes.exec(argv, options);
  }

  /** What the firewall helpers (lab-router-firewall.ts) need of this lab. */
  private get firewall(): FirewallContext {
    return {
      exec: (argv, options) => this.exec(argv, options), routerNs: this.routerNs, dir: this.dir, backend: this.backend,
      profile: this.profile, keeperPid: this.processes.pid, offloadRuleset: this.offloadRuleset,
    };
  }

  hostExec(host: HostRef, argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    this.assertRunning();
    return run(['ip', 'netns', 'exec', this.host(host).ns, ...argv], { timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS });
  }

  private host(ref: HostRef): LabHost {
    return findHost(this.hosts, ref);
  }

  private assertRunning(): void {
    if (this.destroyed) throw new LabError('lab: already stopped');
  }

  // --- traffic and the oracle ---------------------------------------------------------------------

  async transfer(ref: HostRef, amounts: TransferOptions): Promise<TransferResult> {
    this.assertRunning();
    const host = this.host(ref);
    const family = amounts.family ?? 4;
    if (family !== 4 && family !== 6) throw new LabError(`lab: family must be 4 or 6, got ${String(family)}`);
    const source = family === 4 ? host.ip : transferSource6(host, amounts.source ?? 'stable', this.ipv6);
    const started = Date.now();
    const moved = await this.traffic.transfer(host, amounts, family === 6 ? source : undefined);
    await this.settle();
    return { host: host.name, downBytes: moved.downBytes, upBytes: moved.upBytes, ms: Date.now() - started, family, source };
  }

  private async readByHost(): Promise<Map<LabHost, OracleCounts>> {
    const readings = await Promise.all(this.hosts.map((host) => readHostOracle(host.ns, expectedAddresses(host))));
    return new Map(this.hosts.map((host, i) => [host, readings[i]!]));
  }

  async oracle(): Promise<OracleCounts> {
    this.assertRunning();
    const result: OracleCounts = {};
    for (const counts of (await this.readByHost()).values()) Object.assign(result, counts);
    return result;
  }

  async oracleByHost(): Promise<OracleDevices> {
    this.assertRunning();
    const result: OracleDevices = {};
    for (const [host, counts] of await this.readByHost()) result[host.name] = deviceCounts(host, counts);
    return result;
  }

  async resetOracle(): Promise<void> {
    this.assertRunning();
    await Promise.all(this.hosts.map((host) => resetHostOracle(host.ns)));
  }

  async hostAddresses6(ref: HostRef): Promise<HostAddress6[]> {
    this.assertRunning();
    return this.ipv6 ? hostAddresses6(this.host(ref).ns) : [];
  }

  async rotateTemporaryAddress(ref: HostRef): Promise<string> {
    this.assertRunning();
    const host = this.host(ref);
    if (!this.ipv6) throw new LabError('lab: temporary addresses need a dual-stack lab (ipv6: true)');
    host.tempIp6 = await rotateTemporaryAddress(host.ns);
    return host.tempIp6;
  }

  /** The kernel makes the first temporary address right after the stable one; wait for it. */
  private async currentTemporary(host: LabHost): Promise<string> {
    return waitFor(`a temporary address on ${host.name}`, async () => {
      return (await hostAddresses6(host.ns)).find((a) => a.temporary && !a.deprecated)?.address;
    }, STEP_TIMEOUT_MS);
  }

  settle(): Promise<OracleCounts> {
    return settleOracle(() => this.oracle());
  }

  settleReading<T>(read: () => Promise<T>): Promise<T> {
    return settleOracle(read);
  }

  // --- faults ---------------------------------------------------------------------------------------

  async reboot(options: { downMs?: number } = {}): Promise<void> {
    this.assertRunning();
    await this.processes.killAllButKeeper();
    await rebootFirewall(this.firewall);
    await this.startFastPath();
    await ip(['-n', this.routerNs, 'neigh', 'flush', 'dev', 'br0']);
    if (this.ipv6) await ip(['-n', this.routerNs, '-6', 'neigh', 'flush', 'dev', 'br0']);
    if (options.downMs) await sleep(options.downMs);
    await this.processes.startTelnet();
    await this.processes.startDaemon('dropbear');
    await this.refreshArp();
  }

  async killTelnetd(options: { downMs?: number } = {}): Promise<void> {
    this.assertRunning();
    await this.processes.killDaemon('relay');
    await this.processes.killDaemon('telnetd');
    // inetd forks one telnetd per session (BusyBox telnetd serves them all): end those too.
    if (this.profile.telnetd === 'inetutils') await this.processes.killRouterProcesses('telnetd');
    if (options.downMs) await sleep(options.downMs);
    await this.processes.startTelnet();
  }

  async killSshd(options: { downMs?: number } = {}): Promise<void> {
    this.assertRunning();
    await this.processes.killDaemon('dropbear');
    // dropbear forks one process per session; a dead listener leaves them, so end them too.
    await this.processes.killRouterProcesses('dropbear');
    if (options.downMs) await sleep(options.downMs);
    await this.processes.startDaemon('dropbear');
  }

  async flapWan(ms: number): Promise<void> {
    this.assertRunning();
    await ip(['-n', this.routerNs, 'link', 'set', 'ppp0', 'down']);
    await sleep(ms);
    await ip(['-n', this.routerNs, 'link', 'set', 'ppp0', 'up']);
    // Link down removed the default route, as a PPP drop does; the "redial" brings it back.
    await ip(['-n', this.routerNs, 'route', 'replace', 'default', 'via', ISP_IP, 'dev', 'ppp0']);
    if (this.ipv6) await ip(['-n', this.routerNs, '-6', 'route', 'replace', 'default', 'via', ISP_IP6, 'dev', 'ppp0']);
  }

  async flapLan(ms: number): Promise<void> {
    this.assertRunning();
    await ip(['-n', this.routerNs, 'link', 'set', 'con0', 'down']);
    await sleep(ms);
    await ip(['-n', this.routerNs, 'link', 'set', 'con0', 'up']);
    // A bridge port coming up passes traffic at once only with STP off (the default); wait for it.
    await waitFor('console link up', async () => {
      const out = await runOk(['ip', '-o', 'link', 'show', this.console.iface]);
      return out.includes('LOWER_UP') ? true : undefined;
    }, STEP_TIMEOUT_MS);
  }

  // --- leases and hostile names -------------------------------------------------------------------

  async setLeases(leases: readonly LabLease[]): Promise<void> {
    writeLeaseFiles(this.dir, this.profile, leases);
    this.leases = leases.map((lease) => ({ ...lease }));
    for (const host of this.hosts) {
      const lease = leases.find((l) => l.mac === host.mac);
      const bytes = lease ? (typeof lease.hostname === 'string' ? Buffer.from(lease.hostname, 'utf8') : Buffer.from(lease.hostname)) : Buffer.alloc(0);
      host.hostnameBytes = bytes;
      host.hostname = bytes.toString('utf8');
    }
  }

  hostileHostnames(): Array<string | Buffer> {
    return hostileHostnames(this.markerName);
  }

  markerExists(): boolean {
    return existsSync(join(this.dir, 'tmp', this.markerName)) || existsSync(join('/tmp', this.markerName));
  }

  async refreshArp(): Promise<void> {
    this.assertRunning();
    await pingNeighbours(this.routerNs, this.hosts);
  }

  iptablesSave(options: { counters?: boolean; raw?: boolean } = {}): Promise<string> {
    this.assertRunning();
    return iptablesSave(this.firewall, 4, options);
  }

  ip6tablesSave(options: { counters?: boolean; raw?: boolean } = {}): Promise<string> {
    this.assertRunning();
    return iptablesSave(this.firewall, 6, options);
  }

  nftRuleset(options: { raw?: boolean } = {}): Promise<string> {
    this.assertRunning();
    return nftRuleset(this.firewall, options);
  }

  fw4(command: Fw4Command): Promise<string> {
    this.assertRunning();
    return fw4(this.firewall, command);
  }

  // --- offload readings -----------------------------------------------------------------------------

  async wanCounters(): Promise<InterfaceCounters> {
    this.assertRunning();
    return readInterfaceCounters(this.routerNs, 'ppp0');
  }

  async hostLinkCounters(ref: HostRef): Promise<InterfaceCounters> {
    this.assertRunning();
    return readInterfaceCounters(this.host(ref).ns, 'eth0');
  }

  async conntrack(): Promise<ConntrackEntry[]> {
    this.assertRunning();
    return readConntrack(this.routerNs);
  }

  async routerSysctl(name: string): Promise<string> {
    this.assertRunning();
    return readRouterSysctl(this.routerNs, name);
  }

  async fastPathIdle(): Promise<{ offloaded: number; failures: string[] }> {
    this.assertRunning();
    await this.watcher?.idle();
    return { offloaded: this.watcher?.offloaded ?? 0, failures: [...(this.watcher?.failures ?? [])] };
  }

  diagnostics(): string {
    return [this.processes.diagnostics(), this.watcher?.diagnostics() ?? ''].filter(Boolean).join('\n');
  }

  // --- teardown -----------------------------------------------------------------------------------

  async stop(): Promise<void> {
    this.destroySync();
  }

  destroySync(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.traffic.killAll();
    this.watcher?.stop();
    this.processes.killAllSync();
    destroyLabByPrefixSync(this.prefix);
    unregisterLab(this);
  }
}
