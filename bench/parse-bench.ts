// Section 3: parsing a TRAFFIC listing of 100 / 1,000 / 10,000 rules (`iptables -L -v -x -n
// --line-numbers` text generated with lantop's own formatter, flat layout, large counters).
import { parseIptablesListing } from '../src/router/parsers/iptables-listing.js';
import { formatIptablesListing } from '../src/router/parsers/format-iptables-listing.js';
import { readHostCounters } from '../src/router/backends/iptables/counters.js';
import type { Chain, Rule } from '../src/router/parsers/types.js';
import { median, round, timeRuns } from './util.js';

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

export async function runParseBench(): Promise<Record<string, unknown>> {
  const sizes = [100, 1_000, 10_000];
  const medians: Record<number, number> = {};
  const out: Record<string, unknown> = {};
  for (const size of sizes) {
    const text = listingText(size);
    const check = parseIptablesListing(text);
    const parsed = check.chains.find((c) => c.name === 'TRAFFIC')?.rules.length;
    if (parsed !== size || check.skipped.length > 0) throw new Error(`parse bench: ${size} rules generated, ${parsed} parsed, ${check.skipped.length} skipped`);
    const runs = size >= 10_000 ? 40 : size >= 1_000 ? 200 : 1000;
    const times = await timeRuns(runs, () => parseIptablesListing(text), Math.min(20, runs));
    const withCounters = await timeRuns(Math.min(runs, 100), () => readHostCounters(parseIptablesListing(text), 'ppp0'), 5);
    medians[size] = median(times);
    out[String(size)] = { rules: size, textBytes: text.length, runs, parseMedianMs: round(median(times), 3), parseAndCountersMedianMs: round(median(withCounters), 3) };
  }
  return {
    sizes: out,
    growth100to1k: round(medians[1_000]! / medians[100]!, 1),
    growth1kto10k: round(medians[10_000]! / medians[1_000]!, 1),
    parse10kMedianMs: round(medians[10_000]!, 2),
    meetsTarget: medians[10_000]! < 20,
  };
}
