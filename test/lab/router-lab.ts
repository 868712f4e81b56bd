// One lab: the router, its hosts and the ISP, put together from the parts beside this file
// (topology, router files and processes, traffic and oracle) and torn down as one. Public face:
// startLab() and the Lab interface in lab.ts.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONSOLE_IP, CONSOLE_MAC, ISP_IP, MAX_HOSTS, ROUTER_LAN_IP, bootRuleset, defaultHostname, hostIp, hostMac,
  ORACLE_TABLE, hostileHostnames, labNames, normalizeIptablesSave, oracleRuleset,
  type IptablesBackend, type LabLease, type LabNames, type OracleCounts,
} from './lab-model.js';
import { acquireConsoleLock, allocatePrefix, destroyLabByPrefixSync, registerLab, unregisterLab } from './lab-registry.js';
import { writeLeaseFiles, writeRouterFiles } from './lab-router-files.js';
import { RouterProcesses } from './lab-router-processes.js';
import { BACKEND_BINARIES, SSH_PORT, STATE_ROOT, STEP_TIMEOUT_MS, TELNET_PORT } from './lab-settings.js';
import { buildTopology, ip } from './lab-topology.js';
import { readOracle, resetOracle, settleOracle, TrafficAgents } from './lab-traffic.js';
import { cliDialogue, resolveProfile, type CliDialogue, type LabVariantName, type RouterProfile } from './lab-variants.js';
import type { HostRef, Lab, LabHost, LabOptions, TransferResult } from './lab.js';
import { LabError, run, runOk, sleep, waitFor, type ExecResult } from './run-command.js';

export class RouterLab implements Lab {
  readonly prefix: string;
  readonly backend: IptablesBackend;
  readonly routerIp = ROUTER_LAN_IP;
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
  hosts: LabHost[];
  leases: LabLease[] = [];

  private readonly names: LabNames;
  private readonly dir: string;
  private readonly banner: string;
  private readonly shell: 'plain' | 'busybox';
  private readonly processes: RouterProcesses;
  private readonly traffic: TrafficAgents;
  private destroyed = false;

  constructor(options: LabOptions) {
    const hostCount = options.hosts ?? 3;
    if (!Number.isInteger(hostCount) || hostCount < 1 || hostCount > MAX_HOSTS) throw new LabError(`lab: hosts must be 1..${MAX_HOSTS}`);
    this.backend = options.backend ?? 'legacy';
    if (!(this.backend in BACKEND_BINARIES)) throw new LabError(`lab: unknown backend ${String(this.backend)}`);
    this.user = options.user ?? 'admin';
    this.password = options.password ?? 'admin';
    if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(this.user)) throw new LabError('lab: user must be a plain login name');
    if (/[\0\n\r]/.test(this.password) || this.password.length === 0) throw new LabError('lab: password must be non-empty, without NUL/CR/LF');
    this.banner = options.banner ?? 'BCM96358 Broadband Router';
    this.shell = options.shell ?? 'plain';
    this.variant = options.variant ?? 'cms';
    this.profile = resolveProfile(this.variant, options.profile ?? {});
    this.dialogue = cliDialogue(this.profile);
    this.prefix = allocatePrefix();
    this.names = labNames(this.prefix);
    this.routerNs = this.names.routerNs;
    this.ispNs = this.names.ispNs;
    this.console = { ip: CONSOLE_IP, mac: CONSOLE_MAC, iface: this.names.consoleIf };
    this.markerName = `pwned-${this.prefix}`;
    this.dir = join(STATE_ROOT, this.prefix);
    this.hosts = Array.from({ length: hostCount }, (_, i) => {
      const index = i + 1;
      const name = options.hostnames?.[i] ?? defaultHostname(index);
      const bytes = typeof name === 'string' ? Buffer.from(name, 'utf8') : Buffer.from(name);
      return { index, name: `h${index}`, ns: this.names.hostNs(index), ip: hostIp(index), mac: hostMac(index), hostname: bytes.toString('utf8'), hostnameBytes: bytes };
    });
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
    await buildTopology(this.names, this.hosts);
    await this.processes.startKeeper();
    await this.execOk(['iptables-restore'], bootRuleset());
    await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', '-f', '-'], { input: oracleRuleset(this.hosts.map((h) => h.ip)), timeoutMs: STEP_TIMEOUT_MS });
    await this.processes.startTelnet();
    await this.processes.startDaemon('dropbear');
    await this.refreshArp();
  }

  // --- running things -------------------------------------------------------------------------

  exec(argv: readonly string[], options: { timeoutMs?: number; input?: string } = {}): Promise<ExecResult> {
    this.assertRunning();
    return this.processes.exec(argv, options);
  }

  private async execOk(argv: readonly string[], input?: string): Promise<string> {
    const result = await this.exec(argv, input !== undefined ? { input } : {});
    if (result.code !== 0) throw new LabError(`lab: router command failed (exit ${result.code}): ${argv.join(' ')}\n${result.stderr}`);
    return result.stdout;
  }

  hostExec(host: HostRef, argv: readonly string[], options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    this.assertRunning();
    return run(['ip', 'netns', 'exec', this.host(host).ns, ...argv], { timeoutMs: options.timeoutMs ?? STEP_TIMEOUT_MS });
  }

  private host(ref: HostRef): LabHost {
    const found = typeof ref === 'number' ? this.hosts[ref - 1]
      : typeof ref === 'string' ? this.hosts.find((h) => h.name === ref || h.ip === ref || h.ns === ref)
        : this.hosts.find((h) => h.ns === ref.ns);
    if (!found) throw new LabError(`lab: no host ${typeof ref === 'object' ? ref.name : String(ref)}`);
    return found;
  }

  private assertRunning(): void {
    if (this.destroyed) throw new LabError('lab: already stopped');
  }

  // --- traffic and the oracle ---------------------------------------------------------------------

  async transfer(ref: HostRef, amounts: { downBytes: number; upBytes: number; timeoutMs?: number }): Promise<TransferResult> {
    this.assertRunning();
    const host = this.host(ref);
    const started = Date.now();
    const moved = await this.traffic.transfer(host, amounts);
    await this.settle();
    return { host: host.name, downBytes: moved.downBytes, upBytes: moved.upBytes, ms: Date.now() - started };
  }

  async oracle(): Promise<OracleCounts> {
    this.assertRunning();
    return readOracle(this.routerNs, this.hosts.map((h) => h.ip));
  }

  async resetOracle(): Promise<void> {
    await resetOracle(this.routerNs);
  }

  settle(): Promise<OracleCounts> {
    return settleOracle(() => this.oracle());
  }

  // --- faults ---------------------------------------------------------------------------------------

  async reboot(options: { downMs?: number } = {}): Promise<void> {
    this.assertRunning();
    await this.processes.killAllButKeeper();
    await this.resetFirewall();
    await ip(['-n', this.routerNs, 'neigh', 'flush', 'dev', 'br0']);
    if (options.downMs) await sleep(options.downMs);
    await this.processes.startTelnet();
    await this.processes.startDaemon('dropbear');
    await this.refreshArp();
  }

  /** All iptables state replaced by the boot firewall: chains, rules, counters; other nft tables gone. */
  private async resetFirewall(): Promise<void> {
    const tables = JSON.parse(await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', '-j', 'list', 'tables'])) as {
      nftables?: Array<{ table?: { family: string; name: string } }>;
    };
    for (const item of tables.nftables ?? []) {
      const table = item.table;
      if (!table || (table.family === 'inet' && table.name === ORACLE_TABLE)) continue;
      await runOk(['ip', 'netns', 'exec', this.routerNs, 'nft', 'delete', 'table', table.family, table.name]);
    }
    let extra: string[] = [];
    if (this.backend === 'legacy') {
      // Legacy tables cannot be deleted, only reset: restore every one that exists in this netns.
      extra = readFileSync(`/proc/${this.processes.pid}/net/ip_tables_names`, 'utf8').split('\n').filter(Boolean);
    }
    await this.execOk(['iptables-restore'], bootRuleset(extra));
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
    const pings = this.hosts.map((host) => runOk(['ip', 'netns', 'exec', host.ns, 'busybox', 'ping', '-c', '1', '-W', '2', ROUTER_LAN_IP]));
    pings.push(runOk(['ip', 'netns', 'exec', this.routerNs, 'busybox', 'ping', '-c', '1', '-W', '2', CONSOLE_IP]));
    await Promise.all(pings);
  }

  async iptablesSave(options: { counters?: boolean; raw?: boolean } = {}): Promise<string> {
    const text = await this.execOk(['iptables-save', ...(options.counters ? ['-c'] : [])]);
    return options.raw || options.counters ? text : normalizeIptablesSave(text);
  }

  diagnostics(): string {
    return this.processes.diagnostics();
  }

  // --- teardown -----------------------------------------------------------------------------------

  async stop(): Promise<void> {
    this.destroySync();
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
