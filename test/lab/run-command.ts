// Running programs for the lab: always an argument array (never a shell string), always a deadline.
import { spawn, spawnSync } from 'node:child_process';

export interface ExecResult {
  /** Exit code; 128+signal when killed; 124 when the deadline killed it (as timeout(1) does). */
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  timeoutMs?: number;
  input?: string | Buffer;
  env?: NodeJS.ProcessEnv;
}

const DEFAULT_TIMEOUT_MS = 15_000;
const MAX_OUTPUT_BYTES = 32 * 1024 * 1024;

export class LabError extends Error {
  override readonly name = 'LabError';
}

export function run(argv: readonly string[], options: RunOptions = {}): Promise<ExecResult> {
  const [file, ...args] = argv;
  if (!file) return Promise.reject(new LabError('run: empty argv'));
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    const keep = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_OUTPUT_BYTES) into.push(chunk);
    };
    child.stdout.on('data', keep(out));
    child.stderr.on('data', keep(err));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new LabError(`cannot run ${file}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? 124 : code ?? 128 + (signal ? signalNumber(signal) : 0),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      });
    });
    child.stdin.on('error', () => { /* the program may exit without reading its input */ });
    child.stdin.end(options.input ?? '');
  });
}

/** Like run(), but a non-zero exit is an error carrying the command and its stderr. */
export async function runOk(argv: readonly string[], options: RunOptions = {}): Promise<string> {
  const result = await run(argv, options);
  if (result.code !== 0) {
    const why = result.timedOut ? `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : `exit ${result.code}`;
    throw new LabError(`lab command failed (${why}): ${argv.join(' ')}\n${result.stderr.trim()}`);
  }
  return result.stdout;
}

/** Synchronous, never throws: for cleanup paths (process exit handlers cannot await). */
export function runSyncQuiet(argv: readonly string[], timeoutMs = 5_000): { code: number; stdout: string } {
  const [file, ...args] = argv;
  if (!file) return { code: -1, stdout: '' };
  const result = spawnSync(file, args, { timeout: timeoutMs, killSignal: 'SIGKILL', encoding: 'utf8' });
  return { code: result.status ?? -1, stdout: result.stdout ?? '' };
}

function signalNumber(signal: NodeJS.Signals): number {
  const numbers: Partial<Record<NodeJS.Signals, number>> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };
  return numbers[signal] ?? 0;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `check` every `intervalMs` until it returns a value other than undefined, or throws at the deadline. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, intervalMs = 25): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() >= deadline) throw new LabError(`lab: timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}
