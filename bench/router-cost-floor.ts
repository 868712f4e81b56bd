// Section 2's floors (issue 21: a missed target must be "explained by a measured floor that lantop
// cannot move"): the least a rule set that counts per device can cost the lab router per packet,
// measured in the same interleaved rounds as the layouts (router-cost.ts's cpuPerPacket).
//
//   jump        FORWARD → an empty TRAFFIC chain: what any user chain costs
//   one-host    the jump + exactly the two counting rules of the measured host (h3), as the flat
//               layout writes them: the least per-device accounting can cost
//   one-rule    one counting rule for h3 directly in FORWARD, no chain: the floor of counting
//               anything with iptables (not a layout lantop could use)
//   nft-hook    an inet table with an empty forward-hook chain (lantop's priority)
//   nft-counter the same chain holding one `counter`: the floor of counting with nftables
//
// The iptables floors are cut from the dump of lantop's own flat setup (same jump, same rule
// text and position), so they differ from a layout only in the rules they leave out.
import type { Lab } from '../test/lab/lab.js';
import { TRAFFIC_CHAIN } from '../src/router/backends/iptables/layouts.js';
import type { CpuCell, CpuVariant } from './router-cost.js';
import { log } from './util.js';

export interface FloorSet { name: string; label: string; dump?: string; nftScript?: string }

/** The FORWARD rule that jumps to lantop's TRAFFIC chain (not to TRAFFIC_DOWN etc.). */
const isTrafficJump = (line: string) => line.startsWith('-A FORWARD ') && new RegExp(`-j ${TRAFFIC_CHAIN}(\\s|$)`).test(line);
const isTrafficLine = (line: string) => line.startsWith(`-A ${TRAFFIC_CHAIN} `) || line.startsWith(`:${TRAFFIC_CHAIN} `);
const mentions = (line: string, flag: '-d' | '-s', ip: string) => line.includes(` ${flag} ${ip}/32 `) || line.endsWith(` ${flag} ${ip}/32`);

/** The three iptables floors, from the flat layout's `iptables-save -t filter` dump. */
export function iptablesFloors(flatDump: string, hostIp: string): FloorSet[] {
  const lines = flatDump.split('\n');
  if (!lines.some(isTrafficJump)) throw new Error(`router floors: no FORWARD jump to ${TRAFFIC_CHAIN} in the flat dump`);
  const down = lines.find((l) => l.startsWith(`-A ${TRAFFIC_CHAIN} `) && mentions(l, '-d', hostIp));
  const up = lines.find((l) => l.startsWith(`-A ${TRAFFIC_CHAIN} `) && mentions(l, '-s', hostIp));
  if (!down || !up) throw new Error(`router floors: the flat dump has no counting rules for ${hostIp}`);
  const keep = (extra: ReadonlySet<string>) => lines.filter((l) => !l.startsWith(`-A ${TRAFFIC_CHAIN} `) || extra.has(l)).join('\n');
  const noChain = lines.filter((l) => !isTrafficLine(l)).map((l) => (isTrafficJump(l) ? down.replace(`-A ${TRAFFIC_CHAIN} `, '-A FORWARD ') : l)).join('\n');
  return [
    { name: 'floor-jump', label: `jump only (FORWARD → empty ${TRAFFIC_CHAIN})`, dump: keep(new Set()) },
    { name: 'floor-one-host', label: `one host (jump + h3's two rules: \`${down.slice(3)}\`, \`${up.slice(3)}\`)`, dump: keep(new Set([down, up])) },
    { name: 'floor-one-rule', label: `one rule, no jump (h3's download rule in FORWARD: \`${down.replace(`-A ${TRAFFIC_CHAIN} `, 'FORWARD ')}\`)`, dump: noChain },
  ];
}

const NFT_RESET = 'add table inet lantop\ndelete table inet lantop\n';
/** lantop's table name, so the iptables variants' `withoutNftTable` removes these too. */
export const NFT_FLOORS: FloorSet[] = [
  { name: 'nft-floor-hook', label: 'nft: inet table, forward-hook chain (priority filter + 10), no rule', nftScript: `${NFT_RESET}table inet lantop {\n\tchain forward {\n\t\ttype filter hook forward priority filter + 10; policy accept;\n\t}\n}\n` },
  { name: 'nft-floor-counter', label: 'nft: the same chain holding one `counter`', nftScript: `${NFT_RESET}table inet lantop {\n\tchain forward {\n\t\ttype filter hook forward priority filter + 10; policy accept;\n\t\tcounter\n\t}\n}\n` },
];

/** Bytes of the first rule in `iptables-save -c` text that mentions the host in that direction. */
function savedBytes(saved: string, flag: '-d' | '-s', ip: string): number {
  for (const line of saved.split('\n')) {
    const m = /^\[(\d+):(\d+)\] (-A \S+ .*)$/.exec(line);
    if (m && !m[3]!.includes(' -j ') && mentions(m[3]!, flag, ip)) return Number(m[2]);
  }
  return NaN;
}

/**
 * Loads each iptables floor, moves traffic to and from h3 and compares what its rules counted
 * with the oracle: the floors must count what a layout counts, or they would be cheaper for
 * the wrong reason (a rule that never matches).
 */
export async function checkFloorCounts(lab: Lab, floors: FloorSet[], load: (f: FloorSet) => Promise<void>, hostIp: string): Promise<Record<string, { down: [number, number]; up?: [number, number]; same: boolean }>> {
  const out: Record<string, { down: [number, number]; up?: [number, number]; same: boolean }> = {};
  for (const f of floors.filter((x) => x.dump && x.name !== 'floor-jump')) {
    await load(f); // iptables-restore without -c: counters start at zero
    const before = (await lab.settle())[hostIp]!;
    await lab.transfer('h3', { downBytes: 1_000_000, upBytes: 300_000 });
    const after = (await lab.settle())[hostIp]!;
    const saved = await lab.exec(['iptables-save', '-c', '-t', 'filter']);
    if (saved.code !== 0) throw new Error(`iptables-save -c: ${saved.stderr}`);
    const down: [number, number] = [savedBytes(saved.stdout, '-d', hostIp), after.downBytes - before.downBytes];
    const up: [number, number] = [savedBytes(saved.stdout, '-s', hostIp), after.upBytes - before.upBytes];
    const hasUp = f.name === 'floor-one-host';
    out[f.name] = { down, ...(hasUp ? { up } : {}), same: down[0] === down[1] && (!hasUp || up[0] === up[1]) };
    log(`router: ${f.name}: h3 counted ↓${down[0]}/${down[1]}${hasUp ? ` ↑${up[0]}/${up[1]}` : ''} (rule/oracle)`);
  }
  return out;
}

/** The floors as cpuPerPacket variants; `restoreFilter` and `nftScript` put a rule set in place. */
export function floorVariants(floors: FloorSet[], loadDump: (dump: string) => Promise<void>, loadNft: (script: string) => Promise<void>): CpuVariant[] {
  return floors.map((f) => [f.name, () => (f.dump !== undefined ? loadDump(f.dump) : loadNft(f.nftScript!))]);
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Section 2's floor table and what it means for the target, from results.lab.router. */
export function renderRouterFloors(t: any): string {
  const floors: Array<{ name: string; label: string }> | undefined = t?.floors?.sets;
  const table: Record<string, CpuCell> | undefined = t?.cpu?.table;
  if (!floors || !table || !table['none/h3']) return '';
  const none = table['none/h3'];
  const def = t.defaultLayout ?? 'tree';
  const target = t.targetPercent ?? 97;
  const rows = [...floors.map((f) => [f.name, f.label]), [def, `${def} (lantop's default layout), ${t.layouts?.[def]?.ruleCount ?? '?'} rules`], ['nft-dynamic-sets', 'nft dynamic-sets (lantop\'s nft default)']].filter(([n]) => table[`${n}/h3`]);
  const added = (n: string) => signed(table[`${n}/h3`]!.nsPerPacket - none.nsPerPacket);
  const out: string[] = [];
  const checks = Object.entries(t.floors.counts ?? {}).map(([n, c]: [string, any]) => `${n} ↓${c.down[0]}/${c.down[1]}${c.up ? ` ↑${c.up[0]}/${c.up[1]}` : ''} ${c.same ? 'identical' : 'DIFFERENT'}`).join(', ');
  out.push(`**Floors** (bench/router-cost-floor.ts; h3, CPU per packet in the same rounds and samples as the layouts above; the iptables floors are cut from the dump of lantop's own flat setup, so the jump and rule text are lantop's). Bytes the floor rules counted for h3 vs the oracle (rule/oracle): ${checks || '—'}.`, '');
  out.push(['| rule set | h3 ns/packet | added to no rules | % of no rules (median; each round) |', '|---|---|---|---|',
    ...rows.map(([n, label]) => {
      const c = table[`${n}/h3`]!;
      return `| ${label} | ${c.nsPerPacket} | ${added(n!)} ns | ${c.percentOfNoRules}% (${c.perRound.join(', ')}) |`;
    })].join('\n'), '');
  const b = table['floor-one-host/h3'];
  const tree = table[`${def}/h3`];
  const nftFloor = table['nft-floor-counter/h3'];
  const nftDef = table['nft-dynamic-sets/h3'];
  if (b && tree) {
    const budget = Math.round(none.nsPerPacket * (100 / target - 1));
    const lines: string[] = [];
    lines.push(`**What the floor means for the ≥ ${target} % target.** ${target} % of no rules allows ${budget} ns per packet on top of no rules (${none.nsPerPacket} ns in this run): a share, so its budget in ns grows and shrinks with what a packet costs without rules on the machine of the day; the added ns below are what a rule set itself costs.`);
    if (b.percentOfNoRules < target) {
      lines.push(`Per-device accounting's least cost — the jump and one host's two rules, nothing else — is already ${b.percentOfNoRules} % (${added('floor-one-host')} ns): **no per-device iptables layout can meet ${target} % on this kernel and machine**, whatever its shape.`);
    } else {
      lines.push(`Per-device accounting's least cost — the jump and one host's two rules — keeps ${b.percentOfNoRules} % (${added('floor-one-host')} ns), so the target is reachable in principle.`);
    }
    const gapNs = tree.nsPerPacket - b.nsPerPacket;
    lines.push(`The default ${def} keeps ${tree.percentOfNoRules} % (${added(def)} ns); what a cheaper layout could still win over it is the gap to that floor: ${round1(b.percentOfNoRules - tree.percentOfNoRules)} points (${gapNs} ns per packet, the ${def}'s ${t.layouts?.[def]?.walks?.h3 ?? '?'} rules walked in lantop's chains against the floor's 2).`);
    const a = table['floor-jump/h3'];
    const c = table['floor-one-rule/h3'];
    if (a && c) lines.push(`Of the floor, the jump to an empty user chain alone costs ${added('floor-jump')} ns (${a.percentOfNoRules} %), and a single counting rule in FORWARD without any chain ${added('floor-one-rule')} ns (${c.percentOfNoRules} %): the absolute floor of counting with iptables here.`);
    if (nftFloor && nftDef) lines.push(`With nftables, a forward-hook chain holding one \`counter\` is ${nftFloor.percentOfNoRules} % (${added('nft-floor-counter')} ns${table['nft-floor-hook/h3'] ? `; the empty hooked chain ${table['nft-floor-hook/h3']!.percentOfNoRules} %` : ''}), against ${nftDef.percentOfNoRules} % for lantop's dynamic-sets (${added('nft-dynamic-sets')} ns).`);
    out.push(lines.join(' '), '');
  }
  return out.join('\n');
}

const round1 = (x: number) => Math.round(x * 10) / 10;
const signed = (ns: number) => (ns < 0 ? `−${-ns}` : `+${ns}`);

/** BENCHMARKS.md with the floor block spliced into section 2, before its throughput part. */
export function withRouterFloors(markdown: string, router: unknown): string {
  const block = renderRouterFloors(router);
  if (!block) return markdown;
  const at = markdown.indexOf('\n**TCP throughput**');
  const end = at >= 0 ? at : markdown.indexOf('\n## 3.');
  return end < 0 ? markdown : `${markdown.slice(0, end)}\n${block}${markdown.slice(end)}`;
}
