// Section 6's floor behind BusyBox ash (issue 21: the tree's set-up there is ~3× the router's own
// iptables-restore + one round trip, against a target of 2×). That ash answers every line one
// round trip late whatever its length, so a set-up sent as N lines costs at least the router's
// restore + N round trips; N is fixed by how small lantop's planner folds the script and by the
// line the shell keeps. Both come from lantop's own planner (pure, no lab) and section 6's
// measured restore and round trip, so the figures below stay those of the last setup run.
import { planRestoreDelivery } from '../src/router/backends/iptables/apply/restore.js';
import { planSetup } from '../src/router/backends/iptables/plan.js';
import type { RuleLayout } from '../src/router/backends/iptables/layouts.js';
import { parseIptablesListing } from '../src/router/parsers/iptables-listing.js';

// The lab's boot firewall as lantop lists it (chains empty): the planner's input.
const BOOT_LISTING = ['INPUT', 'FORWARD', 'OUTPUT'].map((c) => `Chain ${c} (policy ACCEPT 0 packets, 0 bytes)\nnum      pkts      bytes target     prot opt in     out     source               destination\n`).join('\n');

/** The layout's restore script as lantop folds it: one line's bytes, lines at `maxLineBytes`, the longest word list in it. */
export function foldedSetup(layout: RuleLayout, hosts: number, maxLineBytes: number): { singleLineBytes: number; lines: number; lineBytes: number[]; longestListBytes: number } {
  const ips = Array.from({ length: hosts }, (_, i) => `198.51.100.${i + 1}`);
  const commands = planSetup(parseIptablesListing(BOOT_LISTING), ips, { wan: 'ppp0', layout, isTagging: true, isAdopting: false, isPruning: false, iptables: 'iptables' }).commands;
  const at = (bytes: number) => planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes: bytes, nonce: '000000000000' })!.lines;
  const single = at(1_000_000)[0]!;
  const lists = [...single.matchAll(/_A\d+="([^"]*)"/g)].map((m) => m[1]!.length);
  const lines = at(maxLineBytes);
  return { singleLineBytes: single.length, lines: lines.length, lineBytes: lines.map((l) => l.length), longestListBytes: Math.max(0, ...lists) };
}

/* eslint-disable @typescript-eslint/no-explicit-any */
/** A generous size for `i=1;while [ $i -le N ];do echo $((i/16)) $i;i=$((i+1));done` and its use. */
const LOOP_BYTES = 120;
const r2 = (x: number) => Math.round(x * 100) / 100;

/** The paragraph on ash's floor, from results.setup (and the router section's split cost, if there). */
export function renderSetupFloor(st: any, router: any): string {
  const bb = st?.busybox;
  const probed = bb?.apply?.find((v: any) => v.transport === 'telnet' && v.method === 'restore' && v.meetsTarget !== undefined);
  const maxLine = bb?.shell?.lineProbe?.maxLineBytes;
  if (!bb || !probed || !maxLine) return '';
  const layout: RuleLayout = st.layout ?? 'tree';
  const mine = foldedSetup(layout, st.hosts, maxLine);
  const split = foldedSetup('split', st.hosts, maxLine);
  const restoreMs = bb.limit.localRestoreMs.medianMs;
  const rtt = bb.limit.telnetRttMs;
  const floorMs = restoreMs + mine.lines * rtt;
  const minLines = Math.ceil(mine.singleLineBytes / maxLine);
  const withoutList = mine.singleLineBytes - mine.longestListBytes;
  const loopLines = Math.ceil((withoutList + LOOP_BYTES) / maxLine);
  const splitCpu = router?.cpu?.table?.['split/h3'];
  const defCpu = router?.cpu?.table?.[`${layout}/h3`];
  const parts = [
    `**The floor behind BusyBox ash** (bench/setup-floor.ts: lantop's own planner, with this run's restore and round trip). This ash answers each line one round trip (${rtt} ms) late, so a set-up sent as N lines costs at least the router's restore + N round trips.`,
    `lantop folds the ${layout}'s ${st.scriptBytes}-byte script to ${mine.singleLineBytes} bytes of shell (split: ${split.singleLineBytes}); at the ${maxLine} bytes this shell keeps that is ⌈${mine.singleLineBytes}/${maxLine}⌉ = ${minLines} lines, and lantop sends ${mine.lines} (${mine.lineBytes.join(' / ')} bytes): the packing is already the least for this fold.`,
    `Floor for ${mine.lines} lines = ${restoreMs} + ${mine.lines} × ${rtt} = ${r2(floorMs)} ms = ${r2(floorMs / bb.limit.telnetLimitMs)}× the limit; lantop's ${probed.medianMs} ms is ${r2(probed.medianMs / floorMs)}× that floor (planning the lines ${probed.planMedianMs ?? '—'} ms).`,
    `So the miss is the number of lines, and lantop can still move it: ${mine.longestListBytes} of the ${mine.singleLineBytes} bytes are one word list of (group, host) pairs that names every host's sub-chain; without it the line is ${withoutList} bytes, so with ~${LOOP_BYTES} bytes of a shell loop that derives each host's group itself (e.g. \`$((i/16))\` over a host range: small numbers, none of the counter arithmetic principle 10 keeps off the router) it would need ${loopLines} line${loopLines === 1 ? '' : 's'} here, i.e. about ${r2((restoreMs + loopLines * rtt) / bb.limit.telnetLimitMs)}× the limit (a planner change in src/router/backends/iptables/apply/printf-folding.ts, not made here). What cannot move is one round trip per line and the ${maxLine}-byte line.`,
  ];
  if (splitCpu && defCpu) parts.push(`Taking the split instead (${split.lines} line) trades those ${r2((mine.lines - split.lines) * rtt)} ms once per set-up for ${splitCpu.nsPerPacket - defCpu.nsPerPacket} ns on every packet to the LAN's last host (section 2: split ${splitCpu.percentOfNoRules} % vs ${layout} ${defCpu.percentOfNoRules} % of no rules).`);
  return parts.join(' ') + '\n';
}

/** BENCHMARKS.md with the ash floor spliced into section 6, after the BusyBox ash table. */
export function withSetupFloor(markdown: string, st: unknown, router: unknown): string {
  const block = renderSetupFloor(st, router);
  const at = markdown.indexOf("\n**Debian's BusyBox");
  if (!block || at < 0) return markdown;
  const tableEnd = markdown.indexOf('\n\n', markdown.indexOf('\n|', at) + 1);
  return tableEnd < 0 ? markdown : `${markdown.slice(0, tableEnd)}\n\n${block.trimEnd()}${markdown.slice(tableEnd)}`;
}
