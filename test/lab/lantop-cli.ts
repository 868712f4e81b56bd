// Drives the REAL lantop binary (`node dist/cli.js …`, built by `npm run build`) against a lab
// router: one config dir and one history DB per instance, every run bounded by a deadline and its
// output kept for failure messages. Shared by e2e.test.ts and compat-matrix.test.ts.
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Lab } from './lab.js';

const ROOT = new URL('../..', import.meta.url).pathname;
/** LANTOP_CLI runs another build (e.g. one of a given commit) against the lab. */
export const CLI_PATH = process.env['LANTOP_CLI'] ?? join(ROOT, 'dist', 'cli.js');

export type Protocol = 'telnet' | 'ssh';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface UsageJson {
  connection: string;
  pollLatencyMs: number | null;
  totals: { downBytes: number; upBytes: number };
  hosts: Array<{ ip: string; mac: string | null; hostname: string | null; downBytes: number; upBytes: number; downBps: number; upBps: number; downShare: number; upShare: number; counted: boolean }>;
  notices: Array<{ level: string; text: string }>;
}

export interface HostsJson {
  hosts: Array<{ ip: string; mac: string | null; hostname: string | null; iface: string | null; counted: boolean }>;
}

export interface ReportJson {
  totals: { downBytes: number; upBytes: number };
  hosts: Array<{ identity: string; ip: string; mac: string | null; hostname: string | null; downBytes: number; upBytes: number }>;
}

/** A lantop invocation context: one config dir and one history DB (history continues across runs). */
export class Cli {
  readonly dir = mkdtempSync(join(tmpdir(), 'lantop-e2e-'));
  readonly db = join(this.dir, 'history.sqlite');
  constructor(
    private readonly lab: Lab,
    readonly protocol: Protocol,
    readonly timeoutMs = 5000,
  ) {}

  argv(args: readonly string[]): string[] {
    const port = this.protocol === 'ssh' ? this.lab.sshPort : this.lab.telnetPort;
    return [CLI_PATH, '--host', this.lab.routerIp, '--port', String(port), '--protocol', this.protocol, '--user', this.lab.user, '--timeout', String(this.timeoutMs), '--db', this.db, '--wan', 'ppp0', '--no-color', ...args];
  }

  env(): NodeJS.ProcessEnv {
    return { ...process.env, LANTOP_PASSWORD: this.lab.password, LANTOP_CONFIG_DIR: join(this.dir, 'config'), LANTOP_DB: this.db, NO_COLOR: '1' };
  }

  /** Runs lantop to completion (bounded). */
  run(args: readonly string[], timeoutMs = 30_000): Promise<Run> {
    return collect(spawn(process.execPath, this.argv(args), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  }

  /** Runs lantop under a pseudo-terminal (util-linux `script`), so it renders its human tables. */
  runTty(args: readonly string[], timeoutMs = 30_000): Promise<Run> {
    const quoted = this.argv(args).map((a) => `'${a.replace(/'/g, `'\\''`)}'`);
    const command = `stty cols 120; ${quoted.length ? `'${process.execPath}' ${quoted.join(' ')}` : ''}`;
    return collect(spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { ...this.env(), TERM: 'dumb' }, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
  }

  async ok(args: readonly string[], timeoutMs?: number): Promise<Run> {
    const r = await this.run(args, timeoutMs);
    assert.equal(r.code, 0, `lantop ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\n${this.lab.diagnostics()}`);
    return r;
  }

  async usage(extra: readonly string[] = ['--count', '1']): Promise<UsageJson> {
    const r = await this.ok(['usage', '--json', ...extra]);
    return JSON.parse(r.stdout) as UsageJson;
  }

  /**
   * `usage --watch --json` in the background: `during` runs once the first snapshot arrived;
   * then the watch is stopped (SIGTERM) once `until` holds for the snapshots so far (or at `count`).
   */
  async watch(options: { intervalMs: number; count: number; during: () => Promise<void>; until: (lines: UsageJson[]) => boolean; timeoutMs: number }): Promise<{ lines: UsageJson[]; run: Run }> {
    const child = spawn(process.execPath, this.argv(['usage', '--watch', '--json', '--interval', String(options.intervalMs), '--count', String(options.count)]), { env: this.env(), stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: UsageJson[] = [];
    let buffered = '';
    let stderr = '';
    let duringStarted = false;
    let duringDone: Promise<void> = Promise.resolve();
    let duringFinished = false;
    let stopped = false;
    let failure: unknown = null;
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString('utf8')));
    child.stdout.on('data', (b: Buffer) => {
      buffered += b.toString('utf8');
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() === '') continue;
        lines.push(JSON.parse(line) as UsageJson);
      }
      if (!duringStarted && lines.length > 0) {
        duringStarted = true;
        duringDone = options.during().then(
          () => {
            duringFinished = true;
          },
          (error: unknown) => {
            failure = error;
            duringFinished = true;
          },
        );
      }
      if (duringFinished && !stopped && options.until(lines)) {
        stopped = true;
        child.kill('SIGTERM');
      }
    });
    const code = await closed;
    clearTimeout(timer);
    await duringDone;
    if (failure) throw failure;
    return { lines, run: { code, stdout: '', stderr } };
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function byIp<T extends { ip: string }>(rows: readonly T[]): Map<string, T> {
  return new Map(rows.map((r) => [r.ip, r]));
}

/** Waits for a child (killed after timeoutMs) and returns its exit code and output. */
function collect(child: ChildProcessByStdio<null, Readable, Readable>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}
