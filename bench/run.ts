// `npm run bench [-- --only refresh|router|parse|app|history|setup[,…]] [--quick] [--backend nft] [--report]`: runs the sections,
// merges their figures into bench/results.json and rewrites BENCHMARKS.md. refresh and router
// share one lab run (root required; `--only refresh` skips the forwarding transfers). Not part of `npm test`.
import { cpus, totalmem, release } from 'node:os';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { canRunLab } from '../test/lab/lab.js';
import { runLabBench } from './lab-bench.js';
import { runParseBench } from './parse-bench.js';
import { runAppBench } from './app-bench.js';
import { runHistoryBench } from './history-bench.js';
import { runSetupBench } from './setup-bench.js';
import { renderMarkdown, type Results } from './report.js';
import { withRouterFloors } from './router-cost-floor.js';
import { withSetupFloor } from './setup-floor.js';
import { log } from './util.js';

const SECTIONS = ['refresh', 'router', 'parse', 'app', 'history', 'setup'] as const;
type Section = (typeof SECTIONS)[number];
const ROOT = new URL('..', import.meta.url).pathname;
const RESULTS = `${ROOT}bench/results.json`;
const MARKDOWN = `${ROOT}BENCHMARKS.md`;
// Hand-written analysis of the latest full run (why a target is missed, what would fix it).
const NOTE = `${ROOT}bench/closing-note.md`;

function parseArgs(argv: string[]): { only: Set<Section>; isQuick: boolean; backend: 'legacy' | 'nft' } {
  let only = new Set<Section>(SECTIONS);
  let isQuick = false;
  let backend: 'legacy' | 'nft' = 'legacy';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const value = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : argv[i + 1];
    if (arg.startsWith('--only')) {
      if (!arg.includes('=')) i++;
      const names = (value ?? '').split(',').filter(Boolean);
      for (const n of names) if (!(SECTIONS as readonly string[]).includes(n)) throw new Error(`--only: unknown section '${n}' (${SECTIONS.join('|')})`);
      only = new Set(names as Section[]);
    } else if (arg.startsWith('--backend')) {
      if (!arg.includes('=')) i++;
      if (value !== 'legacy' && value !== 'nft') throw new Error('--backend: legacy or nft');
      backend = value;
    } else if (arg === '--quick') isQuick = true;
    else if (arg === '--report') only = new Set(); // re-render BENCHMARKS.md from results.json only
    else throw new Error(`unknown option ${arg}`);
  }
  return { only, isQuick, backend };
}

function machine(): Record<string, unknown> {
  const list = cpus();
  return {
    nproc: Number(execFileSync('nproc').toString().trim()), cpus: list.length, cpuModel: list[0]?.model.trim() ?? '?',
    memGB: Math.round(totalmem() / 1e9), kernel: release(), node: process.version,
  };
}

async function main(): Promise<number> {
  const { only, isQuick, backend } = parseArgs(process.argv.slice(2));
  const results: Results = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, 'utf8')) : {};
  if (only.size > 0) results.machine = machine();
  const stamp = () => new Date().toISOString();
  const onlyFlag = (s: string) => `npm run bench -- --only ${s}${backend !== 'legacy' ? ` --backend ${backend}` : ''}`;
  const save = () => {
    writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
    // The floors of sections 2 and 6 (router-cost-floor.ts, setup-floor.ts) are spliced into their sections.
    const markdown = renderMarkdown(results, existsSync(NOTE) ? readFileSync(NOTE, 'utf8') : undefined);
    writeFileSync(MARKDOWN, withSetupFloor(withRouterFloors(markdown, results.lab?.router), results.setup, results.lab?.router));
  };
  let failures = 0;
  const section = async (name: string, fn: () => Promise<void>) => {
    log(`section ${name}`);
    try {
      await fn();
      save();
    } catch (error) {
      failures++;
      log(`section ${name} FAILED: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
    }
  };

  if (only.has('refresh') || only.has('router')) {
    const check = canRunLab();
    if (!check.ok) {
      log(`refresh/router skipped: the lab cannot run here (${check.why}); run as root`);
      failures++;
    } else {
      const doRefresh = only.has('refresh');
      const doRouter = only.has('router');
      await section(`${[doRefresh ? 'refresh' : '', doRouter ? 'router' : ''].filter(Boolean).join('+')} (lab)`, async () => {
        const lab = await runLabBench({
          backend, doRefresh, doRouter, pollRuns: isQuick ? 10 : 40, seedRuns: isQuick ? 3 : 10, firstPollRuns: isQuick ? 3 : 10,
          transferBytes: isQuick ? 100_000_000 : 400_000_000, rounds: isQuick ? 1 : 5, doSsh: true, perPacketBytes: isQuick ? 20_000_000 : 100_000_000,
        });
        // Each section keeps its own stamp: `--only refresh` leaves the last router figures as they were.
        const { refresh, router, ...common } = lab;
        const previous = results.lab ?? {};
        results.lab = {
          ...previous, ...common,
          ...(refresh ? { refresh: { ...refresh, measuredAt: stamp(), command: onlyFlag('refresh') } } : {}),
          ...(router ? { router, measuredAt: stamp(), command: onlyFlag('router') } : {}),
        };
      });
    }
  }
  if (only.has('parse')) {
    await section('parse', async () => {
      results.parse = { ...(await runParseBench()), measuredAt: stamp(), command: onlyFlag('parse') };
    });
  }
  if (only.has('app')) {
    await section('app', async () => {
      results.app = { ...(await runAppBench({ firstFrameRuns: isQuick ? 3 : 5, liveSeconds: isQuick ? 20 : 600 })), measuredAt: stamp(), command: onlyFlag('app') };
    });
  }
  if (only.has('history')) {
    await section('history', async () => {
      results.history = { ...(await runHistoryBench({ days: isQuick ? 1 : 30, samplePolls: isQuick ? 30 : 200 })), measuredAt: stamp(), command: onlyFlag('history') };
    });
  }
  if (only.has('setup')) {
    const check = canRunLab();
    if (!check.ok) {
      log(`setup skipped: the lab cannot run here (${check.why}); run as root`);
      failures++;
    } else {
      await section('setup (lab)', async () => {
        results.setup = { ...(await runSetupBench({ backend, runs: isQuick ? 3 : 10, reboots: isQuick ? 2 : 5, doCliLineByLine: !isQuick })), measuredAt: stamp(), command: onlyFlag('setup') };
      });
    }
  }
  save();
  process.stdout.write(readFileSync(MARKDOWN, 'utf8'));
  return failures === 0 ? 0 : 1;
}

main().then((code) => process.exit(code), (error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(2);
});
