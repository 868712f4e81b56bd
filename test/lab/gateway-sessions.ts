// SSH sessions of the gateway lab: Debian's OpenSSH client in a client's namespace logs in with a
// password (SSH_ASKPASS, no tty) and holds a `-D` (SOCKS) or `-L` forward open with `-N`; the lab
// learns the connection's local port from `ss` in the client (the oracle's key) and, at the end,
// waits until the gateway has let go of the connection before taking the final reading.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { GW_CLIENT_IP, GW_CLIENT_IP6, SERVER_IP, SSH_PORT, parseSs, type AddressFamily, type SocketLine } from './gateway-model.js';
import { STEP_TIMEOUT_MS, SYSTEM_PATH } from './lab-settings.js';
import { LabError, runOk, waitFor } from './run-command.js';

export type TunnelKind = 'D' | 'L';

export interface SessionSpec {
  id: number;
  clientNs: string;
  /** The client's address of this session's family (what the gateway sees as the peer). */
  clientIp: string;
  /** 6: ssh connects to the gateway's 2001:db8:ff::1 (the lab's `ipv6` path). */
  family: AddressFamily;
  user: string;
  password: string;
  tunnel: TunnelKind;
  /** The lab's client files (known_hosts, askpass). */
  clientDir: string;
}

/** Waits for `exited` at most `ms`, without leaving a timer behind that keeps the process alive. */
export async function exitedOrTimeout(exited: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([exited, new Promise<void>((resolve) => { timer = setTimeout(resolve, ms); })]);
  clearTimeout(timer);
}

export async function socketsIn(ns: string): Promise<SocketLine[]> {
  return parseSs(await runOk(['ip', 'netns', 'exec', ns, 'ss', '-tanpH'], { timeoutMs: STEP_TIMEOUT_MS }));
}

/** One running `ssh -N -D|-L` from a client to the gateway. */
export class SshTunnel {
  readonly forwardPort: number;
  /** `-L` only: the server port the forward leads to (198.51.100.20:serverPort). */
  readonly serverPort: number | undefined;
  /** The client's TCP port of the SSH connection (what `Accepted … port N` names). */
  localPort = 0;
  readonly child: ChildProcess;
  /** The gateway's address this session connects to (203.0.113.1 or 2001:db8:ff::1). */
  readonly gatewayIp: string;
  private stderr = '';

  constructor(readonly spec: SessionSpec) {
    this.forwardPort = (spec.tunnel === 'D' ? 11000 : 21000) + spec.id;
    this.serverPort = spec.tunnel === 'L' ? 31000 + spec.id : undefined;
    this.gatewayIp = spec.family === 6 ? GW_CLIENT_IP6 : GW_CLIENT_IP;
    const forward = spec.tunnel === 'D'
      ? ['-D', `127.0.0.1:${this.forwardPort}`]
      : ['-L', `127.0.0.1:${this.forwardPort}:${SERVER_IP}:${this.serverPort}`];
    // -F none: no config of the machine's; the lab's known_hosts only (never ~/.ssh); password only.
    const argv = [
      '/usr/bin/ssh', '-N', '-F', 'none', ...forward,
      '-o', `UserKnownHostsFile=${join(spec.clientDir, 'known_hosts')}`, '-o', 'GlobalKnownHostsFile=/dev/null',
      '-o', 'StrictHostKeyChecking=yes', '-o', 'UpdateHostKeys=no', '-o', 'CheckHostIP=no',
      '-o', 'PreferredAuthentications=password', '-o', 'PubkeyAuthentication=no', '-o', 'KbdInteractiveAuthentication=no',
      '-o', 'NumberOfPasswordPrompts=1', '-o', 'ExitOnForwardFailure=yes', '-o', 'ControlMaster=no', '-o', 'ControlPath=none',
      '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR',
      '-l', spec.user, '-p', String(SSH_PORT), this.gatewayIp,
    ];
    this.child = spawn('setpriv', ['--pdeathsig', 'KILL', '--', 'ip', 'netns', 'exec', spec.clientNs, ...argv], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: {
        PATH: SYSTEM_PATH, LC_ALL: 'C', SSH_ASKPASS: join(spec.clientDir, 'askpass'), SSH_ASKPASS_REQUIRE: 'force', LAB_SSH_PASSWORD: spec.password,
      },
    });
    this.child.unref();
    this.child.stderr!.on('data', (chunk: Buffer) => { this.stderr = (this.stderr + chunk.toString()).slice(-2000); });
    (this.child.stderr as unknown as { unref?: () => void }).unref?.();
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Resolves once authenticated (ssh opens its forward's listener only then) with the local port. */
  async ready(timeoutMs = 15_000): Promise<void> {
    const pid = this.child.pid;
    if (pid === undefined) throw new LabError('gateway lab: ssh did not start');
    const port = await waitFor(`ssh session ${this.spec.id} (${this.spec.user}) logged in`, async () => {
      if (!this.running) throw new LabError(`gateway lab: ssh for ${JSON.stringify(this.spec.user)} exited ${this.child.exitCode ?? this.child.signalCode}: ${this.stderr.trim()}`);
      const sockets = await socketsIn(this.spec.clientNs);
      const listening = sockets.some((s) => s.state === 'LISTEN' && s.local.port === this.forwardPort && s.pids.includes(pid));
      const connection = sockets.find((s) => s.state === 'ESTAB' && s.peer.ip === this.gatewayIp && s.peer.port === SSH_PORT && s.pids.includes(pid));
      return listening && connection ? connection.local.port : undefined;
    }, timeoutMs, 50);
    this.localPort = port;
  }

  /** SIGTERM (ssh exits and closes the connection) or SIGKILL (`abrupt`: the kernel closes it). */
  async stop(abrupt: boolean): Promise<void> {
    if (this.running) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill(abrupt ? 'SIGKILL' : 'SIGTERM');
      await exitedOrTimeout(exited, STEP_TIMEOUT_MS);
      if (this.running) this.child.kill('SIGKILL');
    }
  }

  /** Until the gateway has no socket of this connection but TIME-WAIT (sshd closed its end). */
  async gatewayReleased(gatewayNs: string, timeoutMs = 15_000): Promise<void> {
    await waitFor(`the gateway to close session ${this.spec.id}`, async () => {
      const open = (await socketsIn(gatewayNs)).filter((s) => s.local.port === SSH_PORT && s.peer.ip === this.spec.clientIp
        && s.peer.port === this.localPort && s.state !== 'TIME-WAIT');
      return open.length === 0 ? true : undefined;
    }, timeoutMs, 50);
  }

  killSync(): void {
    if (this.running) this.child.kill('SIGKILL');
  }
}
