// Sections 1 (refresh latency) and 2 (router cost) on the netns lab router: 253 LAN hosts (every
// address of 198.51.100.0/24 but the router's own .1: three namespaces, the console, and permanent
// ARP entries), lantop's rules installed by lantop itself.
import { startLab, type Lab } from '../test/lab/lab.js';
import { refreshBench } from './refresh-bench.js';
import { installLayout, runRouterCost, saveFilter } from './router-cost.js';
import { log } from './util.js';

export interface LabBenchOptions {
  backend: 'legacy' | 'nft';
  /** Section 1 (refresh-bench.ts) and section 2 (forwarding cost); `--only refresh` skips the transfers. */
  doRefresh: boolean;
  doRouter: boolean;
  pollRuns: number;
  seedRuns: number;
  firstPollRuns: number;
  transferBytes: number;
  rounds: number;
  doSsh: boolean;
  /** Bytes per transfer with GSO limited to one segment (per-packet forwarding, like a router without offloads). */
  perPacketBytes: number;
}

export interface LabBenchResult {
  backend: string;
  hosts: number;
  rulesFlat: number;
  refresh?: Record<string, unknown>;
  router?: Record<string, unknown>;
}

async function addArpEntries(lab: Lab, skip: ReadonlySet<string>): Promise<number> {
  const lines: string[] = [];
  for (let x = 2; x <= 253; x++) {
    const ip = `198.51.100.${x}`;
    if (skip.has(ip)) continue;
    lines.push(`neigh replace ${ip} lladdr 02:be:00:00:00:${x.toString(16).padStart(2, '0')} dev br0 nud permanent`);
  }
  const result = await lab.exec(['ip', '-batch', '-'], { input: lines.join('\n') + '\n', timeoutMs: 20_000 });
  if (result.code !== 0) throw new Error(`ip neigh batch failed: ${result.stderr}`);
  return lines.length;
}

export async function runLabBench(options: LabBenchOptions): Promise<LabBenchResult> {
  log(`lab: starting (${options.backend}); waits for the lab lock if another lab runs`);
  const lab = await startLab({ hosts: 3, backend: options.backend });
  try {
    const extra = await addArpEntries(lab, new Set(lab.hosts.map((h) => h.ip)));
    log(`lab: ${extra} extra ARP entries; installing the flat layout with lantop`);
    const noneDump = await saveFilter(lab);
    const flat = await installLayout(lab, 'flat');
    const refresh = options.doRefresh ? await refreshBench(lab, options) : undefined;
    if (!options.doRouter) return { backend: options.backend, hosts: flat.hostCount, rulesFlat: flat.ruleCount, ...(refresh ? { refresh } : {}) };
    const router = await runRouterCost(lab, { transferBytes: options.transferBytes, perPacketBytes: options.perPacketBytes, rounds: options.rounds }, noneDump);
    return { backend: options.backend, hosts: flat.hostCount, rulesFlat: flat.ruleCount, ...(refresh ? { refresh } : {}), router };
  } finally {
    await lab.stop();
  }
}
