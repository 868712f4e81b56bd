// Starts a REAL dropbear (Debian dropbear-bin) on 127.0.0.1 for SSH tests, in the foreground, with
// a host key generated into a temp dir. Password auth needs a user with a known password without
// touching the system: dropbear runs inside `unshare --mount` (private propagation) with temp
// copies of /etc/passwd, /etc/shadow and /etc/shells bind-mounted over the real ones; the mounts
// vanish with the process. Requires root (the tests run as root) and /usr/sbin/dropbear.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DROPBEAR = '/usr/sbin/dropbear';
export const DROPBEARKEY = '/usr/bin/dropbearkey';

export interface DropbearOptions {
  user?: string;
  password?: string;
  /** The user's login shell: '/bin/sh' (default) or a script path (e.g. a fake vendor CLI). */
  loginShell?: string;
  /** Write this as the login shell script (made executable) instead of using loginShell. */
  loginShellScript?: string;
  hostKeyType?: 'ed25519' | 'rsa' | 'ecdsa';
}

export interface RunningDropbear {
  port: number;
  user: string;
  password: string;
  dir: string;
  /** What dropbear wrote to stderr so far (for failure messages). */
  log(): string;
  /** The host key fingerprint as dropbearkey prints it (`SHA256:…`). */
  fingerprint: string;
  stop(): Promise<void>;
}

/** Why dropbear cannot run here, or null when it can. */
export function dropbearUnavailableReason(): string | null {
  if (!existsSync(DROPBEAR) || !existsSync(DROPBEARKEY)) return 'dropbear-bin is not installed';
  if (process.getuid?.() !== 0) return 'needs root (unshare --mount, bind mounts)';
  const probe = spawnSync('unshare', ['--mount', 'true']);
  if (probe.status !== 0) return 'unshare --mount is not permitted here';
  if (spawnSync('openssl', ['version']).status !== 0) return 'openssl is needed to hash the test password';
  return null;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * dropbear serves each connection in a re-executed child (`dropbear … -2 <fd>`) in its own session,
 * which a kill of the listener's group misses: one whose client vanished lingers until TCP gives up
 * and keeps the test run waiting. Every such process carries this instance's host key path.
 */
function killConnectionProcesses(hostKey: string): void {
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] === DROPBEAR && argv.includes(hostKey)) process.kill(Number(entry), 'SIGKILL');
    } catch {
      /* exited meanwhile */
    }
  }
}

const USER_ID = 4242;

export async function startDropbear(options: DropbearOptions = {}): Promise<RunningDropbear> {
  const user = options.user ?? 'lantop';
  const password = options.password ?? 'correct horse';
  const dir = mkdtempSync(join(tmpdir(), 'lantop-dropbear-'));
  chmodSync(dir, 0o755);
  let child: ChildProcess | undefined;
  try {
    const home = join(dir, 'home');
    mkdirSync(home);
    chownSync(home, USER_ID, USER_ID);
    let loginShell = options.loginShell ?? '/bin/sh';
    if (options.loginShellScript !== undefined) {
      loginShell = join(dir, 'login-shell');
      writeFileSync(loginShell, options.loginShellScript, { mode: 0o755 });
    }
    const hostKey = join(dir, 'host_key');
    const keygen = spawnSync(DROPBEARKEY, ['-t', options.hostKeyType ?? 'ed25519', '-f', hostKey]);
    if (keygen.status !== 0) throw new Error(`dropbearkey failed: ${keygen.stderr.toString()}`);
    const fingerprint = /Fingerprint: (SHA256:\S+)/.exec(spawnSync(DROPBEARKEY, ['-y', '-f', hostKey]).stdout.toString())?.[1];
    if (!fingerprint) throw new Error('dropbearkey -y printed no fingerprint');
    const hash = spawnSync('openssl', ['passwd', '-6', '-stdin'], { input: password + '\n' }).stdout.toString().trim();
    if (!hash.startsWith('$6$')) throw new Error('openssl passwd -6 failed');
    writeFileSync(join(dir, 'passwd'), readFileSync('/etc/passwd', 'utf8').trimEnd() + `\n${user}:x:${USER_ID}:${USER_ID}:lantop test:${home}:${loginShell}\n`);
    writeFileSync(join(dir, 'shadow'), readFileSync('/etc/shadow', 'utf8').trimEnd() + `\n${user}:${hash}:19000:0:99999:7:::\n`, { mode: 0o640 });
    writeFileSync(join(dir, 'shells'), readFileSync('/etc/shells', 'utf8').trimEnd() + `\n${loginShell}\n`);

    let stderr = '';
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const port = await freePort();
      const script = [
        'set -e',
        `mount --bind '${dir}/passwd' /etc/passwd`,
        `mount --bind '${dir}/shadow' /etc/shadow`,
        `mount --bind '${dir}/shells' /etc/shells`,
        `exec ${DROPBEAR} -F -E -m -r '${hostKey}' -p 127.0.0.1:${port} -P '${dir}/dropbear.pid'`,
      ].join('\n');
      child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
      });
      let hasExited = false;
      child.once('exit', () => {
        hasExited = true;
      });
      for (let wait = 0; wait < 100 && !hasExited; wait += 1) {
        if (await isListening(port)) {
          const running = child;
          return {
            port,
            user,
            password,
            dir,
            log: () => stderr,
            fingerprint,
            stop: async () => {
              if (running.exitCode === null && running.pid !== undefined) {
                const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
                try {
                  process.kill(-running.pid, 'SIGTERM');
                } catch {
                  /* already gone */
                }
                await Promise.race([exited, sleep(2000)]);
                if (running.exitCode === null) {
                  try {
                    process.kill(-running.pid, 'SIGKILL');
                  } catch {
                    /* already gone */
                  }
                }
              }
              killConnectionProcesses(hostKey);
              rmSync(dir, { recursive: true, force: true });
            },
          };
        }
        await sleep(50);
      }
      if (!hasExited && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    }
    throw new Error(`dropbear did not start: ${stderr}`);
  } catch (error) {
    if (child?.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}

/**
 * A login shell that behaves like a vendor CLI (`ATP>`): refuses `-c` (exec), offers `sh`. Any other
 * command gets Huawei ATP's published answer, `Command failed.` (fixtures/huawei-atp/hg655d/).
 */
export const VENDOR_CLI_LOGIN_SHELL = `#!/bin/sh
if [ "$1" = "-c" ]; then
  echo "Unable to exec: this CLI accepts no command line"
  exit 1
fi
printf 'Welcome to the ATP command line\\n'
while true; do
  printf 'ATP>'
  IFS= read -r line || exit 0
  case "$line" in
    sh|shell) PS1='# ' exec /bin/sh -i ;;
    "arp show") printf 'IP address       HW address\\n198.51.100.2     00:11:22:33:44:55\\n' ;;
    exit|quit) exit 0 ;;
    "") ;;
    *) printf 'Command failed.\\n' ;;
  esac
done
`;
