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
  for (const p of ['telnet', 'ssh']) {
    const x = r.lab?.refresh?.[p];
    if (!x) continue;
    add(`refresh ≤ 1.5× the physical limit (${p})`, x.meetsLimitTarget, `${x.ratioLantopToLimit}×`);
    add(`refresh ≥ 20× faster than the seed procedure (${p})`, x.meetsSeedTarget, `${x.ratioSeedToLantop}×`);
  }
  for (const mode of ['perPacket', 'offload']) {
    const split = r.lab?.router?.throughput?.[`${mode}/split/h3`];
    const flat = r.lab?.router?.throughput?.[`${mode}/flat/h3`];
    if (split) add(`optimised (split) layout ≥ 95% of no-rules throughput, last host, ${mode === 'perPacket' ? 'per packet' : 'offload'}`, split.percentOfNoRules >= 95, `${split.percentOfNoRules}% (flat: ${flat?.percentOfNoRules ?? '?'}%)`);
  }
  if (r.lab?.router) add('split counts exactly what flat counts (both equal the oracle)', r.lab.router.countsIdentical, r.lab.router.countsIdentical ? 'identical' : 'different');
  if (r.parse) add('10k-rule parse < 20 ms', r.parse.meetsTarget, `${r.parse.parse10kMedianMs} ms`);
  if (r.app) {
    add('first frame of `lantop demo` < 800 ms', r.app.firstFrame.meetsTarget, `${r.app.firstFrame.medianMs} ms`);
    add('live screen < 3% of a core', r.app.live.meetsCpuTarget, `${r.app.live.cpuPercentOfOneCore}%`);
    add('live screen < 120 MB RSS', r.app.live.meetsRssTarget, `${r.app.live.rssMaxMB} MB`);
  }
  if (r.history) {
    add('history < 100 MB', r.history.meetsSizeTarget, `${r.history.dbMB} MB`);
    add('poll processing < 5 ms', r.history.meetsPollTarget, `${r.history.pollTotalMedianMs} ms`);
    add('month report < 100 ms', r.history.meetsReportTarget, `${r.history.monthReportMedianMs} ms`);
  }
  if (r.setup) {
    for (const x of r.setup.apply ?? []) {
      if (x.meetsTarget !== undefined) add(`set-up of ${r.setup.hosts} hosts ≤ 2× (router's iptables-restore + one round trip), ${x.transport}, ${x.variant}`, x.meetsTarget, `${x.ratioToLimit}×`);
    }
    if (r.setup.reboot) add('re-install after a reboot ≤ one poll interval (listing + plan + apply)', r.setup.reboot.meetsTarget, `${r.setup.reboot.reinstallMedianMs} ms (with login and shell: ${r.setup.reboot.totalMedianMs} ms)`);
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
  if (lab) {
    const r = lab.refresh;
    out.push('## 1. Refresh latency (253 hosts, 506 rules, lab router)', '', ran(lab), '');
    out.push(`Lab router: ${lab.hosts} LAN hosts (every address of 198.51.100.0/24 but the router: 3 namespaces, the console, ${lab.hosts - 4} permanent ARP entries), iptables ${lab.backend}, lantop's flat rules installed by lantop. `
      + `Physical limit = the same listing (\`iptables -L -v -x -n --line-numbers\`, ${r.limit.listingBytes} bytes) run locally in the router namespace (${r.limit.localListingMedianMs} ms, timed by bash's EPOCHREALTIME) + one loopback round trip carrying that many bytes (${r.limit.loopbackRttListingMedianMs} ms; ${r.limit.loopbackRttSmallMedianMs} ms for 1 byte) = **${r.limit.limitMs} ms**. `
      + 'Seed procedure = a fresh login per command batch, two batches per refresh (`iptables -L TRAFFIC -v -x -n` and `lanhosts show all`; over SSH `cat /tmp/dhcp.leases`). The seed listed without `-n`; the lab has no resolver, so `-n` is added — that only makes the seed faster.', '');
    const rows: Array<Array<string | number>> = [];
    for (const p of ['telnet', 'ssh']) {
      const x = r[p];
      if (!x) continue;
      rows.push([p, `${x.lantopPollMedianMs} ms (${x.lantopPollRuns} polls, ${x.hostsRead} hosts read)`, `${x.seedRefreshMedianMs} ms (${x.seedRuns})`, `${r.limit.limitMs} ms`, `${x.ratioLantopToLimit}× (≤ 1.5×) ${yes(x.meetsLimitTarget)}`, `${x.ratioSeedToLantop}× (≥ 20×) ${yes(x.meetsSeedTarget)}`]);
    }
    out.push(table(['transport', 'lantop poll (persistent session)', 'seed refresh', 'limit', 'lantop / limit', 'seed / lantop'], rows), '');

    const t = lab.router;
    out.push('## 2. Router cost: forwarding throughput (lab router)', '', ran(lab), '');
    out.push(`Bounded TCP download from the ISP namespace to a LAN host (socat, /dev/zero → /dev/null; the oracle confirms every byte crossed the router), ${t.rounds} rounds with the three rule sets interleaved (switched with \`iptables-restore\` of the dumps lantop's own setup produced). `
      + `Rules installed by lantop in two setups so h1 is the first host in rule order and h3 the last (flat: h3's download rule is #${t.flat.positions.h3} of ${t.flat.rules}; split: h3 is #${t.split.positions.h3} of ${t.split.rules / 2 - 1} in TRAFFIC_DOWN). `
      + 'Two modes: **offload** — veth as it comes, GSO super-packets of up to 64 KB cross the router, so the rule walk is paid once per 64 KB (like a PC router); **per packet** — `gso_max_segs 1` on the ISP\'s interface, every ~1500-byte packet walks the rules on its own (like a consumer router\'s MIPS SoC without offloads; the case issue 6 is about).', '');
    const trow = (mode: string, name: string, label: string) => {
      const a = t.throughput[`${mode}/${name}/h3`];
      const b = t.throughput[`${mode}/${name}/h1`];
      if (!a || !b) return [label, '—', '—', '—', '—', '—'];
      return [label, `${a.medianMBps} MB/s`, `${a.percentOfNoRules}%`, `${b.medianMBps} MB/s`, `${b.percentOfNoRules}%`, name === 'split' ? `≥ 95% ${yes(a.percentOfNoRules >= 95)}` : '—'];
    };
    for (const [mode, title] of [['perPacket', 'per packet'], ['offload', 'offload']] as const) {
      const bytes = t.throughput[`${mode}/none/h3`]?.bytes;
      out.push(`**${title}** (${bytes ? bytes / 1e6 : '?'} MB per transfer)`, '');
      out.push(table(['rules', 'h3 (last host) median', '% of no rules', 'h1 (first host) median', '% of no rules', 'target'], [
        trow(mode, 'none', 'none'), trow(mode, 'flat', `flat (card layout), ${t.flat.rules} rules`), trow(mode, 'split', `split (optimised), ${t.split.rules} rules`),
      ]), '');
    }
    const c = (x: any) => Object.entries(x.counts.hosts).map(([h, v]: [string, any]) => `${h} ↓${v.lantopDown}/${v.oracleDown} ↑${v.lantopUp}/${v.oracleUp}`).join('; ');
    out.push(`**Counting** (lantop's per-host deltas vs the nftables oracle, bytes lantop/oracle, after transfers to h1 and h3): flat ${t.flat.counts.isIdentical ? 'identical' : 'DIFFERENT'} (${c(t.flat)}); split ${t.split.counts.isIdentical ? 'identical' : 'DIFFERENT'} (${c(t.split)}). Both layouts count exactly the oracle's bytes: **${t.countsIdentical ? 'yes' : 'no'}**.`, '');
  }

  const p = results.parse;
  if (p) {
    out.push('## 3. Parsing', '', ran(p), '');
    out.push('`parseIptablesListing` on generated `iptables -L -v -x -n --line-numbers` text (flat layout, 12-digit counters, lantop comment), median of many runs in one process.', '');
    out.push(table(['rules', 'text', 'parse median', 'parse + per-host counters', 'growth (per 10×)', 'target'], ['100', '1000', '10000'].map((k) => {
      const s = p.sizes[k];
      const growth = k === '1000' ? `${p.growth100to1k}×` : k === '10000' ? `${p.growth1kto10k}×` : '';
      return [s.rules, `${Math.round(s.textBytes / 1024)} KB`, `${s.parseMedianMs} ms (${s.runs} runs)`, `${s.parseAndCountersMedianMs} ms`, growth, k === '10000' ? `< 20 ms ${yes(p.meetsTarget)}` : ''];
    })), '');
  }

  const a = results.app;
  if (a) {
    out.push('## 4. The app', '', ran(a), '');
    out.push(table(['measure', 'median / value', 'target'], [
      ['first frame of `lantop demo` (tmux, spawn → first capture showing the menu, polled every 20 ms)', `${a.firstFrame.medianMs} ms (runs ${a.firstFrame.runsMs.join(', ')}); of which emulator start + rule set-up until the demo's notice: ${a.firstFrame.setupDoneMedianMs ?? '—'} ms`, `< 800 ms ${yes(a.firstFrame.meetsTarget)}`],
      [`live usage screen, ${a.live.hosts} emulated hosts, ${a.live.intervalMs} ms poll, ${a.live.seconds} s: CPU (Δ utime+stime / Δ wall)`, `${a.live.cpuPercentOfOneCore}% of one core`, `< 3% ${yes(a.live.meetsCpuTarget)}`],
      [`for comparison: the app against the already set-up 250-host emulator, spawn → menu (one run)`, `${a.live.menuAfterMs ?? '—'} ms`, ''],
      ['same: RSS (VmRSS start / end / max)', `${a.live.rssStartMB} / ${a.live.rssEndMB} / ${a.live.rssMaxMB} MB`, `< 120 MB ${yes(a.live.meetsRssTarget)}`],
    ]), '');
    out.push('The live app is bench/live-app.mjs: the same LiveRouterController + runApp (over dist/) that `lantop --host` builds, with the 1 s interval of `lantop demo` (the app has no --interval flag); the emulator (bench/emulator-250.mjs, 250 hosts, real-time traffic) runs in its own process, after `lantop setup --yes`.', '');
  }

  const h = results.history;
  if (h) {
    out.push('## 5. History', '', ran(h), '');
    out.push(`${h.hosts} hosts × ${h.days} days of per-minute polls (${h.polls} polls), written through the real path: Accountant.process → HistoryStore.recordPoll, one transaction per poll, retention ${h.retention}. Generating it took ${h.generateSeconds} s (${h.generateMsPerPoll} ms per poll).`, '');
    out.push(table(['measure', 'median', 'target'], [
      ['database file (+ WAL) after 30 days', `${h.dbMB} MB`, `< 100 MB ${yes(h.meetsSizeTarget)}`],
      [`poll processing on the full database: parse 254-host listing + accounting + write (${h.samplePolls} polls)`, `${h.pollTotalMedianMs} ms (parse ${h.pollParseMedianMs}, accounting ${h.pollAccountingMedianMs}, write ${h.pollWriteMedianMs})`, `< 5 ms ${yes(h.meetsPollTarget)}`],
      [`month report (hostTotals over 30 days, ${h.hostsInReport} hosts, ${h.monthReportRuns} runs)`, `${h.monthReportMedianMs} ms`, `< 100 ms ${yes(h.meetsReportTarget)}`],
    ]), '');
  }
  const st = results.setup;
  if (st) {
    out.push(`## 6. Set-up and re-install (${st.hosts} hosts, lab router)`, '', ran(st), '');
    out.push(`lantop's split set-up of ${st.hosts} hosts (198.51.100.1–254: ${st.commands} iptables commands, a ${st.scriptBytes}-byte \`iptables-restore\` script), applied by \`applyBatch\` (src/router/apply-batch.ts) over the transport's own sessions, each run from the boot firewall, iptables ${st.backend}. `
      + `Limit = the router's own \`iptables-restore --noflush\` of the same script in its namespace (${st.limit.localRestoreMs.medianMs} ms, timed by bash's EPOCHREALTIME) + one round trip (\`:\` over the session: telnet ${st.limit.telnetRttMs} ms, SSH ${st.limit.sshRttMs} ms) = **${st.limit.telnetLimitMs} ms** (telnet), **${st.limit.sshLimitMs} ms** (SSH); each variant's ratio uses the router's own restore run once before each of its runs (column "limit"), so drift on this shared machine hits both alike. `
      + `"default lines" = lines of at most ${st.defaultMaxLineBytes} bytes (${st.lines.restoreDefault} round trips), safe for BusyBox ash's line editor (OpenWrt keeps 510 bytes of a typed line, Debian's BusyBox 1022); "3000-byte lines" = what a shell without line editing takes (${st.lines.restore3000} round trip) — what \`maxLineBytesForShell\` picks for this lab's shell (\`readlink /proc/$$/exe\` → \`${st.shell?.exe ?? '?'}\` → ${st.shell?.maxLineBytes ?? '?'} bytes). Every variant leaves exactly the filter table the router's own restore leaves.`, '');
    out.push(table(['transport', 'how', 'round trips', 'median', 'of which planning the lines', 'runs', 'limit', '/ limit', 'target (≤ 2×)'], (st.apply ?? []).map((x: any) => [
      x.transport, `${x.variant} (${x.method})`, x.roundTrips, `${x.medianMs} ms`, x.planMedianMs === undefined ? '—' : `${x.planMedianMs} ms`, x.runsMs.length > 6 ? `${x.runsMs.length}` : x.runsMs.join(', '), `${x.limitMs} ms`, `${x.ratioToLimit}×`, x.meetsTarget === undefined ? '—' : yes(x.meetsTarget),
    ])), '');
    const b = st.reboot;
    if (b) {
      out.push(`**Re-install after \`lab.reboot()\`** (${b.runs.length} reboots; every router process killed, the boot firewall back, counters zero): from the daemons being back to lantop's jump in place — telnet login ${b.loginMedianMs} ms, the CLI's \`sh\` ${b.shellMedianMs} ms, then listing + plan + one batch **${b.reinstallMedianMs} ms** (${b.runs[0]?.roundTrips ?? '?'} round trips); in all ${b.totalMedianMs} ms. One poll interval is ${b.pollIntervalMs} ms: ${yes(b.meetsTarget)} (with login and shell: ${yes(b.meetsTotalTarget)}). Runs: ${b.runs.map((r: any) => `${r.totalMs} ms`).join(', ')}.`, '');
    }
  }

  out.push('## Targets', '', ...targetLines(results), '');
  if (closingNote) out.push('## Closing note', '', closingNote.trim(), '');
  return out.join('\n');
}
