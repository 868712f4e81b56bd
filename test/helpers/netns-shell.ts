// A router namespace's shell as a backend's `run` (src/router/backends/backend.ts RunCommand): ONE
// BusyBox ash for the whole test, stderr merged, each reply framed by an end marker. Shared by the
// netns tests of the backends (classes, custom counters, dual-stack apply).
import { spawn, type ChildProcess } from 'node:child_process';
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
