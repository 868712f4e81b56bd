// BENCHMARKS.md from bench/results.json: one table per section (median, ratio, target, met).
/* eslint-disable @typescript-eslint/no-explicit-any */
export type Results = Record<string, any>;

const yes = (ok: boolean | undefined) => (ok === undefined ? '—' : ok ? '**met**' : '**not met**');

function table(head: string[], rows: Array<Array<string | number>>): string {
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function ran(section: any): string {
  return section ? `_Measured ${section.measuredAt} — \`${section.command}\`_` : '';
}

function targetLines(r: Results): string[] {
  const lines: string[] = [];
  const add = (label: string, ok: boolean | undefined, figure: string) => {
    if (ok !== undefined) lines.push(`- ${ok ? 'met' : '**not met**'}: ${label} — ${figure}`);
  };
  const refreshTargets = r.lab?.refresh?.targets ?? { limit: 1.5, seed: 100, firstPoll: 2 };
  for (const x of r.lab?.refresh?.routers ?? []) {
    add(`refresh ≤ ${refreshTargets.limit}× the physical limit (${x.name})`, x.meetsLimitTarget, `${x.ratioLantopToLimit}× (the connection's floor alone: ${x.ratioFloorToLimit}×)`);
    add(`refresh ≥ ${refreshTargets.seed}× faster than the seed procedure (${x.name})`, x.meetsSeedTarget, `${x.ratioSeedToLantop}× (the floor's: ${x.ratioSeedToFloor}×)`);
    add(`first poll after connect ≤ ${refreshTargets.firstPoll}× login (${x.name})`, x.firstPoll?.meetsTarget, `${x.firstPoll?.ratioToLogin}×`);
  }
  const rc = r.lab?.router;
  if (rc?.cpu?.table) {
    const def = rc.defaultLayout ?? 'split';
    const cell = rc.cpu.table[`${def}/h3`];
    const others = ['flat', 'split', 'tree'].filter((l) => l !== def && rc.cpu.table[`${l}/h3`]).map((l) => `${l}: ${rc.cpu.table[`${l}/h3`].percentOfNoRules}%`).join(', ');
    if (cell) add(`router forwarding cost of the default layout (${def}), per packet, 254 hosts, last host ≥ ${rc.targetPercent}% of no rules in each of ${rc.cpu.rounds} interleaved rounds (CPU per packet)`, rc.cpu.meetsTarget, `${cell.perRound.join('%, ')}% (median ${cell.percentOfNoRules}%; ${others})`);
    const tp = rc.throughput?.[`perPacket/${def}/h3`];
    if (tp) add(`same, as TCP throughput per packet (issue 6's measure), default layout (${def}), last host ≥ ${rc.targetPercent}%`, tp.percentOfNoRules >= rc.targetPercent, `${tp.percentOfNoRules}% (rounds: ${tp.perRound.join('%, ')}%)`);
    add('every layout counts exactly what the oracle counts (flat, split, tree)', rc.countsIdentical, rc.countsIdentical ? 'identical' : 'different');
  }
  if (r.parse) {
    const limit = r.parse.targetMs ?? 10;
    add(`10k-rule parse < ${limit} ms (CPU time)`, r.parse.meetsTarget, `${r.parse.parse10kCpuMs} ms (wall ${r.parse.parse10kMedianMs} ms)`);
    add(`10k-rule parse + per-host counters (what a poll does) < ${limit} ms (CPU time)`, r.parse.meetsTargetWithCounters, `${r.parse.parseAndCounters10kCpuMs} ms (wall ${r.parse.parseAndCounters10kMedianMs} ms)`);
    add(`parse linear from 100 to 10,000 rules (≤ ${r.parse.maxGrowthPer10x}× per 10×, CPU time)`, r.parse.isLinear, `${r.parse.growth100to1k}×, ${r.parse.growth1kto10k}× (with counters ${r.parse.countersGrowth100to1k}×, ${r.parse.countersGrowth1kto10k}×)`);
  }
  if (r.app) {
    const at = r.app.targets ?? { firstFrameMs: 800, cpuPercent: 3, rssMB: 120, growthMBPer10Min: 5 };
    const lv = r.app.live;
    const fl = lv.floors;
    add(`first frame of \`lantop demo\` < ${at.firstFrameMs} ms`, r.app.firstFrame.meetsTarget, `${r.app.firstFrame.medianMs} ms (menu after login: ${r.app.firstFrame.menuMedianMs ?? '—'} ms)`);
    add(`the app at 1 Hz, ${lv.hosts} hosts, ${lv.seconds} s: < ${at.cpuPercent}% of one core`, lv.meetsCpuTarget, `${lv.cpuPercentOfOneCore}%${fl ? ` (floors: the same app without a screen ${fl.headless.cpuPercentOfOneCore}%, Ink alone writing a full screen once a second ${fl.inkFrames.cpuPercentOfOneCore}%)` : ''}`);
    add(`same: < ${at.rssMB} MB RSS`, lv.meetsRssTarget, `max ${lv.rssMaxMB} MB, median ${lv.rssMedianMB ?? '—'} MB${fl ? ` (floors: node ${fl.nodeBare.rssMedianMB} MB, node + Ink + one <Text> ${fl.inkEmpty.rssMedianMB} MB, Ink writing a full screen ${fl.inkFrames.rssMedianMB} MB, the app without a screen ${fl.headless.rssMedianMB} MB)` : ''}`);
    add(`same: no growth (RSS slope < ${at.growthMBPer10Min} MB per 10 minutes)`, lv.meetsGrowthTarget, `${lv.rssSlopeMBPer10Min ?? '—'} MB per 10 min (first minute ${lv.rssFirstMedianMB ?? '—'} MB, last ${lv.rssLastMedianMB ?? '—'} MB)`);
  }
  if (r.history) {
    add('history < 100 MB', r.history.meetsSizeTarget, `${r.history.dbMB} MB`);
    add('poll processing (parse + accounting + history write, 254 hosts, 30-day database) < 2 ms', r.history.meetsPollTarget, `${r.history.pollTotalMedianMs} ms`);
    add('month report < 100 ms', r.history.meetsReportTarget, `${r.history.monthReportMedianMs} ms`);
  }
  if (r.setup) {
    for (const [shell, x] of [['dash', r.setup], ['BusyBox ash', r.setup.busybox]] as const) {
      for (const v of x?.apply ?? []) {
        if (v.meetsTarget !== undefined) add(`set-up of ${r.setup.hosts} hosts ≤ 2× (router's iptables-restore + one round trip), ${shell}, ${v.transport}, ${v.variant}`, v.meetsTarget, `${v.ratioToLimit}× (${v.roundTrips} round trip${v.roundTrips === 1 ? '' : 's'})`);
      }
    }
    if (r.setup.reboot) {
      add('re-install after a reboot: its batch ≤ 2× (router\'s iptables-restore + one round trip), dash, telnet', r.setup.reboot.meetsLimitTarget, `${r.setup.reboot.applyRatioToLimit}× (${r.setup.reboot.applyMedianMs} ms; the listing before it makes ${r.setup.reboot.reinstallMedianMs} ms)`);
      add('re-install after a reboot ≤ one poll interval (listing + plan + apply)', r.setup.reboot.meetsTarget, `${r.setup.reboot.reinstallMedianMs} ms (with login and shell: ${r.setup.reboot.totalMedianMs} ms)`);
    }
  }
  return lines;
}

export function renderMarkdown(results: Results, closingNote?: string): string {
  const out: string[] = [];
  const m = results.machine ?? {};
  out.push('# Benchmarks', '');
  out.push(`Written by \`npm run bench\` (bench/run.ts; raw figures in bench/results.json). Machine: ${m.cpus ?? '?'} × ${m.cpuModel ?? '?'} (nproc ${m.nproc ?? '?'}), ${m.memGB ?? '?'} GB, Linux ${m.kernel ?? '?'}, Node ${m.node ?? '?'}. `
    + 'The machine is shared and noisy: every figure is a median, and each ratio compares figures measured in the same run, interleaved where possible. '
    + 'Re-run one section with `npm run bench -- --only refresh|router|parse|app|history|setup` (root for refresh/router/setup: they use the netns lab; router also needs `socat`, `apt-get install socat`).', '');

  const lab = results.lab;
  const r = lab?.refresh;
  if (r?.routers) {
    const tg = r.targets ?? { limit: 1.5, seed: 100, firstPoll: 2 };
    out.push('## 1. Refresh latency (253 hosts, 506 rules, lab router)', '', ran(r.measuredAt ? r : lab), '');
    out.push(`Lab router: ${lab.hosts} LAN hosts (every address of 198.51.100.0/24 but the router: 3 namespaces, the console, ${lab.hosts - 4} permanent ARP entries), iptables ${lab.backend}, lantop's flat rules installed by lantop. `
      + 'Three ways in, polled in turn round by round: telnet to the vendor CLI (Broadcom CMS; the listing runs in the shell behind `sh`, entered once per session), telnet to a login that lands in a shell (BusyBox telnetd + login, as OpenWrt/DD-WRT builds do; the bench starts it next to the lab\'s), SSH (dropbear; lands in a shell). Each lantop session reuses the firmware profile stored by a first run. '
      + `**Physical limit** = the same listing as lantop's poll (\`${r.limit.command ?? 'iptables -L -v -x -n --line-numbers'}\`, its backend's read command: both families where the router has ip6tables; ${r.limit.listingBytes} bytes) run locally in the router namespace (${r.limit.localListingMedianMs} ms, timed by bash's EPOCHREALTIME) + one loopback round trip carrying that many bytes (${r.limit.loopbackRttListingMedianMs} ms; ${r.limit.loopbackRttSmallMedianMs} ms for 1 byte) = **${r.limit.limitMs} ms**. `
      + '**Floor** = the same listing read over a second login to the same router by a bare client (bench/raw-floor.ts: a socket, or a bare ssh2 shell channel, that only looks for the end marker): what the router\'s pty, telnetd or dropbear and TCP take, which no client can go below. '
      + '**Seed procedure** = a fresh login per command batch, two batches per refresh (`iptables -L TRAFFIC -v -x -n`, then `lanhosts show all` in the CLI or `cat /tmp/dhcp.leases` in a shell; over SSH one exec channel per command, as its one `ssh` per command did). The seed listed without `-n`; the lab has no resolver, so `-n` is added — that only makes the seed faster.', '');
    out.push(table(['router (login lands in)', 'lantop poll', 'parse + counters (CPU, mostly while the bytes arrive)', 'floor (bare client)', 'limit', `lantop / limit (≤ ${tg.limit}×)`, 'lantop / floor', 'seed refresh', `seed / lantop (≥ ${tg.seed}×)`],
      r.routers.map((x: any) => [
        x.name, `${x.lantopPollMedianMs} ms (${x.lantopPollRuns} polls, ${x.hostsRead} hosts read)`, `${x.parseAndCountersMedianMs} ms`, `${x.floorMedianMs} ms (${x.ratioFloorToLimit}× the limit)`, `${r.limit.limitMs} ms`,
        `${x.ratioLantopToLimit}× ${yes(x.meetsLimitTarget)}`, `${x.ratioLantopToFloor}×`, `${x.seedRefreshMedianMs} ms (${x.seedRuns})`, `${x.ratioSeedToLantop}× ${yes(x.meetsSeedTarget)} (floor: ${x.ratioSeedToFloor}×)`,
      ])), '');
    out.push(`**First poll after connect** = login + detection from the stored profile + the first listing (\`openRouter\` + \`readTraffic\`), against the login alone (\`openSession\`: connect, login, prompt and mode probe), interleaved, ${r.routers[0]?.firstPoll?.runs ?? '?'} runs each:`, '');
    out.push(table(['router (login lands in)', 'login', 'first poll after connect', `ratio (≤ ${tg.firstPoll}×)`],
      r.routers.map((x: any) => [x.name, `${x.firstPoll.loginMedianMs} ms`, `${x.firstPoll.firstPollMedianMs} ms`, `${x.firstPoll.ratioToLogin}× ${yes(x.firstPoll.meetsTarget)}`])), '');
  }
  if (r && !r.routers) out.push('## 1. Refresh latency', '', 'Figures from before issue 21 changed this section: re-run `npm run bench -- --only refresh`.', '');
  if (lab?.router?.cpu) {
    const t = lab.router;
    const def = t.defaultLayout ?? 'split';
    const names = ['none', 'flat', 'split', 'tree'].filter((n) => t.cpu.table[`${n}/h3`]);
    const label = (n: string) => (n === 'none' ? 'none' : `${n}${n === def ? ' (default)' : ''}, ${t.layouts[n].ruleCount} rules`);
    out.push('## 2. Router cost: forwarding per packet (lab router)', '', ran(lab), '');
    out.push(`Every layout installed by lantop (src/router/backends/iptables/layouts.ts) in two setups, so h1 is the first host in rule order and h3 the last of its chain (in the tree h3 is last in its group's chain, and every download walks all group rules: within two rules of the tree's worst case). Rules a download to h3 / h1 walks in lantop's chains: ${names.filter((n) => n !== 'none').map((n) => `${n} ${t.layouts[n].walks.h3} / ${t.layouts[n].walks.h1}`).join(', ')}. The rule sets are switched with \`iptables-restore\` of the dumps lantop's own setups produced, interleaved. bench/router-cost.ts.`, '');
    out.push(`**CPU per packet** (the target's measure, issue 21): a UDP sender in the ISP namespace pinned to CPU ${t.cpu.pinnedCpu ?? '—'} sends ${t.cpu.payloadBytes}-byte datagrams through the router's NAT to the host; veth hands each packet on inside the sending syscall, so the sender thread's CPU time holds the whole path (its own stack, the router's forwarding and rule walk, the host's delivery) and nothing of the other processes on this shared machine, where wall-clock throughput moved ±10–15 % between runs. ${t.cpu.rounds} rounds; in each, every rule set is loaded ${t.cpu.alternations} times in turn with ${t.cpu.packets} datagrams per host after each load; a round's figure is the median of its samples, "% of no rules" = no-rules cost / this cost in the same round (the forwarding capacity kept). For scale: the sender's stack plus the router's ingress alone (dropped in raw PREROUTING) costs ${t.cpu.ingressNsPerPacket} ns per packet.`, '');
    out.push(table(['rules', 'h3 (last host) ns/packet', '% of no rules (median; each round)', 'h1 (first host) ns/packet', '% of no rules', `target (≥ ${t.targetPercent}% every round)`], names.map((n) => {
      const a = t.cpu.table[`${n}/h3`];
      const b = t.cpu.table[`${n}/h1`];
      return [label(n), `${a.nsPerPacket}`, `${a.percentOfNoRules}% (${a.perRound.join(', ')})`, `${b.nsPerPacket}`, `${b.percentOfNoRules}%`, n === def ? yes(t.cpu.meetsTarget) : n === 'none' ? '—' : (a.min >= t.targetPercent ? 'would be met' : 'would not be met')];
    })), '');
    const nftNames = Object.keys(t.nftLayouts ?? {}).filter((n) => t.cpu.table[`nft-${n}/h3`]);
    if (nftNames.length > 0) {
      out.push(`**nftables layouts** (issue 15; CPU per packet in the same rounds, same method): lantop's \`table inet lantop\` on the forward hook after the filter (priority filter + 10), set up by lantop itself and loaded with \`nft -f\` of its own listing (bench/router-cost-nft.ts). Rules a download to h3 walks in lantop's table: ${nftNames.map((n) => `${n} ${t.nftLayouts[n].lastHostWalk} (${t.nftLayouts[n].entries} host entries)`).join(', ')}. Counts vs the oracle: ${nftNames.map((n) => `${n} ${t.nftLayouts[n].counts.isIdentical ? 'identical' : 'DIFFERENT'}`).join(', ')}.`, '');
      out.push(table(['nft layout', 'h3 (last host) ns/packet', '% of no rules (median; each round)', 'h1 (first host) ns/packet', '% of no rules'], nftNames.map((n) => {
        const a = t.cpu.table[`nft-${n}/h3`];
        const b = t.cpu.table[`nft-${n}/h1`];
        return [`${n}${n === 'dynamic-sets' ? ' (default)' : ''}`, `${a.nsPerPacket}`, `${a.percentOfNoRules}% (${a.perRound.join(', ')})`, `${b.nsPerPacket}`, `${b.percentOfNoRules}%`];
      })), '');
    }
    out.push(`**TCP throughput** (issue 6's measure, for comparison; wall clock, so noisy here): a bounded TCP download (socat, /dev/zero → /dev/null; the oracle confirms every byte crossed the router), ${t.rounds} rounds. **offload** — GSO super-packets of up to 64 KB cross the router (the rule walk is paid once per 64 KB); **per packet** — \`gso_max_segs 1\` on the ISP's interface, every ~1500-byte packet walks the rules (like a router's SoC without offloads).`, '');
    for (const [mode, title] of [['perPacket', 'per packet'], ['offload', 'offload']] as const) {
      const bytes = t.throughput[`${mode}/none/h3`]?.bytes;
      out.push(`**${title}** (${bytes ? bytes / 1e6 : '?'} MB per transfer)`, '');
      out.push(table(['rules', 'h3 (last host) median', '% of no rules (each round)', 'h1 (first host) median', '% of no rules'], names.map((n) => {
        const a = t.throughput[`${mode}/${n}/h3`];
        const b = t.throughput[`${mode}/${n}/h1`];
        return [label(n), `${a.medianMBps} MB/s`, `${a.percentOfNoRules}% (${(a.perRound ?? []).join(', ')})`, `${b.medianMBps} MB/s`, `${b.percentOfNoRules}%`];
      })), '');
    }
    const c = (x: any) => Object.entries(x.counts.hosts).map(([h, v]: [string, any]) => `${h} ↓${v.lantopDown}/${v.oracleDown} ↑${v.lantopUp}/${v.oracleUp}`).join('; ');
    out.push(`**Counting** (lantop's per-host deltas vs the nftables oracle, bytes lantop/oracle, after transfers to h1 and h3): ${names.filter((n) => n !== 'none').map((n) => `${n} ${t.layouts[n].counts.isIdentical ? 'identical' : 'DIFFERENT'} (${c(t.layouts[n])})`).join('; ')}. Every layout counts exactly the oracle's bytes: **${t.countsIdentical ? 'yes' : 'no'}**.`, '');
  }

  const p = results.parse;
  if (p) {
    out.push('## 3. Parsing', '', ran(p), '');
    out.push('`parseIptablesListing` on generated `iptables -L -v -x -n --line-numbers` text (flat layout, 12-digit counters, lantop comment), and the same followed by `readHostCounters` (what every poll does); medians of many runs in one process, the two interleaved. '
      + `Each figure is the process's CPU time per call, then the wall time (which on this shared machine also counts waiting for a core: load average ${p.loadAverage1m ?? '?'} during the run); growth and targets use CPU time.`, '');
    const limit = p.targetMs ?? 10;
    const ms = (cpu: number | undefined, wall: number) => (cpu === undefined ? `${wall} ms` : `${cpu} ms (wall ${wall})`);
    out.push(table(['rules', 'text', 'parse median', 'growth (per 10×)', 'parse + per-host counters', 'growth (per 10×)', 'target'], ['100', '1000', '10000'].map((k) => {
      const s = p.sizes[k];
      const growth = (a: number | undefined, b: number | undefined) => (k === '1000' ? `${a}×` : k === '10000' ? `${b}×` : '');
      const target = k === '10000' ? `< ${limit} ms: parse ${yes(p.meetsTarget)}, with counters ${yes(p.meetsTargetWithCounters)}; linear (≤ ${p.maxGrowthPer10x ?? 12}× per 10×) ${yes(p.isLinear)}` : '';
      return [s.rules, `${Math.round(s.textBytes / 1024)} KB`, `${ms(s.parseCpuMedianMs, s.parseMedianMs)} (${s.runs} runs)`, growth(p.growth100to1k, p.growth1kto10k), ms(s.parseAndCountersCpuMedianMs, s.parseAndCountersMedianMs), growth(p.countersGrowth100to1k, p.countersGrowth1kto10k), target];
    })), '');
  }

  const a = results.app;
  if (a) {
    const at = a.targets ?? { firstFrameMs: 800, cpuPercent: 3, rssMB: 120, growthMBPer10Min: 5 };
    const lv = a.live;
    out.push('## 4. The app', '', ran(a), '');
    out.push(table(['measure', 'median / value', 'target'], [
      ['first frame of `lantop demo` (tmux 120×40, spawn → first capture showing the connect screen, polled every 10 ms)', `${a.firstFrame.medianMs} ms (runs ${a.firstFrame.runsMs.join(', ')}); emulator up after ${a.firstFrame.setupDoneMedianMs ?? '—'} ms`, `< ${at.firstFrameMs} ms ${yes(a.firstFrame.meetsTarget)}`],
      ['same, → the menu (after the login and firmware probe)', `${a.firstFrame.menuMedianMs ?? '—'} ms (runs ${(a.firstFrame.menuRunsMs ?? []).join(', ')})`, ''],
      [`live usage screen, ${lv.hosts} emulated hosts, ${lv.intervalMs} ms poll, tmux 160×50, ${lv.seconds} s: CPU (Δ utime+stime / Δ wall)`, `${lv.cpuPercentOfOneCore}% of one core`, `< ${at.cpuPercent}% ${yes(lv.meetsCpuTarget)}`],
      ['same: RSS (VmRSS once a second: start / end / median / max)', `${lv.rssStartMB} / ${lv.rssEndMB} / ${lv.rssMedianMB ?? '—'} / ${lv.rssMaxMB} MB`, `< ${at.rssMB} MB ${yes(lv.meetsRssTarget)}`],
      ['same: growth (least-squares RSS slope; median of the first and of the last minute)', `${lv.rssSlopeMBPer10Min ?? '—'} MB per 10 min; ${lv.rssFirstMedianMB ?? '—'} → ${lv.rssLastMedianMB ?? '—'} MB`, `< ${at.growthMBPer10Min} MB / 10 min ${yes(lv.meetsGrowthTarget)}`],
      [`for comparison: the app against the already set-up ${lv.hosts}-host emulator, spawn → menu (one run)`, `${lv.menuAfterMs ?? '—'} ms`, ''],
    ]), '');
    const fl = lv.floors;
    if (fl) {
      out.push(`Floors, measured in the same run (tmux 160×50, ${fl.headless.seconds} s each): what the live screen's figures rest on.`, '');
      out.push(table(['floor', 'CPU (one core)', 'RSS median / max'], [
        ['the same app without a screen (bench/live-app.mjs --headless: polls, accounting, history at 1 Hz; no Ink)', `${fl.headless.cpuPercentOfOneCore}%`, `${fl.headless.rssMedianMB} / ${fl.headless.rssMaxMB} MB`],
        ['node alone (bench/ink-floor.mjs bare)', `${fl.nodeBare.cpuPercentOfOneCore}%`, `${fl.nodeBare.rssMedianMB} / ${fl.nodeBare.rssMaxMB} MB`],
        ['node + React + Ink, one <Text>, nothing changes (ink-floor.mjs empty)', `${fl.inkEmpty.cpuPercentOfOneCore}%`, `${fl.inkEmpty.rssMedianMB} / ${fl.inkEmpty.rssMaxMB} MB`],
        ['Ink writing a full screen of new text once a second, no lantop (ink-floor.mjs frames: 48 lines × 158 cells, 2 coloured spans per line, one <Transform> over a constant block)', `${fl.inkFrames.cpuPercentOfOneCore}%`, `${fl.inkFrames.rssMedianMB} / ${fl.inkFrames.rssMaxMB} MB`],
        ...(fl.directFrames ? [['the same frames without React or Ink, each changed line written in place (ink-floor.mjs direct): what a renderer that diffs rows costs', `${fl.directFrames.cpuPercentOfOneCore}%`, `${fl.directFrames.rssMedianMB} / ${fl.directFrames.rssMaxMB} MB`]] : []),
      ]), '');
    }
    out.push('The live app is bench/live-app.mjs: the same services → LiveRouterController → runApp (over dist/) that `lantop --host` builds, with the 1 s interval of `lantop demo` (the app has no --interval flag); the emulator (bench/emulator-250.mjs, 250 hosts — the emulator\'s /24 holds no more —, real-time traffic) runs in its own process, after `lantop setup --yes`. `LANTOP_BENCH_PROF_DIR=DIR` adds `--cpu-prof` to the app\'s runs.', '');
  }

  const h = results.history;
  if (h) {
    out.push('## 5. History', '', ran(h), '');
    out.push(`${h.hosts} hosts × ${h.days} days of per-minute polls (${h.polls} polls), written through the real path: Accountant.process → HistoryStore.recordPoll, one transaction per poll, retention ${h.retention}. Generating it took ${h.generateSeconds} s (${h.generateMsPerPoll} ms per poll).`, '');
    out.push(table(['measure', 'median', 'target'], [
      ['database file (+ WAL) after 30 days', `${h.dbMB} MB`, `< 100 MB ${yes(h.meetsSizeTarget)}`],
      [`poll processing on the full database: parse 254-host listing + accounting + write (${h.samplePolls} polls, each in a new minute)`, `${h.pollTotalMedianMs} ms (parse ${h.pollParseMedianMs}, accounting ${h.pollAccountingMedianMs}, write ${h.pollWriteMedianMs}); p95 ${h.pollTotalP95Ms ?? '—'} ms, max ${h.pollTotalMaxMs ?? '—'} ms (the slow ones: an hour's rollup and prune, WAL checkpoints, this machine's noise)`, `< 2 ms ${yes(h.meetsPollTarget)}`],
      [`same, a poll 1 s later in the same minute (most polls at 1 Hz)`, `${h.sameMinuteTotalMedianMs ?? '—'} ms (write ${h.sameMinuteWriteMedianMs ?? '—'})`, ''],
      [`month report (hostTotals over 30 days, ${h.hostsInReport} hosts, ${h.monthReportRuns} runs)`, `${h.monthReportMedianMs} ms`, `< 100 ms ${yes(h.meetsReportTarget)}`],
    ]), '');
  }
  const st = results.setup;
  if (st) {
    out.push(`## 6. Set-up and re-install (${st.hosts} hosts, lab router)`, '', ran(st), '');
    out.push(`lantop's ${st.layout ?? 'split'} set-up (the default layout) of ${st.hosts} hosts (198.51.100.1–254: ${st.commands} iptables commands, a ${st.scriptBytes}-byte \`iptables-restore\` script), applied by \`applyBatch\` (src/router/backends/iptables/apply/) over the transport's own sessions, each run from the boot firewall, iptables ${st.backend}. `
      + 'Limit = the router\'s own `iptables-restore --noflush` of the same script in its namespace (timed by bash\'s EPOCHREALTIME) + one round trip (`:` over the same session); each variant\'s ratio uses the router\'s own restore run once before each of its runs (column "limit"), so drift on this shared machine hits both alike. '
      + `**Probed lines** = what lantop uses: lines as long as the line probe measured at detection (\`LINE_PROBE_COMMAND\`, src/router/firmware/line-budget.ts: one 3.2 kB line whose DELs make it report where the shell cut it); **${st.defaultMaxLineBytes}-byte lines** = what is left when the probe answers nothing readable (OpenWrt's BusyBox keeps 510 bytes of a typed line). Every variant leaves exactly the filter table the router's own restore leaves.`, '');
    const shellTable = (x: any, title: string) => {
      const probe = x.shell?.lineProbe;
      out.push(`**${title}** — \`readlink /proc/$$/exe\` → \`${x.shell?.exe ?? '?'}\` (${x.shell?.maxLineBytesByName ?? '?'} bytes by name); line probe: ${probe?.keptBytes === 'whole' ? 'the whole line arrived' : `the shell kept ${probe?.keptBytes} bytes`} → **${probe?.maxLineBytes} bytes** per line (${x.lines?.probed} round trip(s); ${x.lines?.fallback} at ${st.defaultMaxLineBytes} bytes). Limit: restore ${x.limit.localRestoreMs.medianMs} ms + round trip telnet ${x.limit.telnetRttMs} ms / SSH ${x.limit.sshRttMs} ms = ${x.limit.telnetLimitMs} / ${x.limit.sshLimitMs} ms.`, '');
      out.push(table(['transport', 'how', 'round trips', 'median', 'of which planning the lines', 'runs', 'limit', '/ limit', 'target (≤ 2×)'], (x.apply ?? []).map((v: any) => [
        v.transport, `${v.variant} (${v.method})`, v.roundTrips, `${v.medianMs} ms`, v.planMedianMs === undefined ? '—' : `${v.planMedianMs} ms`, v.runsMs.length > 6 ? `${v.runsMs.length}` : v.runsMs.join(', '), `${v.limitMs} ms`, `${v.ratioToLimit}×`, v.meetsTarget === undefined ? '—' : yes(v.meetsTarget),
      ])), '');
    };
    if (st.shell?.lineProbe) shellTable(st, "The lab's default shell (dash, no line editor)");
    if (st.busybox) shellTable(st.busybox, "Debian's BusyBox 1.35 ash with line editing (the lab's `shell: 'busybox'`; it answers every line ~20 ms late, whatever its length, so round trips are what costs)");
    const b = st.reboot;
    if (b) {
      out.push(`**Re-install after \`lab.reboot()\`** (${b.runs.length} reboots; every router process killed, the boot firewall back, counters zero): from the daemons being back to lantop's jump in place — telnet login ${b.loginMedianMs} ms, the CLI's \`sh\` ${b.shellMedianMs} ms, then listing + plan + one batch at the probed line length **${b.reinstallMedianMs} ms** (${b.runs[0]?.roundTrips ?? '?'} round trips; the batch alone ${b.applyMedianMs} ms = ${b.applyRatioToLimit}× the limit of ${b.limitMs} ms, the router's own restore run right after each re-install + one telnet round trip); in all ${b.totalMedianMs} ms. One poll interval is ${b.pollIntervalMs} ms: ${yes(b.meetsTarget)} (with login and shell: ${yes(b.meetsTotalTarget)}). Runs: ${b.runs.map((r: any) => `${r.totalMs} ms`).join(', ')}.`, '');
    }
  }

  out.push('## Targets', '', ...targetLines(results), '');
  if (closingNote) out.push('## Closing note', '', closingNote.trim(), '');
  return out.join('\n');
}
