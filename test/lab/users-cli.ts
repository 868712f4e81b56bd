// The built CLI in users mode as the lab e2e tests drive it: `usage --json --watch` read line by
// line (one document per poll), with what it wrote on stderr kept for the failure message.
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export interface UsersDoc {
  mode: string;
  at: string;
  connection: string;
  hosts: Array<{ identity: string; hostname: string; downBytes: number; upBytes: number }>;
  users: Array<{ user: string; identity: string; downBytes: number; upBytes: number; sessions: number; sessionList: Array<{ id: string; port: number; live: boolean; downBytes: number; upBytes: number }> }>;
  excluded: { self: { ip: string; port: number } | null };
  notices: Array<{ level: string; text: string }>;
}

export type PerUser = Record<string, { downBytes: number; upBytes: number }>;

export class Watcher {
  readonly docs: UsersDoc[] = [];
  readonly stderr: string[] = [];
  private readonly child: ChildProcessByStdio<null, Readable, Readable>;
  private waiters: Array<() => void> = [];
  exited: number | null = null;

  constructor(argv: string[], env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    createInterface({ input: this.child.stdout }).on('line', (line) => {
      try {
        this.docs.push(JSON.parse(line) as UsersDoc);
      } catch {
        this.stderr.push(`(stdout) ${line}`);
      }
      for (const w of this.waiters.splice(0)) w();
    });
    this.child.stderr.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.child.on('exit', (code) => {
      this.exited = code ?? -1;
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The first document (from index `from`) that satisfies `pred`. */
  async waitFor(pred: (d: UsersDoc) => boolean, what: string, from = 0, timeoutMs = 30_000): Promise<UsersDoc> {
    const deadline = Date.now() + timeoutMs;
    for (let i = from; ; ) {
      for (; i < this.docs.length; i++) if (pred(this.docs[i]!)) return this.docs[i]!;
      if (this.exited !== null) throw new Error(`lantop exited (${this.exited}) waiting for ${what}\n${this.stderr.join('')}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(this.docs.at(-1))}\n${this.stderr.join('')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 500);
      });
    }
  }

  /** A poll that began after now (its `at` is when it was taken). */
  async next(what: string): Promise<UsersDoc> {
    const since = Date.now();
    return this.waitFor((d) => Date.parse(d.at) > since + 50, what, this.docs.length > 0 ? this.docs.length - 1 : 0);
  }

  async stop(): Promise<void> {
    if (this.exited !== null) return;
    const done = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await done;
    clearTimeout(timer);
  }
}

/** One run of the CLI to its exit (killed after 60 s): its code and what it wrote. */
export function runCliOnce(argv: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A document's per-user totals. */
export const perUserOf = (doc: UsersDoc): PerUser => Object.fromEntries(doc.users.map((u) => [u.user, { downBytes: u.downBytes, upBytes: u.upBytes }]));

/** b − a for each of `users` (0 where a user is absent). */
export function perUserDelta(a: PerUser, b: PerUser, users: readonly string[]): PerUser {
  return Object.fromEntries(users.map((u) => [u, { downBytes: (b[u]?.downBytes ?? 0) - (a[u]?.downBytes ?? 0), upBytes: (b[u]?.upBytes ?? 0) - (a[u]?.upBytes ?? 0) }]));
}

/** The oracle's per-user counts without the packets. */
export const bytesOnlyOf = (o: Record<string, { downBytes: number; upBytes: number }>): PerUser =>
  Object.fromEntries(Object.entries(o).map(([u, c]) => [u, { downBytes: c.downBytes, upBytes: c.upBytes }]));

/** iptables-save / ip6tables-save without counters and comment lines (they change with every packet and run). */
export const normalisedSave = (text: string): string => text.split('\n').filter((l) => !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/g, '[]')).join('\n');

/** `nft list ruleset` without counter values (packets/bytes move with every packet). */
export const normalisedRuleset = (text: string): string => text.replace(/counter packets \d+ bytes \d+/g, 'counter');

/** The argv and environment of the built CLI in users mode against a gateway lab, from the root namespace. */
export function usersCliArgs(cliPath: string, gatewayIp: string, dir: string, args: readonly string[]): string[] {
  return [cliPath, '--host', gatewayIp, '--protocol', 'ssh', '--user', 'root', '--mode', 'users', '--timeout', '10000', '--db', `${dir}/history.sqlite`, '--no-color', ...args];
}

export function usersCliEnv(password: string, dir: string): NodeJS.ProcessEnv {
  return { ...process.env, LANTOP_PASSWORD: password, LANTOP_CONFIG_DIR: `${dir}/config`, NO_COLOR: '1' };
}

/** One run of the CLI to its end (killed after timeoutMs). */
export function runUsersCli(argv: readonly string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
