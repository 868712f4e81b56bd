// Section 5: history of 254 hosts × 30 days of per-minute polls, written through the real path
// (Accountant.process → HistoryStore.recordPoll, one transaction per poll, default retention and
// auto-prune), then: file size, per-poll processing time on the full database (listing parse +
// accounting arithmetic + write), and the month report (hostTotals over 30 days).
import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Accountant } from '../src/domain/accounting.js';
import { HistoryStore } from '../src/store/history-store.js';
import { parseIptablesListing } from '../src/router/parsers/iptables-listing.js';
import { formatIptablesListing } from '../src/router/parsers/format-iptables-listing.js';
import { readHostCounters } from '../src/router/backends/iptables/counters.js';
import type { Chain, Rule } from '../src/router/parsers/types.js';
import { log, median, round } from './util.js';

const HOSTS = 254;
const MINUTE = 60_000;

function fileBytes(path: string): number {
  let total = 0;
  for (const suffix of ['', '-wal', '-shm']) {
    try {
      total += statSync(path + suffix).size;
    } catch {
      /* absent */
    }
  }
  return total;
}

function listingOf(ips: readonly string[], down: readonly number[], up: readonly number[]): string {
  const base = { pkts: 0, isExact: true, target: null, prot: 'all', opt: '--', in: '*', out: '*', source: '0.0.0.0/0', destination: '0.0.0.0/0', extra: '', comment: 'lantop' };
  const rules: Rule[] = ips.flatMap((ip, i) => [
    { ...base, num: 2 * i + 1, bytes: down[i]!, pkts: Math.floor(down[i]! / 1000), in: 'ppp0', destination: ip },
    { ...base, num: 2 * i + 2, bytes: up[i]!, pkts: Math.floor(up[i]! / 1000), out: 'ppp0', source: ip },
  ]);
  const chains: Chain[] = [
    { name: 'FORWARD', policy: 'ACCEPT', references: null, policyPkts: 0, policyBytes: 0, rules: [{ ...base, bytes: 0, num: 1, target: 'TRAFFIC', comment: null }] },
    { name: 'TRAFFIC', policy: null, references: 1, rules },
  ];
  return formatIptablesListing(chains, { exact: true, lineNumbers: true, verbose: true });
}

export async function runHistoryBench(options: { days: number; samplePolls: number }): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-bench-history-'));
  const path = join(dir, 'history.sqlite');
  try {
    // Development only: LANTOP_BENCH_HISTORY_DB=FILE reuses the database an earlier run generated
    // (FILE.<days>d, copied so it stays as generated) instead of generating it again (3 min for 30 days).
    const cache = process.env.LANTOP_BENCH_HISTORY_DB ? `${process.env.LANTOP_BENCH_HISTORY_DB}.${options.days}d` : null;
    const isCached = cache !== null && existsSync(cache);
    if (isCached) copyFileSync(cache, path);
    let store = HistoryStore.open({ path });
    let t = Date.UTC(2024, 0, 1);
    const rid = store.routerId('bench-router', t);
    const holder = { id: 'bench', pid: process.pid, hostname: 'bench' };
    if (!store.tryAcquireLease(rid, holder, t, 1e12).acquired) throw new Error('history bench: no lease');
    const stored = isCached ? store.loadState(rid) : null;
    const acct = new Accountant({ linkBitsPerSecond: 1e12 }, stored?.state);
    // 254 hosts: every address of a /24 but .0 and .255 (lantop's worst case on one LAN).
    const ips = Array.from({ length: HOSTS }, (_, i) => `198.51.100.${i + 1}`);
    const hosts = ips.map((ip, i) => ({ ip, mac: `02:be:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`, hostname: `host-${i}` }));
    const down = ips.map(() => 0);
    const up = ips.map(() => 0);
    const polls = options.days * 1440;
    if (stored) {
      t = stored.lastPollMs ?? t;
      ips.forEach((ip, i) => {
        down[i] = stored.state.counters[ip]?.downBytes ?? 0;
        up[i] = stored.state.counters[ip]?.upBytes ?? 0;
      });
    }
    const step = (k: number) => {
      t += MINUTE;
      for (let i = 0; i < HOSTS; i++) {
        down[i]! += 50_000 + ((i * 7919 + k * 104729) % 5_000_000);
        up[i]! += 5_000 + ((i * 31 + k * 17) % 500_000);
      }
    };
    const g0 = performance.now();
    for (let k = 0; k < (isCached ? 0 : polls); k++) {
      step(k);
      const counters = new Map(ips.map((ip, i) => [ip, { downBytes: down[i]!, upBytes: up[i]! }]));
      const result = acct.process({ atMs: t, counters, hosts, ...(k === 0 ? { newAddresses: ips } : {}) });
      if (!store.recordPoll(rid, holder.id, result, acct.exportState({ includeRates: false }), 1e12)) throw new Error('history bench: write refused');
      if (k % 10_000 === 0 && k > 0) log(`history: ${k}/${polls} polls`);
    }
    const generateS = (performance.now() - g0) / 1000;
    if (cache !== null && !isCached) {
      store.close();
      copyFileSync(path, cache);
      store = HistoryStore.open({ path });
      if (!store.tryAcquireLease(rid, holder, t, 1e12).acquired) throw new Error('history bench: no lease');
    }

    // Per poll on the full database: text → records → counters → accounting → one transaction.
    // The counters go to the accountant as read, as the poller hands them (src/domain/poller.ts).
    // Each sample is a poll in a new minute (the most a poll writes: a sample row and last_seen for
    // every host), then one a second later in that minute (what most polls at 1 Hz write).
    const newMinute = { parse: [] as number[], account: [] as number[], write: [] as number[], total: [] as number[] };
    const sameMinute = { parse: [] as number[], account: [] as number[], write: [] as number[], total: [] as number[] };
    const timePoll = (into: typeof newMinute) => {
      const text = listingOf(ips, down, up);
      const t0 = performance.now();
      const counters = readHostCounters(parseIptablesListing(text), 'ppp0');
      const t1 = performance.now();
      const result = acct.process({ atMs: t, counters, hosts });
      const state = acct.exportState({ includeRates: false });
      const t2 = performance.now();
      store.recordPoll(rid, holder.id, result, state, 1e12);
      const t3 = performance.now();
      into.parse.push(t1 - t0);
      into.account.push(t2 - t1);
      into.write.push(t3 - t2);
      into.total.push(t3 - t0);
    };
    for (let k = 0; k < options.samplePolls; k++) {
      step(polls + k);
      timePoll(newMinute);
      t += 1000;
      for (let i = 0; i < HOSTS; i++) {
        down[i]! += 1000 + i;
        up[i]! += 100 + i;
      }
      timePoll(sameMinute);
    }
    const totalMs = newMinute.total;
    const sorted = [...totalMs].sort((a, b) => a - b);

    const monthStart = t - 30 * 1440 * MINUTE;
    const reportMs: number[] = [];
    let hostsInReport = 0;
    for (let i = 0; i < 21; i++) {
      const r0 = performance.now();
      const report = store.hostTotals(rid, monthStart, t);
      const r1 = performance.now();
      if (i > 0) reportMs.push(r1 - r0);
      hostsInReport = report.hosts.length;
    }
    store.close();
    const bytes = fileBytes(path);
    return {
      hosts: HOSTS, days: options.days, polls, generateSeconds: round(generateS, 1), generateMsPerPoll: round((generateS * 1000) / polls, 3),
      retention: 'default (minute samples 7 days, hourly 90 days, daily forever; auto-prune)',
      dbMB: round(bytes / 1e6, 1),
      pollParseMedianMs: round(median(newMinute.parse), 3), pollAccountingMedianMs: round(median(newMinute.account), 3), pollWriteMedianMs: round(median(newMinute.write), 3),
      pollTotalMedianMs: round(median(totalMs), 3), samplePolls: totalMs.length,
      // The slowest polls: the one that closes an hour rolls its minutes up and prunes (~10 ms), and SQLite checkpoints the WAL every 1000 pages (~5 ms, docs/history.md).
      pollTotalP95Ms: round(sorted[Math.floor(sorted.length * 0.95)] ?? Number.NaN, 3), pollTotalMaxMs: round(sorted[sorted.length - 1] ?? Number.NaN, 2),
      sameMinuteWriteMedianMs: round(median(sameMinute.write), 3), sameMinuteTotalMedianMs: round(median(sameMinute.total), 3),
      monthReportMedianMs: round(median(reportMs), 2), monthReportRuns: reportMs.length, hostsInReport,
      meetsSizeTarget: bytes < 100e6, meetsPollTarget: median(totalMs) < 2, meetsReportTarget: median(reportMs) < 100,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
