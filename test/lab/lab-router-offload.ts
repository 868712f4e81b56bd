// Software flow offload and conntrack accounting in the lab's router (issue 19), the I/O part: the
// kernel probe, the emulated fast path's conntrack watcher (lab-fastpath.ts says why and how), the
// router's sysctls, and the readings the offload tests assert on (WAN interface counters, conntrack).
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  fastPathAction, flowtableProbe, parseConntrackLine, parseConntrackList, parseProcNetDev,
  type ConntrackEntry, type FastPathKind, type InterfaceCounters,
} from './lab-fastpath.js';
import { FASTPATH_INSERTED_FILE, fcctlScript, firewallConfig } from './lab-offload-standins.js';
import { openwrtFirewallConfigPath } from './lab-router-openwrt.js';
import type { RouterProfile } from './lab-variants.js';
import { STEP_TIMEOUT_MS } from './lab-settings.js';
import { LabError, run, runOk, sleep } from './run-command.js';

/** Whether this kernel has nf_flow_table (fw4 asks the same way, `nft -c` of a flowtable). */
export async function hasKernelFlowtable(routerNs: string): Promise<boolean> {
  const result = await run(['ip', 'netns', 'exec', routerNs, 'nft', '-c', '-f', '-'], { input: flowtableProbe(), timeoutMs: STEP_TIMEOUT_MS });
  return result.code === 0;
}

/**
 * How the router reports its fast path (lab-offload-standins.ts): OpenWrt's /etc/config/firewall
 * gets `option flow_offloading '1'` when offload is on (its uci stand-in reads it); a vendor router
 * gets `fcctl` in its bin/ (first in PATH), `Flow Learning Enabled` while the fast path is on.
 * `fastPath` null = offload off. Written before the router's mount namespace comes up.
 */
export function writeOffloadStandIns(dir: string, profile: RouterProfile, fastPath: FastPathKind | null): void {
  if (profile.firmware === 'openwrt') {
    const path = openwrtFirewallConfigPath(dir);
    writeFileSync(path, firewallConfig(readFileSync(path, 'utf8'), fastPath !== null));
  } else {
    writeFileSync(join(dir, 'bin', 'fcctl'), fcctlScript(fastPath, dir), { mode: 0o755 });
  }
}

/** A sysctl of the router's network namespace (net.netfilter.* are per namespace). */
export async function setRouterSysctl(routerNs: string, name: string, value: string): Promise<void> {
  if (!/^[a-z0-9_.]+$/.test(name) || !/^[0-9]+$/.test(value)) throw new LabError(`lab: bad sysctl ${name}=${value}`);
  await runOk(['ip', 'netns', 'exec', routerNs, 'sysctl', '-q', '-w', `${name}=${value}`]);
}

export async function readRouterSysctl(routerNs: string, name: string): Promise<string> {
  return (await runOk(['ip', 'netns', 'exec', routerNs, 'sysctl', '-n', name])).trim();
}

/** /proc/net/dev of a namespace, one interface. */
export async function readInterfaceCounters(ns: string, iface: string): Promise<InterfaceCounters> {
  const counters = parseProcNetDev(await runOk(['ip', 'netns', 'exec', ns, 'cat', '/proc/net/dev']))[iface];
  if (!counters) throw new LabError(`lab: no ${iface} in /proc/net/dev of ${ns}`);
  return counters;
}

/** The router's conntrack table (`conntrack -L`, IPv4 and IPv6). */
export async function readConntrack(routerNs: string): Promise<ConntrackEntry[]> {
  const lists = await Promise.all(['ipv4', 'ipv6'].map((family) => runOk(['ip', 'netns', 'exec', routerNs, 'conntrack', '-L', '-f', family], { timeoutMs: STEP_TIMEOUT_MS })));
  return lists.flatMap(parseConntrackList);
}

/**
 * The emulated fast path's manager: `conntrack -E` in the router's namespace, each event turned into
 * element changes of the fast-path table (one `nft -f` each, in order). Like a userspace offload
 * manager (Qualcomm's ECM watches conntrack the same way), the first packets of a connection take
 * the normal path until the event arrives: milliseconds, tens of packets on a fast link.
 */
export class FastPathWatcher {
  private child: ChildProcess | null = null;
  private queue: Promise<void> = Promise.resolve();
  private stderrTail = '';
  /** Connections put into the fast path so far (adds that nft accepted). */
  offloaded = 0;
  /** nft refusals (a delete of an element already gone is normal after a reload). */
  failures: string[] = [];

  /** `statsDir`: where the count of connections put on the fast path is kept for the fcctl stand-in. */
  constructor(private readonly routerNs: string, private readonly statsDir: string | null = null) {}

  private writeStats(): void {
    if (this.statsDir) writeFileSync(join(this.statsDir, FASTPATH_INSERTED_FILE), `${this.offloaded}\n`);
  }

  async start(): Promise<void> {
    if (this.child) return;
    this.writeStats();
    const child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', this.routerNs, 'stdbuf', '-oL', 'conntrack', '-E', '-e', 'NEW,UPDATES,DESTROY'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.unref();
    for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
    child.stderr!.on('data', (chunk: Buffer) => { this.stderrTail = (this.stderrTail + chunk.toString()).slice(-1000); });
    child.on('error', () => { this.child = null; });
    // conntrack subscribes to its netlink groups right after it starts; give it that moment.
    await sleep(150);
    if (child.exitCode !== null) throw new LabError(`lab: conntrack -E did not start: ${this.stderrTail}`);
  }

  private onLine(line: string): void {
    const entry = parseConntrackLine(line);
    const action = entry ? fastPathAction(entry) : null;
    if (!action) return;
    this.queue = this.queue.then(async () => {
      const result = await run(['ip', 'netns', 'exec', this.routerNs, 'nft', '-f', '-'], { input: action.nft, timeoutMs: STEP_TIMEOUT_MS });
      if (result.code === 0 && action.op === 'add') {
        this.offloaded++;
        this.writeStats();
      }
      if (result.code !== 0) this.failures.push(`${action.op}: ${result.stderr.trim().split('\n')[0] ?? ''}`);
    }, () => undefined);
  }

  /** Waits until every event seen so far has been applied. */
  async idle(): Promise<void> {
    await this.queue;
  }

  diagnostics(): string {
    return this.stderrTail ? `conntrack -E: ${this.stderrTail}` : '';
  }

  stop(): void {
    this.child?.kill('SIGKILL');
    this.child = null;
  }
}
