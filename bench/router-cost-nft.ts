// Section 2, nftables (issue 15): what lantop's own `table inet lantop` costs the lab router per
// forwarded packet in each layout (dynamic-sets, static-sets, rules), by the same method as the
// iptables layouts (router-cost.ts: CPU time per packet, interleaved with no rules at all). Each
// layout is installed by lantop itself (RouterClient with the nftables backend, over telnet), its
// counts checked against the oracle, and its table saved as `nft list table inet lantop` text; a
// variant is loaded by deleting and re-creating the table from that text in one `nft -f`.
//
// The lab router's own firewall stays iptables (the `none` dump, restored before every variant),
// so the figures are lantop's table alone. The dynamic sets hold an element (with its counter) for
// every LAN host, as after a day of traffic: the same 253 entries the other layouts carry.
import type { Lab } from '../test/lab/lab.js';
import { openRouter } from '../src/app/open-router.js';
import { resolveSettings } from '../src/config/resolve.js';
import { RouterClient } from '../src/router/router-client.js';
import { NFT_LAYOUTS, type NftLayout } from '../src/router/backends/nftables/layouts.js';
import { log, withTimeout } from './util.js';

/** How a variant is put in place (router-cost.ts's CpuVariant). */
type Variant = [name: string, load: () => Promise<void>];

export interface InstalledNftLayout {
  hostCount: number;
  /** Host elements (set layouts) or host rules (rules layout) in the table. */
  entries: number;
  /** Rules a download to the last host walks in lantop's table (forward's, then dl's). */
  lastHostWalk: number;
  counts: { isIdentical: boolean; hosts: Record<string, unknown> };
}

const lastOctet = (ip: string): number => Number(ip.split('.')[3]);

export async function nftScript(lab: Lab, script: string): Promise<void> {
  const r = await lab.exec(['nft', '-f', '-'], { input: script, timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`nft -f: ${r.stderr}${r.stdout}`);
}

/** No lantop table (an `add` first, so the delete never fails). */
export function withoutNftTable(lab: Lab): Promise<void> {
  return nftScript(lab, 'add table inet lantop\ndelete table inet lantop\n');
}

async function client(lab: Lab, layout: NftLayout): Promise<{ client: RouterClient; close: () => Promise<void> }> {
  const settings = resolveSettings({ host: lab.routerIp, port: lab.telnetPort, protocol: 'telnet', user: lab.user }, {}, undefined, 'bench');
  const router = await withTimeout(openRouter({ settings, password: lab.password, isManaged: true }), 30_000, 'open telnet');
  const { firmware } = router.client;
  // The lab router's shell has nft (this machine's); a profile that did not probe it gets it named.
  const nft = firmware.commands.nft ?? { command: 'nft', where: 'shell' as const };
  const c = new RouterClient(router.session, { ...firmware, commands: { ...firmware.commands, nft } }, { wan: router.client.wan, isManaged: true, backend: 'nftables', nftLayout: layout });
  return { client: c, close: () => router.session.close() };
}

/**
 * Installs the layout with lantop in two steps, the way DHCP churn orders hosts (as
 * router-cost.ts's installLayout): h1 and .13–.254 first, then the rest by `setup`, so h3 is the
 * last host rule of the rules layout. Then checks the counts against the oracle.
 */
async function installNftLayout(lab: Lab, layout: NftLayout): Promise<{ installed: InstalledNftLayout; listing: string }> {
  const { client: c, close } = await client(lab, layout);
  try {
    const teardown = await c.apply(await c.planTeardown());
    if (teardown.failed) throw new Error(`nft teardown failed: ${teardown.failed.command}`);
    await lab.refreshArp();
    const hosts = await c.listHosts();
    const [h1] = lab.hosts;
    const early = hosts.map((h) => h.ip).filter((ip) => ip === h1!.ip || lastOctet(ip) >= 13);
    const first = await c.apply(c.backend.planInstall(await c.readTraffic(), early, { isAdopting: false, isPruning: false }).commands);
    if (first.failed) throw new Error(`nft setup (step 1) failed: ${first.failed.command}: ${first.failed.output}`);
    const outcome = await c.setup();
    if (outcome.failed || !outcome.isVerified) throw new Error(`nft setup failed or not verified: ${outcome.failed?.command ?? ''} ${outcome.failed?.output ?? ''}`);
    if (layout === 'dynamic-sets') {
      // Every host's element, as the sets hold them after a day of traffic.
      const lines = hosts.flatMap((h) => [`add element inet lantop dl4 { ${h.ip} counter timeout 7d }`, `add element inet lantop ul4 { ${h.ip} counter timeout 7d }`]);
      await nftScript(lab, lines.join('\n') + '\n');
    }
    const counts = await checkCounts(lab, c);
    const listed = await lab.exec(['nft', 'list', 'table', 'inet', 'lantop']);
    if (listed.code !== 0) throw new Error(`nft list: ${listed.stderr}`);
    const entries = layout === 'rules' ? (listed.stdout.match(/ counter packets \d+ bytes \d+ return comment "lantop"/g) ?? []).length : (listed.stdout.match(/ counter packets \d+ bytes \d+/g) ?? []).length;
    const downRules = (listed.stdout.match(/ip daddr \S+ counter packets \d+ bytes \d+ return/g) ?? []).length;
    // forward: the dl jump (rules) or the dl4 rule (sets) is reached after 0–1 other rules; dl walks every host rule.
    const lastHostWalk = layout === 'rules' ? 1 + downRules : 4;
    return { installed: { hostCount: hosts.length, entries, lastHostWalk, counts }, listing: listed.stdout };
  } finally {
    await close();
  }
}

async function checkCounts(lab: Lab, c: RouterClient): Promise<InstalledNftLayout['counts']> {
  // A dynamic-set element exists only after its address's first packet: absent before means 0.
  return countsAgainstOracle(lab, () => c.readTraffic().then((r) => r.counters), 0);
}

type Counters = Map<string, { downBytes: number; upBytes: number }>;

/**
 * Moves traffic through the router (h1 and h3) and compares lantop's per-host deltas with the
 * oracle's. `absentBefore`: what a counter missing from the first read counts as (NaN: a failure).
 */
export async function countsAgainstOracle(lab: Lab, read: () => Promise<Counters>, absentBefore: number): Promise<{ isIdentical: boolean; hosts: Record<string, unknown> }> {
  const before = await read();
  const oracleBefore = await lab.settle();
  await lab.transfer('h1', { downBytes: 3_000_000, upBytes: 400_000 });
  await lab.transfer('h3', { downBytes: 2_000_000, upBytes: 700_000 });
  const oracleAfter = await lab.settle();
  const after = await read();
  let isIdentical = true;
  const hosts: Record<string, unknown> = {};
  for (const h of lab.hosts) {
    const lantopDown = (after.get(h.ip)?.downBytes ?? NaN) - (before.get(h.ip)?.downBytes ?? absentBefore);
    const lantopUp = (after.get(h.ip)?.upBytes ?? NaN) - (before.get(h.ip)?.upBytes ?? absentBefore);
    const oracleDown = oracleAfter[h.ip]!.downBytes - oracleBefore[h.ip]!.downBytes;
    const oracleUp = oracleAfter[h.ip]!.upBytes - oracleBefore[h.ip]!.upBytes;
    const same = lantopDown === oracleDown && lantopUp === oracleUp;
    if (!same) isIdentical = false;
    hosts[h.name] = { lantopDown, oracleDown, lantopUp, oracleUp, same };
  }
  return { isIdentical, hosts };
}

/**
 * Every nft layout installed by lantop and checked; the variants that load each one (over the
 * `none` iptables dump, restored by `restoreNone`). The table is removed again at the end.
 */
export async function installNftLayouts(lab: Lab, restoreNone: () => Promise<void>): Promise<{ layouts: Record<string, InstalledNftLayout>; variants: Variant[] }> {
  const layouts: Record<string, InstalledNftLayout> = {};
  const variants: Variant[] = [];
  await restoreNone();
  for (const layout of NFT_LAYOUTS) {
    log(`router: installing the nft ${layout} layout with lantop`);
    const { installed, listing } = await installNftLayout(lab, layout);
    layouts[layout] = installed;
    const script = `add table inet lantop\ndelete table inet lantop\n${listing}`;
    variants.push([`nft-${layout}`, () => restoreNone().then(() => nftScript(lab, script))]);
    log(`router: nft ${layout}: ${installed.entries} entries, last host walks ${installed.lastHostWalk} rules, counts ${installed.counts.isIdentical ? 'identical' : 'DIFFER'}`);
  }
  await withoutNftTable(lab);
  return { layouts, variants };
}
