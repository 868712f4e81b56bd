// A router namespace's shell as a backend's `run` (src/router/backends/backend.ts RunCommand): ONE
// BusyBox ash for the whole test, stderr merged, each reply framed by an end marker. Shared by the
// netns tests of the backends (classes, custom counters, dual-stack apply).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import type { RunCommand } from '../../src/router/backends/backend.js';

const END = '@@END@@\n';

/** `children` collects the shell so the test's destroy() kills it with the rest. */
export function busyboxShell(ns: string, stepMs: number, children?: ChildProcess[]): RunCommand & { close(): void } {
  const child = spawn('ip', ['netns', 'exec', ns, 'busybox', 'sh'], { stdio: ['pipe', 'pipe', 'pipe'] });
  children?.push(child);
  let buffer = '';
  let waiting: ((text: string) => void) | null = null;
  const onData = (d: Buffer) => {
    buffer += d.toString('utf8');
    const end = buffer.indexOf(END);
    if (end >= 0 && waiting) {
      const reply = buffer.slice(0, end);
      buffer = buffer.slice(end + END.length);
      const w = waiting;
      waiting = null;
      w(reply.replace(/\n$/, ''));
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  child.stdin.write('exec 2>&1\n');
  const run = (({ command }) =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`shell: no reply to ${command.slice(0, 80)}`)), stepMs);
      waiting = (text) => {
        clearTimeout(timer);
        resolve(text);
      };
      child.stdin.write(`${command}\necho ${END.trim()}\n`);
    })) as RunCommand & { close(): void };
  run.close = () => {
    child.stdin.end();
    child.kill('SIGKILL');
  };
  return run;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One TCP connection from namespace `from` to `to`:`port`, served in namespace `server`: the client
 * sends `upBytes` and closes its side, the server answers `downBytes` and closes; resolves once
 * both ends are done and the last packets (ACKs, FINs) had time to pass. `children` collects the
 * server so the test's destroy() kills it with the rest.
 */
export async function tcpTransferBetween(
  options: { from: string; server: string; to: string; port: number; upBytes: number; downBytes: number; stepMs: number },
  children?: ChildProcess[],
): Promise<void> {
  const { from, server, to, port, upBytes, downBytes, stepMs } = options;
  const child = spawn('ip', ['netns', 'exec', server, process.execPath, '-e', `
    const s = require('net').createServer((c) => { let n = 0; c.on('data', (d) => { n += d.length; }); c.on('end', () => c.end(Buffer.alloc(${downBytes}, 120), () => console.log('got ' + n))); });
    s.listen(${port}, '${to.includes(':') ? '::' : '0.0.0.0'}', () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'pipe'] });
  children?.push(child);
  let said = '';
  child.stdout.on('data', (d: Buffer) => (said += d.toString()));
  child.stderr.on('data', (d: Buffer) => (said += d.toString()));
  try {
    for (let i = 0; !said.includes('ready'); i++) {
      if (i > 200) throw new Error(`server: ${said}`);
      await sleep(25);
    }
    const client = spawnSync('ip', ['netns', 'exec', from, process.execPath, '-e', `
      const c = require('net').connect(${port}, '${to}', () => c.end(Buffer.alloc(${upBytes}, 97)));
      let n = 0; c.on('data', (d) => { n += d.length; }); c.on('close', () => console.log('received ' + n));`], { encoding: 'utf8', timeout: stepMs });
    const out = (client.stdout ?? '') + (client.stderr ?? '');
    if (!out.includes(`received ${downBytes}`)) throw new Error(`client: ${out}`);
    for (let i = 0; !said.includes(`got ${upBytes}`); i++) {
      if (i > 200) throw new Error(`server: ${said}`);
      await sleep(25);
    }
    await sleep(300);
  } finally {
    child.kill('SIGKILL');
  }
}

/**
 * Why the namespaces cannot be made here (not root, a tool missing), or false. Under
 * LANTOP_REQUIRE_LAB=1 (CI) that is an error instead of a skip; `what` names the test in messages.
 */
export function netnsSkipReason(what: string, tools: readonly string[]): string | false {
  const why = process.getuid?.() !== 0 ? 'not root' : ['ip', 'busybox', ...tools].find((p) => spawnSync('sh', ['-c', `command -v ${p}`]).status !== 0);
  if (why === undefined) return false;
  const text = why === 'not root' ? why : `${why} is not installed`;
  if (process.env['LANTOP_REQUIRE_LAB'] === '1') throw new Error(`LANTOP_REQUIRE_LAB=1 but the ${what} netns test cannot run: ${text}`);
  process.stderr.write(`\n*** ${what.toUpperCase()} NETNS TESTS SKIPPED: ${text} ***\n\n`);
  return `cannot run: ${text}`;
}

/** Runs a command to its end (at most `stepMs`): its status and stdout + stderr. */
export function runSync(argv: readonly string[], stepMs: number, input?: string): { status: number | null; out: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', input: input ?? '', timeout: stepMs });
  return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** runSync that throws with the output unless the command succeeded. */
export function runSyncOk(argv: readonly string[], stepMs: number, input?: string): string {
  const r = runSync(argv, stepMs, input);
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.out}`);
  return r.out;
}
