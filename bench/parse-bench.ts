// Section 3: parsing a TRAFFIC listing of 100 / 1,000 / 10,000 rules (`iptables -L -v -x -n
// --line-numbers` text generated with lantop's own formatter, flat layout, large counters).
import { parseIptablesListing } from '../src/router/parsers/iptables-listing.js';
import { formatIptablesListing } from '../src/router/parsers/format-iptables-listing.js';
import { readHostCounters } from '../src/router/backends/iptables/counters.js';
import type { Chain, Rule } from '../src/router/parsers/types.js';
import { loadavg } from 'node:os';
import { median, round } from './util.js';

function rule(num: number, fields: Partial<Rule>): Rule {
  return { num, pkts: 0, bytes: 0, isExact: true, target: null, prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: 'lantop', ...fields };
}

export function listingText(ruleCount: number): string {
  const rules: Rule[] = [];
  for (let i = 0; i < ruleCount; i++) {
    // Addresses cycle through the documentation LAN; parse cost depends on the text, not on uniqueness.
    const ip = `198.51.100.${1 + ((i >> 1) % 254)}`;
    const counters = { pkts: 1_000_003 * (i + 1), bytes: 1_234_567_891 * (i + 1) };
    rules.push(i % 2 === 0 ? rule(i + 1, { ...counters, in: 'ppp0', destination: ip }) : rule(i + 1, { ...counters, out: 'ppp0', source: ip }));
  }
  const chains: Chain[] = [
    { name: 'INPUT', policy: 'ACCEPT', references: null, policyPkts: 0, policyBytes: 0, rules: [] },
    { name: 'FORWARD', policy: 'ACCEPT', references: null, policyPkts: 0, policyBytes: 0, rules: [rule(1, { target: 'TRAFFIC', comment: null, pkts: 99, bytes: 9999 })] },
    { name: 'OUTPUT', policy: 'ACCEPT', references: null, policyPkts: 0, policyBytes: 0, rules: [] },
    { name: 'TRAFFIC', policy: null, references: 1, rules },
  ];
  return formatIptablesListing(chains, { exact: true, lineNumbers: true, verbose: true });
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** Wall and CPU time of `reps` calls of fn, per call (ms). */
function timeSample(fn: () => unknown, reps: number): [number, number] {
  const wall0 = performance.now();
  const cpu0 = cpuMs();
  for (let i = 0; i < reps; i++) fn();
  return [(performance.now() - wall0) / reps, (cpuMs() - cpu0) / reps];
}

// Issue 21's target: 10,000 rules in < 10 ms, linear from 100 to 10,000. The poll parses and then
// reads the per-host counters, so both are held to it. The verdict uses this process's CPU time:
// on the shared bench machine (2 cores, several jobs) wall time also counts the time the process
// waited for a core, and the longer a run the more of it — which would read as non-linear growth.
// Wall-clock medians are reported beside it.
const TARGET_MS = 10;
/** "Linear": each 10× more rules costs at most this many times more (fixed costs make it < 10 at 100). */
const MAX_GROWTH_PER_10X = 12;

interface Medians {
  wall: number;
  cpu: number;
}

function medians(samples: Array<[number, number]>): Medians {
  return { wall: median(samples.map((s) => s[0])), cpu: median(samples.map((s) => s[1])) };
}

export function runParseBench(): Record<string, unknown> {
  const sizes = [100, 1_000, 10_000];
  const parseMs: Record<number, Medians> = {};
  const bothMs: Record<number, Medians> = {};
  const out: Record<string, unknown> = {};
  for (const size of sizes) {
    const text = listingText(size);
    const check = parseIptablesListing(text);
    const parsed = check.chains.find((c) => c.name === 'TRAFFIC')?.rules.length;
    if (parsed !== size || check.skipped.length > 0) throw new Error(`parse bench: ${size} rules generated, ${parsed} parsed, ${check.skipped.length} skipped`);
    const hosts = readHostCounters(check, 'ppp0').size;
    if (hosts !== Math.min(254, size / 2)) throw new Error(`parse bench: ${size} rules, ${hosts} hosts counted`);
    // Samples of ≥ 1 ms (the CPU clock counts microseconds), interleaved so both see the same load.
    const reps = Math.max(1, Math.round(1_000 / size));
    const samples = size >= 10_000 ? 100 : 300;
    const parseOnly = () => parseIptablesListing(text);
    const withCounters = () => readHostCounters(parseIptablesListing(text), 'ppp0');
    timeSample(parseOnly, 20);
    timeSample(withCounters, 20);
    const parseSamples: Array<[number, number]> = [];
    const bothSamples: Array<[number, number]> = [];
    for (let i = 0; i < samples; i++) {
      parseSamples.push(timeSample(parseOnly, reps));
      bothSamples.push(timeSample(withCounters, reps));
    }
    const p = (parseMs[size] = medians(parseSamples));
    const b = (bothMs[size] = medians(bothSamples));
    out[String(size)] = { rules: size, textBytes: text.length, runs: samples * reps, parseMedianMs: round(p.wall, 3), parseCpuMedianMs: round(p.cpu, 3), parseAndCountersMedianMs: round(b.wall, 3), parseAndCountersCpuMedianMs: round(b.cpu, 3) };
  }
  const growth = (ms: Record<number, Medians>, from: number) => round(ms[from * 10]!.cpu / ms[from]!.cpu, 1);
  const result = {
    sizes: out,
    targetMs: TARGET_MS,
    maxGrowthPer10x: MAX_GROWTH_PER_10X,
    loadAverage1m: round(loadavg()[0]!, 1),
    growth100to1k: growth(parseMs, 100),
    growth1kto10k: growth(parseMs, 1_000),
    countersGrowth100to1k: growth(bothMs, 100),
    countersGrowth1kto10k: growth(bothMs, 1_000),
    parse10kMedianMs: round(parseMs[10_000]!.wall, 2),
    parse10kCpuMs: round(parseMs[10_000]!.cpu, 2),
    parseAndCounters10kMedianMs: round(bothMs[10_000]!.wall, 2),
    parseAndCounters10kCpuMs: round(bothMs[10_000]!.cpu, 2),
    meetsTarget: parseMs[10_000]!.cpu < TARGET_MS,
    meetsTargetWithCounters: bothMs[10_000]!.cpu < TARGET_MS,
  };
  const isLinear = (a: number, b: number) => a <= MAX_GROWTH_PER_10X && b <= MAX_GROWTH_PER_10X;
  return { ...result, isLinear: isLinear(result.growth100to1k, result.growth1kto10k), isLinearWithCounters: isLinear(result.countersGrowth100to1k, result.countersGrowth1kto10k) };
}
