// The labs of this machine: prefixes that never collide, the console lock (one lab at a time owns
// 198.51.100.0/24 in the root namespace), and cleanup of everything a lab made — at stop(), at
// process exit or on a signal, and for labs of dead processes at the next start.
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LAB_NAMESPACE_PATTERN, labNames, labPrefix } from './lab-model.js';
import { CONSOLE_LOCK, LOCK_TIMEOUT_MS, STATE_ROOT } from './lab-settings.js';
import { LabError, runSyncQuiet, sleep } from './run-command.js';

/** A running lab, as the exit handlers see it. */
export interface DestroyableLab {
  destroySync(): void;
}

const activeLabs = new Set<DestroyableLab>();
let exitHandlersInstalled = false;

/** Registers a lab for destruction at process exit and on SIGINT/SIGTERM/SIGHUP. */
export function registerLab(lab: DestroyableLab): void {
  activeLabs.add(lab);
}

export function unregisterLab(lab: DestroyableLab): void {
  activeLabs.delete(lab);
}

export function installExitHandlers(): void {
  if (exitHandlersInstalled) return;
  exitHandlersInstalled = true;
  process.on('exit', destroyAllSync);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      destroyAllSync();
      process.removeListener(signal, handler);
      process.kill(process.pid, signal);
    };
    process.on(signal, handler);
  }
}

function destroyAllSync(): void {
  for (const lab of [...activeLabs]) lab.destroySync();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, 'owner'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** Removes everything a lab with this prefix may have left: processes, namespaces, console veth, state. */
export function destroyLabByPrefixSync(prefix: string): void {
  const names = labNames(prefix);
  const namespaces = runSyncQuiet(['ip', 'netns', 'list']).stdout
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter((ns) => LAB_NAMESPACE_PATTERN.exec(ns)?.[1] === prefix);
  for (const ns of namespaces) {
    for (const pid of runSyncQuiet(['ip', 'netns', 'pids', ns]).stdout.split('\n')) {
      if (/^\d+$/.test(pid)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* already gone */ }
      }
    }
  }
  runSyncQuiet(['ip', 'link', 'del', names.consoleIf]);
  for (const ns of namespaces) runSyncQuiet(['ip', 'netns', 'del', ns]);
  const dir = join(STATE_ROOT, prefix);
  rmSync(dir, { recursive: true, force: true });
  releaseConsoleLock(prefix);
}

export function cleanupStaleLabs(): void {
  if (!existsSync(STATE_ROOT)) return;
  for (const entry of readdirSync(STATE_ROOT)) {
    if (!/^lt\d{1,4}[a-z]$/.test(entry)) continue;
    const owner = readOwner(join(STATE_ROOT, entry));
    if (owner === undefined || !isAlive(owner)) destroyLabByPrefixSync(entry);
  }
  const lockOwner = readOwner(CONSOLE_LOCK);
  if (existsSync(CONSOLE_LOCK) && (lockOwner === undefined || !isAlive(lockOwner))) {
    rmSync(CONSOLE_LOCK, { recursive: true, force: true });
  }
}

// The console (198.51.100.254 + a route for 198.51.100.0/24 in the root namespace) can exist for
// one lab at a time on a machine: labs in parallel processes queue here, bounded by LOCK_TIMEOUT_MS.
export async function acquireConsoleLock(prefix: string): Promise<void> {
  mkdirSync(STATE_ROOT, { recursive: true });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let announced = false;
  for (;;) {
    const staging = join(STATE_ROOT, `.lock-${prefix}-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging);
    writeFileSync(join(staging, 'owner'), `${process.pid}\n${prefix}\n`);
    try {
      renameSync(staging, CONSOLE_LOCK); // atomic; fails while another lab holds the lock
      return;
    } catch {
      rmSync(staging, { recursive: true, force: true });
    }
    const owner = readOwner(CONSOLE_LOCK);
    if (owner === process.pid) throw new LabError('lab: this process already runs a lab; stop() it before starting another');
    if (owner !== undefined && !isAlive(owner)) {
      rmSync(CONSOLE_LOCK, { recursive: true, force: true });
      continue;
    }
    if (Date.now() > deadline) throw new LabError(`lab: another lab (pid ${owner}) held the console for ${LOCK_TIMEOUT_MS} ms`);
    if (!announced) {
      process.stderr.write(`lab ${prefix}: waiting for the lab of pid ${owner} to finish (one console at a time)\n`);
      announced = true;
    }
    await sleep(200);
  }
}

function releaseConsoleLock(prefix: string): void {
  try {
    const [pid, owner] = readFileSync(join(CONSOLE_LOCK, 'owner'), 'utf8').split('\n');
    if (Number(pid) === process.pid && owner === prefix) rmSync(CONSOLE_LOCK, { recursive: true, force: true });
  } catch { /* not held */ }
}

let labSerial = 0;

export function allocatePrefix(): string {
  const existing = runSyncQuiet(['ip', 'netns', 'list']).stdout;
  while (labSerial < 26) {
    const prefix = labPrefix(process.pid, labSerial++);
    if (!existing.includes(`${prefix}-`) && !existsSync(join(STATE_ROOT, prefix))) return prefix;
  }
  throw new LabError('lab: no free prefix left for this process (26 labs max)');
}
