// Section 4: the app under tmux. First frame of `lantop demo` (spawn → the first capture showing
// lantop's connect screen) and the menu after it; CPU and RSS of the live usage screen with 250
// hosts at 1 Hz (10 minutes in a full run, RSS sampled every second so "no growth" is a slope),
// and the floors under it, measured in the same run: the same app without a screen (polls and
// history only), Node alone, Node + Ink with one <Text>, Ink writing a full screen of new text
// once a second without lantop, and the same frames written without Ink (bench/ink-floor.mjs) —
// which is how the live screen draws now (src/ui/terminal-surface.ts): the app's floor is the
// headless one plus Ink idle.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log, median, round, runProgram, sleep } from './util.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLK_TCK = 100;
// A private tmux server: the bench never touches the user's sessions.
const TMUX = ['-L', `lantop-bench-${process.pid}`];

export const APP_TARGETS = { firstFrameMs: 500, cpuPercent: 2, rssMB: 100, growthMBPer10Min: 5 } as const;

async function tmux(args: string[], timeoutMs = 5_000): Promise<string> {
  const r = await runProgram(['tmux', ...TMUX, ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

async function capture(session: string): Promise<string> {
  return (await runProgram(['tmux', ...TMUX, 'capture-pane', '-p', '-t', session], { timeoutMs: 2_000 })).stdout;
}

async function waitFor(session: string, pattern: RegExp, timeoutMs: number, pollMs = 20): Promise<number | null> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (pattern.test(await capture(session))) return performance.now();
    await sleep(pollMs);
  }
  return null;
}

async function killSession(session: string): Promise<void> {
  await runProgram(['tmux', ...TMUX, 'kill-session', '-t', session], { timeoutMs: 5_000 }).catch(() => undefined);
}

/** A shell in a fresh pane of the given size; `command` is typed into it (so the clock starts at Enter). */
async function openPane(session: string, columns: number, rows: number): Promise<void> {
  await tmux(['new-session', '-d', '-s', session, '-x', String(columns), '-y', String(rows), 'sh']);
  await sleep(100);
}

/**
 * Spawn → first capture-pane that shows the connect screen (the first frame, drawn before Ink
 * loads: src/ui/first-frame.ts) and → the menu (after login). The pane is created before the clock
 * starts. stderr goes to a file: its first line ("lantop demo: an emulated …") is written once
 * the demo's emulator is up, which splits the time into emulator start and app start.
 */
async function firstFrame(run: number): Promise<{ firstFrameMs: number; menuMs: number; setupDoneMs: number | null }> {
  const session = `ff-${run}`;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-bench-ff-'));
  const stderrFile = join(dir, 'stderr');
  try {
    await openPane(session, 120, 40);
    const t0 = performance.now();
    await tmux(['send-keys', '-t', session, `cd ${ROOT} && LANTOP_CONFIG_DIR=${dir} exec node dist/cli.js demo 2>${stderrFile}`, 'Enter']);
    let setupDoneMs: number | null = null;
    let firstFrameMs: number | null = null;
    while (performance.now() - t0 < 15_000) {
      if (setupDoneMs === null && existsSync(stderrFile) && statSync(stderrFile).size > 0) setupDoneMs = performance.now() - t0;
      const screen = await capture(session);
      if (firstFrameMs === null && /Connecting to|connected to/.test(screen)) firstFrameMs = performance.now() - t0;
      if (/connected to/.test(screen)) return { firstFrameMs: firstFrameMs ?? performance.now() - t0, menuMs: performance.now() - t0, setupDoneMs };
      await sleep(10);
    }
    throw new Error(`first frame: no menu within 15 s:\n${await capture(session)}`);
  } finally {
    await killSession(session);
    rmSync(dir, { recursive: true, force: true });
  }
}

function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime + stime (fields 14 and 15)
}

function rssMB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : Number.NaN;
}

/** Least-squares slope of y over x. */
function slope(xs: readonly number[], ys: readonly number[]): number {
  const n = xs.length;
  if (n < 2) return Number.NaN;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i]!;
    sy += ys[i]!;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i]! - mx) * (ys[i]! - my);
    den += (xs[i]! - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

export interface ProcessSample {
  seconds: number;
  cpuPercentOfOneCore: number;
  rssStartMB: number;
  rssEndMB: number;
  rssMaxMB: number;
  rssMedianMB: number;
  /** Least-squares RSS slope over the whole window, as MB per 10 minutes. */
  rssSlopeMBPer10Min: number;
  /** Median RSS of the first and of the last minute (of the first and last fifth when shorter). */
  rssFirstMedianMB: number;
  rssLastMedianMB: number;
  /** One RSS sample per 10 s (MB), for the record. */
  rssEvery10sMB: number[];
}

/** CPU (Δ utime+stime / Δ wall) and RSS once a second for `seconds`. */
async function sampleProcess(pid: number, seconds: number): Promise<ProcessSample> {
  const cpu0 = cpuTicks(pid);
  const w0 = performance.now();
  const times: number[] = [];
  const rss: number[] = [];
  const take = () => {
    times.push((performance.now() - w0) / 60_000);
    rss.push(rssMB(pid));
  };
  take();
  for (let s = 0; s < seconds; s++) {
    // Towards each whole second since the start (setTimeout rounds, so never "what is left of this one").
    await sleep(Math.max(1, w0 + (s + 1) * 1_000 - performance.now()));
    take();
  }
  const cpu1 = cpuTicks(pid);
  const wallS = (performance.now() - w0) / 1000;
  const edge = Math.max(1, Math.min(60, Math.floor(rss.length / 5)));
  return {
    seconds: round(wallS, 1),
    cpuPercentOfOneCore: round((100 * (cpu1 - cpu0)) / CLK_TCK / wallS, 2),
    rssStartMB: round(rss[0]!, 1),
    rssEndMB: round(rss.at(-1)!, 1),
    rssMaxMB: round(Math.max(...rss), 1),
    rssMedianMB: round(median(rss), 1),
    rssSlopeMBPer10Min: round(slope(times, rss) * 10, 2),
    rssFirstMedianMB: round(median(rss.slice(0, edge)), 1),
    rssLastMedianMB: round(median(rss.slice(-edge)), 1),
    rssEvery10sMB: rss.filter((_, i) => i % 10 === 0).map((v) => round(v, 1)),
  };
}

/** Waits until the process is gone; SIGKILL after `ms`. */
async function waitGone(pid: number, ms: number): Promise<void> {
  const alive = () => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const t0 = performance.now();
  while (alive() && performance.now() - t0 < ms) await sleep(100);
  if (alive()) {
    process.kill(pid, 'SIGKILL');
    while (alive() && performance.now() - t0 < ms + 2_000) await sleep(50);
  }
}

/** Runs `command` in a pane until `ready` shows, settles, then samples the pane's process. */
async function measurePane(name: string, command: string, ready: RegExp, options: { seconds: number; settleMs: number; keys?: string; columns?: number; rows?: number }): Promise<ProcessSample & { screen: string; readyAfterMs: number }> {
  const session = `m-${name}`;
  let pid: number | null = null;
  try {
    await openPane(session, options.columns ?? 160, options.rows ?? 50);
    const a0 = performance.now();
    await tmux(['send-keys', '-t', session, command, 'Enter']);
    const a1 = await waitFor(session, ready, 30_000);
    if (a1 === null) throw new Error(`${name}: never ready:\n${await capture(session)}`);
    if (options.keys) await tmux(['send-keys', '-t', session, options.keys]);
    await sleep(options.settleMs);
    const screen = await capture(session);
    pid = Number((await tmux(['display-message', '-p', '-t', session, '#{pane_pid}'])).trim()); // `exec node …`: the pane's pid is the program
    const sample = await sampleProcess(pid, options.seconds);
    return { ...sample, screen, readyAfterMs: round(a1 - a0, 0) };
  } finally {
    await killSession(session);
    // The next pane must not meet this one's process (its router session, its history lease).
    if (pid !== null) await waitGone(pid, 10_000);
  }
}

async function startEmulator(): Promise<{ port: number; stop(): Promise<void> }> {
  const emulator = spawn('node', [join(ROOT, 'bench/emulator-250.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('emulator did not start in 15 s')), 15_000);
    emulator.stdout!.on('data', (d: Buffer) => {
      const m = /PORT (\d+)/.exec(d.toString());
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
  });
  return {
    port,
    async stop() {
      emulator.stdin!.end();
      const exited = new Promise((resolve) => emulator.once('exit', resolve));
      await Promise.race([exited, sleep(3_000)]);
      if (emulator.exitCode === null) emulator.kill('SIGKILL');
    },
  };
}

const pick = ({ screen: _screen, rssEvery10sMB: _every, ...rest }: ProcessSample & { screen: string }) => rest;

async function liveUsage(seconds: number, floorSeconds: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-bench-live-'));
  const emulator = await startEmulator();
  try {
    const db = join(dir, 'history.sqlite');
    const env = { ...process.env, LANTOP_PASSWORD: 'admin', LANTOP_CONFIG_DIR: dir, LANTOP_DB: db };
    const setup = await runProgram(['node', join(ROOT, 'dist/cli.js'), '--host', '127.0.0.1', '--port', String(emulator.port), 'setup', '--yes'], { timeoutMs: 120_000, env });
    if (setup.code !== 0) throw new Error(`setup --yes failed: ${setup.stderr}`);
    const app = (flags: string) => `cd ${ROOT} && LANTOP_PASSWORD=admin LANTOP_DB=${db} exec node ${process.env.LANTOP_BENCH_PROF_DIR ? `--cpu-prof --cpu-prof-dir=${process.env.LANTOP_BENCH_PROF_DIR} ` : ''}bench/live-app.mjs ${emulator.port}${flags}`;
    // Let the screen and the history settle (first polls, first discovery), then measure.
    const live = await measurePane('live', app(''), /connected to/, { seconds, settleMs: 5_000, keys: '2' });
    const rows = live.screen.split('\n').filter((l) => /198\.51\.100\.|\d+(\.\d+)? ?[KMG]?B\/s/.test(l)).length;
    log(`app: live ${live.seconds} s: ${live.cpuPercentOfOneCore}% of a core, RSS ${live.rssStartMB} → ${live.rssEndMB} MB (max ${live.rssMaxMB}, slope ${live.rssSlopeMBPer10Min} MB/10 min); floors for ${floorSeconds} s each`);
    const headless = await measurePane('headless', app(' --headless'), /headless: connected/, { seconds: floorSeconds, settleMs: 5_000 });
    const floor = (mode: string) => measurePane(`ink-${mode}`, `cd ${ROOT} && exec node bench/ink-floor.mjs ${mode}`, new RegExp(`ink-floor ${mode}: ready`), { seconds: floorSeconds, settleMs: 2_000 });
    const bare = await floor('bare');
    const inkEmpty = await floor('empty');
    const inkFrames = await floor('frames');
    const direct = await floor('direct');
    const isLong = live.seconds >= 120;
    return {
      hosts: 250, intervalMs: 1000, menuAfterMs: live.readyAfterMs, visibleRowsWithData: rows, ...pick(live), rssEvery10sMB: live.rssEvery10sMB,
      meetsCpuTarget: live.cpuPercentOfOneCore < APP_TARGETS.cpuPercent,
      meetsRssTarget: live.rssMaxMB < APP_TARGETS.rssMB,
      // A slope needs minutes: a 10 s run sees one GC's sawtooth, not a trend.
      meetsGrowthTarget: isLong ? live.rssSlopeMBPer10Min < APP_TARGETS.growthMBPer10Min : undefined,
      floors: { headless: pick(headless), nodeBare: pick(bare), inkEmpty: pick(inkEmpty), inkFrames: pick(inkFrames), directFrames: pick(direct) },
    };
  } finally {
    await emulator.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runAppBench(options: { firstFrameRuns: number; liveSeconds: number }): Promise<Record<string, unknown>> {
  // The app runs from dist/ (the shipped build); `npm install` builds it (prepare), `npm run build` refreshes it.
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first');
  try {
    const frames: number[] = [];
    const menus: number[] = [];
    const setups: number[] = [];
    for (let i = 0; i < options.firstFrameRuns; i++) {
      const f = await firstFrame(i);
      frames.push(f.firstFrameMs);
      menus.push(f.menuMs);
      if (f.setupDoneMs !== null) setups.push(f.setupDoneMs);
    }
    log(`app: first frame ${frames.map((f) => round(f, 0)).join(', ')} ms, menu ${menus.map((f) => round(f, 0)).join(', ')} ms; live usage for ${options.liveSeconds} s`);
    const live = await liveUsage(options.liveSeconds, Math.min(60, Math.max(10, Math.round(options.liveSeconds / 10))));
    return {
      targets: APP_TARGETS,
      firstFrame: {
        medianMs: round(median(frames), 0), runsMs: frames.map((f) => round(f, 0)),
        menuMedianMs: round(median(menus), 0), menuRunsMs: menus.map((f) => round(f, 0)),
        setupDoneMedianMs: round(median(setups), 0), meetsTarget: median(frames) < APP_TARGETS.firstFrameMs,
      },
      live,
    };
  } finally {
    await runProgram(['tmux', ...TMUX, 'kill-server'], { timeoutMs: 5_000 }).catch(() => undefined);
  }
}
