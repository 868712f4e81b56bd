// A program in a real terminal: tmux gives it a pty (raw mode, alternate screen, resize), keys go
// in with send-keys and the screen comes out with capture-pane. After the program exits, the
// terminal mode is recorded (stty -a) so tests can check it was restored.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasTmux = spawnSync('tmux', ['-V']).status === 0;

export interface TmuxSession {
  keys(...keys: string[]): void;
  screen(): string;
  resize(columns: number, rows: number): void;
  waitFor(predicate: (screen: string) => boolean, what: string, timeoutMs?: number): Promise<string>;
  /** The program's exit code once it has exited (the string written by the wrapper). */
  exitCode(timeoutMs?: number): Promise<string>;
  stty(): string;
  close(): void;
}

/** Runs `command` (a shell command line built from trusted test strings) in a fresh tmux server. */
export function tmuxSession(name: string, command: string, size = { columns: 100, rows: 30 }): TmuxSession {
  const socket = `lantop-${process.pid}-${name}`;
  const dir = mkdtempSync(join(tmpdir(), 'lantop-tmux-'));
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  const exitFile = join(dir, 'exit-code');
  const sttyFile = join(dir, 'stty');
  // Ink renders only the final frame when CI is set (is-in-ci); CI runs these tests with CI=true,
  // but the terminal being emulated is a person's, which has no CI variable.
  const wrapped = `unset CI CONTINUOUS_INTEGRATION; ${command}; echo $? > ${exitFile}; stty -a > ${sttyFile}; sleep 30`;
  tmux('new-session', '-d', '-x', String(size.columns), '-y', String(size.rows), '-s', 'app', 'sh', '-c', wrapped);
  const screen = () => tmux('capture-pane', '-p', '-t', 'app');
  return {
    keys: (...keys) => void tmux('send-keys', '-t', 'app', ...keys),
    screen,
    resize: (columns, rows) => void tmux('resize-window', '-t', 'app', '-x', String(columns), '-y', String(rows)),
    async waitFor(predicate, what, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const current = screen();
        if (predicate(current)) return current;
        if (Date.now() > deadline) throw new Error(`tmux: timed out waiting for ${what}; screen:\n${current}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async exitCode(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      while (!existsSync(sttyFile) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      return existsSync(exitFile) ? readFileSync(exitFile, 'utf8').trim() : '(no exit code)';
    },
    stty: () => (existsSync(sttyFile) ? readFileSync(sttyFile, 'utf8') : ''),
    close() {
      spawnSync('tmux', ['-L', socket, 'kill-server']);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
