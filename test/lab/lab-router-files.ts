// The router's own files, in the lab's state dir: the lab's iptables backend first in PATH, the
// login shell wrapper, the CLI and its published texts, the telnet login program, users (passwd,
// shadow, shells), names and resolver, the SSH host key, and the lease tables. The router's mount
// namespace (lab-router-processes.ts) binds them over the machine's own files.
import { copyFileSync, chmodSync, mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { CONSOLE_IP, ROUTER_LAN_IP, formatDnsmasqLeases, formatLanhostsTable, type IptablesBackend, type LabLease } from './lab-model.js';
import { BACKEND_BINARIES, CLI_PATH, FIXTURES_DIR, INETUTILS_TELNETD, RELAY_PATH, SYSTEM_PATH } from './lab-settings.js';
import { OPENWRT_SHELL } from './lab-openwrt.js';
import { writeOpenwrtFiles } from './lab-router-openwrt.js';
import { CLI_TEXTS, cliEnvironment, type RouterProfile } from './lab-variants.js';
import { runOk, runSyncQuiet } from './run-command.js';

export interface RouterFilesSpec {
  /** The lab's state dir. */
  dir: string;
  backend: IptablesBackend;
  shell: 'plain' | 'busybox';
  user: string;
  password: string;
  banner: string;
  profile: RouterProfile;
  /** For /etc/hosts. */
  hosts: ReadonlyArray<{ name: string; ip: string }>;
}

/** The CLI script telnetd's login program runs (a copy: see writeRouterFiles). */
export const cliProgramPath = (dir: string): string => join(dir, 'broadcom-cli.sh');
/** What telnetd runs for a session: the CLI with its settings. */
export const loginProgramPath = (dir: string): string => join(dir, 'cli-login');

export async function writeRouterFiles(spec: RouterFilesSpec): Promise<void> {
  const { dir, user, password } = spec;
  const bin = join(dir, 'bin');
  mkdirSync(bin, { recursive: true });
  for (const [name, target] of Object.entries(BACKEND_BINARIES[spec.backend])) symlinkSync(target, join(bin, name));
  const routerSh = join(dir, 'router-sh');
  // dropbear clears the environment and runs the login shell: this wrapper gives it the lab's
  // PATH (backend-specific iptables first) and a BusyBox `# ` prompt, as on the real router.
  const busyboxVersion = /BusyBox v[^ ]+/.exec(runSyncQuiet(['busybox']).stdout)?.[0] ?? 'BusyBox';
  writeFileSync(routerSh, [
    '#!/bin/sh',
    `PATH=${shellQuote(`${bin}:${SYSTEM_PATH}`)}; export PATH`,
    "PS1='# '; export PS1",
    'unset ENV',
    ...(spec.shell === 'busybox'
      ? ['exec /bin/busybox sh "$@"']
      : [
        // dash is an ash like BusyBox's, without line editing: cooked pty, kernel echo, plain
        // `# ` prompt, as the old BusyBox shells of Broadcom firmware behave.
        'if [ $# -eq 0 ]; then',
        `  printf '\\n\\n%s built-in shell (ash)\\nEnter %s for a list of built-in commands.\\n\\n' ${shellQuote(busyboxVersion)} "'help'"`,
        '  exec /bin/dash -i',
        'fi',
        'exec /bin/dash "$@"',
      ]),
    '',
  ].join('\n'));
  chmodSync(routerSh, 0o755);
  // The login program runs inside the router's mount namespace, whose /tmp is the router's own:
  // a checkout under /tmp (CI clones anywhere) would be hidden there, so telnetd gets a copy.
  copyFileSync(RELAY_PATH, join(dir, 'slow-relay.mjs'));
  copyFileSync(CLI_PATH, cliProgramPath(dir));
  chmodSync(cliProgramPath(dir), 0o755);
  const texts = join(dir, 'texts');
  mkdirSync(texts, { recursive: true });
  for (const [name, fixture] of Object.entries(CLI_TEXTS)) copyFileSync(join(FIXTURES_DIR, fixture), join(texts, name));
  // The telnet server runs this wrapper: inetutils telnetd scrubs the environment of its login
  // program, so the CLI's settings travel in the file (root-only: it holds the lab password).
  const settings: Record<string, string> = {
    PATH: `${join(dir, 'bin')}:${SYSTEM_PATH}`, LC_ALL: 'C', HOME: '/tmp',
    LAB_USER: user, LAB_PASSWORD: password, LAB_LANHOSTS: join(dir, 'lanhosts.tsv'),
    LAB_ROUTER_SH: routerSh, LAB_BANNER: spec.banner, LAB_TEXTS: texts, ...cliEnvironment(spec.profile),
  };
  writeFileSync(loginProgramPath(dir), [
    '#!/bin/sh',
    ...Object.entries(settings).map(([name, value]) => `${name}=${shellQuote(value)}; export ${name}`),
    `exec /bin/bash ${shellQuote(cliProgramPath(dir))}`,
    '',
  ].join('\n'), { mode: 0o700 });
  chmodSync(loginProgramPath(dir), 0o700);
  if (spec.profile.telnetd === 'inetutils') {
    // Debian's own inetd.conf line for telnetd (update-inetd), with the CLI as login program.
    writeFileSync(join(dir, 'inetd.conf'), `telnet stream tcp nowait root ${INETUTILS_TELNETD} telnetd -E ${loginProgramPath(dir)}\n`);
  }
  const etc = join(dir, 'etc');
  mkdirSync(etc, { recursive: true });
  {
    // Every variant: the router's own names and a resolver on its loopback (where a real router
    // runs dnsmasq; nothing listens here, so a lookup fails at once). Without this, `arp show` in
    // a shell looks up the host "show" via the machine's nameserver, which the namespace must
    // never contact (network rule), and waits 10 s for it.
    const names = ['127.0.0.1 localhost', `127.0.1.1 ${hostname()}`, `${ROUTER_LAN_IP} router`, `${CONSOLE_IP} console`, ...spec.hosts.map((h) => `${h.ip} ${h.name}`)];
    writeFileSync(join(etc, 'hosts'), `${names.join('\n')}\n`);
    writeFileSync(join(etc, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  }
  const hash = (await runOk(['openssl', 'passwd', '-6', '-stdin'], { input: `${password}\n` })).trim();
  // OpenWrt: every login runs BusyBox ash with OpenWrt's /etc/profile (lab-openwrt.ts), home /root.
  const openwrt = spec.profile.firmware === 'openwrt';
  const loginShell = openwrt ? OPENWRT_SHELL : routerSh;
  const users = user === 'root' ? [] : [`${user}:x:0:0:Administrator:${openwrt ? '/root' : '/tmp'}:${loginShell}`];
  writeFileSync(join(etc, 'passwd'), [
    `root:x:0:0:root:/root:${user === 'root' ? loginShell : '/bin/sh'}`, ...users,
    'nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin', '',
  ].join('\n'));
  writeFileSync(join(etc, 'shadow'), [
    `root:${user === 'root' ? hash : '*'}:19000:0:99999:7:::`,
    ...(user === 'root' ? [] : [`${user}:${hash}:19000:0:99999:7:::`]),
    'nobody:*:19000:0:99999:7:::', '',
  ].join('\n'), { mode: 0o640 });
  writeFileSync(join(etc, 'shells'), ['/bin/sh', '/bin/bash', '/bin/dash', '/bin/ash', routerSh, ''].join('\n'));
  if (openwrt) writeOpenwrtFiles(dir);
  mkdirSync(join(dir, 'tmp'), { recursive: true });
  chmodSync(join(dir, 'tmp'), 0o1777);
  await runOk(['dropbearkey', '-t', 'ed25519', '-f', join(dir, 'dropbear_ed25519_host_key')]);
}

/** The lease tables as the router shows them: /tmp/dhcp.leases (dnsmasq) and the CLI's lanhosts table. */
export function writeLeaseFiles(dir: string, profile: RouterProfile, leases: readonly LabLease[]): void {
  const now = Math.floor(Date.now() / 1000);
  const dnsmasq = formatDnsmasqLeases(leases, now);
  const table = formatLanhostsTable(leases, now);
  // ssh-no-leases: the router's shell has no dnsmasq lease file at all (the CLI's table stays).
  if (profile.leaseFile) writeAtomic(join(dir, 'tmp', 'dhcp.leases'), dnsmasq);
  else rmSync(join(dir, 'tmp', 'dhcp.leases'), { force: true });
  writeAtomic(join(dir, 'lanhosts.tsv'), table);
}

function writeAtomic(path: string, data: Buffer): void {
  const temp = `${path}.new`;
  writeFileSync(temp, data);
  renameSync(temp, path);
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
