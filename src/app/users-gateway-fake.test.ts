// A scripted Linux gateway for the users-mode app tests (users-controller.test.ts, users-app.test.tsx):
// sshd's auth log (the lab's capture's line formats, fixtures/iptables/1.8.9-legacy/
// users-chain-poll-answer.txt), `ss`, `ps`, lantop's own $SSH_CONNECTION, and iptables as the
// emulator's (src/emulator/iptables.ts, the 1.8.9-legacy dialect: the rules lantop sends are really
// added and deleted, the listings are printed as iptables prints them). A test sets the bytes a
// session's two rules counted. Each poll's answer is built per section marker in the command, so
// the commands are what lantop sends, not a copy; a command the gateway does not know fails the
// test (`unexpected`). IPv4 only (the emulator's iptables): the fake has no ip6tables.
// A `.test.ts` file with one self-check, so the architecture test and the build leave it out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createIptablesState, runIptables, type IptablesState } from '../emulator/iptables.js';
import { splitShellWords } from '../emulator/shell-words.js';
import { PassThrough } from 'node:stream';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import type { ConnectionState, Snapshot } from '../domain/snapshot.js';
import type { OpenRouter } from './open-router.js';
import { servicesOf, type Services } from './services.js';
import type { UsersController } from './users-controller.js';

export const GATEWAY_IP = '203.0.113.1';
const START = Date.UTC(2026, 11, 4, 12);

interface LiveSession {
  pid: number;
  user: string;
  ip: string;
  port: number;
}

const MARKER = /echo "__LT""UP_([0-9a-f]{12})_([a-z0-9]+)__([^"]*)"/g;
const LISTING = /(\S+) -L (\S+) -v -x -n --line-numbers( 2>&1)?/g;

export class FakeUsersGateway {
  readonly iptables: IptablesState = createIptablesState('1.8.9-legacy');
  readonly sent: string[] = [];
  readonly unexpected: string[] = [];
  /** lantop's own login as the gateway sees it; null: local mode. */
  self: { ip: string; port: number; pid: number } | null = { ip: '198.51.100.7', port: 50022, pid: 900 };
  /** The next this many polls fail (the line dropped); the session then reconnects. */
  failingPolls = 0;
  state: ConnectionState = { kind: 'connected' };
  isClosed = false;
  private log = '';
  private readonly inode = 4242;
  private readonly live = new Map<number, LiveSession>();
  private clock = 0;

  constructor() {
    this.line(800, 'Server listening on 0.0.0.0 port 22.');
    if (this.self) this.login('root', this.self.ip, this.self.port, this.self.pid);
  }

  private line(pid: number, text: string): void {
    this.clock += 1;
    this.log += `2026-12-04T19:03:${String(this.clock % 60).padStart(2, '0')}.000000+00:00 lantop-gw sshd[${pid}]: ${text}\n`;
  }

  login(user: string, ip: string, port: number, pid: number): void {
    this.line(pid, `Accepted password for ${user} from ${ip} port ${port} ssh2`);
    this.line(pid, `pam_unix(sshd:session): session opened for user ${user}(uid=1001) by (uid=0)`);
    this.live.set(pid, { pid, user, ip, port });
  }

  logout(pid: number): void {
    const s = this.live.get(pid);
    if (!s) throw new Error(`no session ${pid}`);
    this.line(pid, `Disconnected from user ${s.user} ${s.ip} port ${s.port}`);
    this.line(pid, `pam_unix(sshd:session): session closed for user ${s.user}`);
    this.live.delete(pid);
  }

  /** Adds bytes to the session's rules (down: gateway → client, in OUTPUT; up: client → gateway). */
  count(pid: number, downBytes: number, upBytes: number): void {
    const chain = this.iptables.tables.get('filter')!.chains.find((c) => c.name === 'LANTOP_USERS');
    const rules = chain?.rules.filter((r) => r.comment?.startsWith(`pid:${pid} `)) ?? [];
    if (rules.length !== 2) throw new Error(`session ${pid} has ${rules.length} rule(s), not 2`);
    for (const r of rules) {
      const bytes = BigInt(r.sourcePort === 22 ? downBytes : upBytes);
      r.bytes += bytes;
      r.packets += bytes > 0n ? 1n + bytes / 1400n : 0n;
    }
  }

  /** `iptables -S`: what the gateway's rules are now. */
  rules(): string {
    return runIptables(this.iptables, ['-S']).stdout;
  }

  /** The open router lantop gets (`services.open()`): this gateway behind a session. */
  router(): OpenRouter {
    const gateway = this;
    const session = {
      exec: (command: string) => gateway.exec(command),
      close: async () => {
        gateway.isClosed = true;
      },
      get state() {
        return gateway.state;
      },
    };
    const firmware = { family: 'linux', commands: { iptables: { command: 'iptables', binary: 'iptables', where: 'shell' }, ip6tables: null, nft: null }, capabilities: { shellLineBytes: null, nftOnly: false } };
    return { session, client: {}, firmware, label: `${GATEWAY_IP}:22 over ssh` } as unknown as OpenRouter;
  }

  async exec(command: string): Promise<string> {
    this.sent.push(command);
    if (command.includes('[ -r /var/log/auth.log ]')) return 'LOG=/var/log/auth.log\n';
    if (command.includes('"__LT""UP_')) {
      if (this.failingPolls > 0) {
        this.failingPolls -= 1;
        this.state = this.failingPolls > 0 ? { kind: 'reconnecting', inMs: 1000, reason: 'connection reset by peer' } : { kind: 'connected' };
        throw new Error('connection reset by peer');
      }
      return this.pollAnswer(command);
    }
    if (command.startsWith('_L=0;')) return this.batch(command);
    if (/^iptables -L INPUT /.test(command)) return this.listings(command);
    this.unexpected.push(command);
    throw new Error(`the fake gateway does not know: ${command}`);
  }

  private listings(text: string): string {
    let out = '';
    for (const m of text.matchAll(LISTING)) {
      if (m[1] !== 'iptables') continue;
      const r = runIptables(this.iptables, ['-L', m[2]!, '-v', '-x', '-n', '--line-numbers']);
      out += r.status === 0 ? r.stdout : m[3] ? r.stderr : '';
    }
    return out;
  }

  private pollAnswer(command: string): string {
    const markers = [...command.matchAll(MARKER)];
    let out = '';
    let branch: 'same' | 'fresh' = 'fresh';
    let offset = 0;
    for (const [i, m] of markers.entries()) {
      const [, nonce, name] = m;
      const segment = command.slice(m.index + m[0].length, markers[i + 1]?.index ?? command.length);
      const head = `__LTUP_${nonce}_${name}__`;
      switch (name) {
        case 'self':
          out += `${head}\n${this.self ? `${this.self.ip} ${this.self.port} ${GATEWAY_IP} 22` : ''}\n`;
          break;
        case 'stat': {
          const at = /\[ "\$_i" = (\d+) \] && \[ "\$_s" -ge (\d+) \]/.exec(segment);
          const size = Buffer.byteLength(this.log);
          offset = at ? Number(at[2]) : 0;
          branch = at && Number(at[1]) === this.inode && size >= offset ? 'same' : 'fresh';
          out += `${head} ${this.inode} ${size}\n`;
          break;
        }
        case 'same':
          if (branch === 'same') out += `${head}\n${Buffer.from(this.log).subarray(offset).toString()}`;
          break;
        case 'fresh':
          if (branch === 'fresh') out += `${head}\n${this.log}`;
          break;
        case 'rotated':
        case 'netstat':
          // Never printed here: the log is never rotated, and the gateway has ss (netstat is the fallback).
          break;
        case 'ss':
          out += `${head}\n${this.sessions().map((s) => `0      0      ${GATEWAY_IP}:22 ${s.ip}:${s.port} users:(("sshd",pid=${s.pid + 1},fd=4),("sshd",pid=${s.pid},fd=4))\n`).join('')}`;
          break;
        case 'ps':
          out += `${head}\n    1 /sbin/init\n${this.sessions().map((s) => `${String(s.pid).padStart(5)} sshd: ${s.user} [priv]\n${String(s.pid + 1).padStart(5)} sshd: ${s.user}\n`).join('')}`;
          break;
        case 'end':
          out += `${head}\n`;
          break;
        default:
          // A listing section (ipt4…): the iptables listings its commands ask for.
          out += `${head}\n${this.listings(segment)}`;
      }
    }
    return out;
  }

  private sessions(): LiveSession[] {
    return [...this.live.values()];
  }

  /** A shell batch: `_L=0;CMD&&_L=1&&CMD&&_L=2;echo "__LT""ST_<nonce>_a${_L}__"`, stopping at the first failure. */
  private batch(command: string): string {
    const tail = /;echo "__LT""ST_([0-9a-f]{12})_a\$\{_L\}__"$/.exec(command);
    if (tail === null) {
      this.unexpected.push(command);
      throw new Error(`the fake gateway cannot read this batch: ${command}`);
    }
    const parts = command.slice('_L=0;'.length, tail.index).split('&&').filter((p) => !/^_L=\d+$/.test(p));
    let done = 0;
    let said = '';
    for (const part of parts) {
      const words = splitShellWords(part).words;
      const r = words[0] === 'iptables' ? runIptables(this.iptables, words.slice(1)) : { status: 127, stdout: '', stderr: `sh: ${words[0]}: not found\n` };
      if (r.status !== 0) {
        said = r.stderr;
        break;
      }
      done += 1;
    }
    return `${said}__LTST_${tail[1]}_a${done}__\n`;
  }
}

/** Services on the fake gateway; the clock moves 100 ms each time it is read. */
export function gatewayServices(gateway: FakeUsersGateway, dbPath: string): Services {
  let t = START;
  const settings = resolveSettings({ host: GATEWAY_IP, protocol: 'ssh', port: 22, db: dbPath } as GlobalFlags, {}, undefined, 'default');
  return servicesOf({
    settings,
    profiles: null,
    password: { isKnown: true, get: async () => 'unused' },
    clock: { now: () => (t += 100) },
    io: { stdout: new PassThrough(), stderr: new PassThrough(), stdin: new PassThrough() },
    env: {},
    open: async () => gateway.router(),
  });
}

/** Resolves with the first snapshot that passes `isIt` (fails after 10 s with the last one seen). */
export function snapshotWhere(controller: UsersController, isIt: (s: Snapshot) => boolean): Promise<Snapshot> {
  return new Promise((resolve, reject) => {
    let last: Snapshot | null = null;
    let stop = () => undefined as void;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no such snapshot; last: ${JSON.stringify(last?.hosts.map((h) => [h.hostname, h.downBytes, h.upBytes]))} ${JSON.stringify(last?.connection)} ${JSON.stringify(last?.notices.map((n) => n.text))}`));
    }, 10_000);
    stop = controller.watch((s) => {
      last = s;
      if (!isIt(s)) return;
      clearTimeout(timer);
      queueMicrotask(() => stop());
      resolve(s);
    });
  });
}

test('the fake gateway adds and lists the rules it is sent', async () => {
  const gateway = new FakeUsersGateway();
  const answer = await gateway.exec(`_L=0;iptables -N LANTOP_USERS&&_L=1&&iptables -A LANTOP_USERS -s 203.0.113.10 -p tcp -m tcp --sport 40022 --dport 22 -m comment --comment 'pid:2345 user:_-odd-name$'&&_L=2;echo "__LT""ST_0123456789ab_a\${_L}__"`);
  assert.equal(answer, '__LTST_0123456789ab_a2__\n');
  assert.match(gateway.rules(), /--comment "pid:2345 user:_-odd-name\$"/);
});
