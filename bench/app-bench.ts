// Section 4: the app under tmux. First frame of `lantop demo` (spawn → first capture showing the
// menu), and CPU/RSS of the live usage screen with 250 hosts at 1 Hz over 60 s.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { log, median, round, runProgram, sleep } from './util.js';

const ROOT = new URL('..', import.meta.url).pathname;
const CLK_TCK = 100;

async function tmux(args: string[], timeoutMs = 5_000): Promise<string> {
  const r = await runProgram(['tmux', ...args], { timeoutMs });
  if (r.code !== 0) throw new Error(`tmux ${args[0]} failed: ${r.stderr}`);
  return r.stdout;
}

async function capture(session: string): Promise<string> {
  return (await runProgram(['tmux', 'capture-pane', '-p', '-t', session], { timeoutMs: 2_000 })).stdout;
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
  await runProgram(['tmux', 'kill-session', '-t', session], { timeoutMs: 5_000 }).catch(() => undefined);
}

/**
 * Spawn → first capture-pane that shows the menu; the pane is created before the clock starts.
 * stderr goes to a file: its first line ("lantop demo: an emulated …") is written once the demo's
 * emulator is up and its rules are set up, which splits the time into set-up and app start.
 */
async function firstFrame(run: number): Promise<{ menuMs: number; setupDoneMs: number | null }> {
  const session = `lantop-bench-ff-${process.pid}-${run}`;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-bench-ff-'));
  const stderrFile = join(dir, 'stderr');
  try {
    await tmux(['new-session', '-d', '-s', session, '-x', '120', '-y', '40', 'sh']);
    await sleep(100);
    const t0 = performance.now();
    await tmux(['send-keys', '-t', session, `cd ${ROOT} && LANTOP_CONFIG_DIR=${dir} exec node dist/cli.js demo 2>${stderrFile}`, 'Enter']);
    let setupDoneMs: number | null = null;
    while (performance.now() - t0 < 15_000) {
      if (setupDoneMs === null && existsSync(stderrFile) && statSync(stderrFile).size > 0) setupDoneMs = performance.now() - t0;
      if (/connected to/.test(await capture(session))) return { menuMs: performance.now() - t0, setupDoneMs };
      await sleep(20);
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

async function livePid(session: string): Promise<number> {
  const pane = Number((await tmux(['display-message', '-p', '-t', session, '#{pane_pid}'])).trim());
  return pane; // the pane runs `exec node …`: the pane's pid is the app
}

async function liveUsage(seconds: number): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'lantop-bench-live-'));
  const emulator = spawn('node', [join(ROOT, 'bench/emulator-250.mjs')], { stdio: ['pipe', 'pipe', 'inherit'] });
  const session = `lantop-bench-live-${process.pid}`;
  try {
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
    const env = { ...process.env, LANTOP_PASSWORD: 'admin', LANTOP_CONFIG_DIR: dir, LANTOP_DB: join(dir, 'history.sqlite') };
    const setup = await runProgram(['node', join(ROOT, 'dist/cli.js'), '--host', '127.0.0.1', '--port', String(port), 'setup', '--yes'], { timeoutMs: 120_000, env });
    if (setup.code !== 0) throw new Error(`setup --yes failed: ${setup.stderr}`);
    await tmux(['new-session', '-d', '-s', session, '-x', '160', '-y', '50', 'sh']);
    await sleep(100);
    const a0 = performance.now();
    await tmux(['send-keys', '-t', session, `cd ${ROOT} && LANTOP_PASSWORD=admin LANTOP_DB=${join(dir, 'history.sqlite')} exec node bench/live-app.mjs ${port}`, 'Enter']);
    const a1 = await waitFor(session, /connected to/, 30_000);
    if (a1 === null) throw new Error(`live: no menu:\n${await capture(session)}`);
    await tmux(['send-keys', '-t', session, '2']);
    // Let the screen and the history settle (first polls, first discovery), then measure.
    await sleep(5_000);
    const screen = await capture(session);
    const pid = await livePid(session);
    const cpu0 = cpuTicks(pid);
    const rss0 = rssMB(pid);
    const w0 = performance.now();
    let rssMax = rss0;
    for (let s = 0; s < seconds; s++) {
      await sleep(1_000);
      rssMax = Math.max(rssMax, rssMB(pid));
    }
    const cpu1 = cpuTicks(pid);
    const rss1 = rssMB(pid);
    const wallS = (performance.now() - w0) / 1000;
    const cpuPercent = (100 * (cpu1 - cpu0)) / CLK_TCK / wallS;
    const rows = screen.split('\n').filter((l) => /198\.51\.100\.|\d+(\.\d+)? ?[KMG]?B\/s/.test(l)).length;
    return {
      hosts: 250, intervalMs: 1000, menuAfterMs: round(a1 - a0, 0), seconds: round(wallS, 1), cpuPercentOfOneCore: round(cpuPercent, 2),
      rssStartMB: round(rss0, 1), rssEndMB: round(rss1, 1), rssMaxMB: round(rssMax, 1), visibleRowsWithData: rows,
      meetsCpuTarget: cpuPercent < 3, meetsRssTarget: rssMax < 120,
    };
  } finally {
    await killSession(session);
    emulator.stdin!.end();
    const exited = new Promise((resolve) => emulator.once('exit', resolve));
    await Promise.race([exited, sleep(3_000)]);
    if (emulator.exitCode === null) emulator.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function runAppBench(options: { firstFrameRuns: number; liveSeconds: number }): Promise<Record<string, unknown>> {
  // The app runs from dist/ (the shipped build); `npm install` builds it (prepare), `npm run build` refreshes it.
  if (!existsSync(join(ROOT, 'dist/cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const frames: number[] = [];
  const setups: number[] = [];
  for (let i = 0; i < options.firstFrameRuns; i++) {
    const f = await firstFrame(i);
    frames.push(f.menuMs);
    if (f.setupDoneMs !== null) setups.push(f.setupDoneMs);
  }
  log(`app: first frame ${frames.map((f) => round(f, 0)).join(', ')} ms; live usage for ${options.liveSeconds} s`);
  const live = await liveUsage(options.liveSeconds);
  return {
    firstFrame: { medianMs: round(median(frames), 0), setupDoneMedianMs: round(median(setups), 0), runsMs: frames.map((f) => round(f, 0)), meetsTarget: median(frames) < 800 },
    live,
  };
}
