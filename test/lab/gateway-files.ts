// The gateway's own files, in the lab's state dir: users (passwd, shadow, group, homes), /etc/ssh
// with Debian's sshd_config and a fresh host key, rsyslog's config, an empty /var/log, names and
// resolver, and the clients' known_hosts and askpass helper. The gateway's mount namespace
// (gateway-processes.ts) binds them over the machine's own paths; the machine's are never written.
import { chmodSync, chownSync, mkdirSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONSOLE_IP, GATEWAY_HOSTNAME, GW_CLIENT_IP, GW_CLIENT_IP6, GW_CONSOLE_IP, SERVER_IP, groupFile, passwdFile, rsyslogConfig, shadowFile, sshdConfig,
  type GatewayUser, type SyslogTemplate,
} from './gateway-model.js';
import type { IptablesBackend } from './lab-model.js';
import { BACKEND_BINARIES } from './lab-settings.js';
import { runOk } from './run-command.js';

export interface GatewayFilesSpec {
  dir: string;
  users: readonly GatewayUser[];
  rootPassword: string;
  template: SyslogTemplate;
  /** 'none': no iptables at all (an nftables-only gateway; see writeAlternatives). */
  backend: IptablesBackend | 'none';
  /** sshd listens on IPv6 as well (`AddressFamily any`). */
  ipv6: boolean;
}

/** Where the gateway's paths live on this machine (the binds of gateway-processes.ts). */
export function gatewayPaths(dir: string): Record<'etc' | 'ssh' | 'alternatives' | 'log' | 'home' | 'root' | 'tmp' | 'spool' | 'client', string> {
  return {
    etc: join(dir, 'etc'), ssh: join(dir, 'etc', 'ssh'), alternatives: join(dir, 'etc', 'alternatives'), log: join(dir, 'log'), home: join(dir, 'home'), root: join(dir, 'root'),
    tmp: join(dir, 'tmp'), spool: join(dir, 'rsyslog'), client: join(dir, 'client'),
  };
}

async function cryptHash(password: string): Promise<string> {
  return (await runOk(['openssl', 'passwd', '-6', '-stdin'], { input: `${password}\n` })).trim();
}

export async function writeGatewayFiles(spec: GatewayFilesSpec): Promise<void> {
  const paths = gatewayPaths(spec.dir);
  for (const path of Object.values(paths)) mkdirSync(path, { recursive: true });
  chmodSync(paths.tmp, 0o1777);
  chmodSync(paths.root, 0o700);
  mkdirSync(join(paths.ssh, 'sshd_config.d'), { recursive: true });
  writeFileSync(join(paths.etc, 'passwd'), passwdFile(spec.users));
  writeFileSync(join(paths.etc, 'group'), groupFile(spec.users));
  const hashes = [{ name: 'root', hash: await cryptHash(spec.rootPassword) }];
  for (const user of spec.users) hashes.push({ name: user.name, hash: await cryptHash(user.password) });
  writeFileSync(join(paths.etc, 'shadow'), shadowFile(hashes), { mode: 0o640 });
  writeFileSync(join(paths.etc, 'hosts'), [
    '127.0.0.1 localhost', `127.0.1.1 ${GATEWAY_HOSTNAME}`, `${GW_CLIENT_IP} gateway`, `${SERVER_IP} server`, `${CONSOLE_IP} console`, `${GW_CONSOLE_IP} gateway-console`, '',
  ].join('\n'));
  // Nothing listens on the namespace's loopback: a lookup (sshd's UseDNS is off; PAM, motd) fails at once.
  writeFileSync(join(paths.etc, 'resolv.conf'), 'nameserver 127.0.0.1\n');
  writeFileSync(join(paths.etc, 'hostname'), `${GATEWAY_HOSTNAME}\n`);
  for (const user of spec.users) {
    const home = join(paths.home, user.name);
    mkdirSync(home, { recursive: true });
    chownSync(home, user.uid, user.uid);
    chmodSync(home, 0o750);
  }
  writeAlternatives(paths.alternatives, spec.backend);
  writeFileSync(join(paths.ssh, 'sshd_config'), sshdConfig({ ipv6: spec.ipv6 }));
  const key = join(paths.ssh, 'ssh_host_ed25519_key');
  await runOk(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', `root@${GATEWAY_HOSTNAME}`, '-f', key]);
  writeFileSync(join(spec.dir, 'rsyslog.conf'), rsyslogConfig(paths.spool, spec.template));
  // The clients trust exactly this host key (StrictHostKeyChecking yes): no prompt, no file of the machine's.
  const publicKey = readFileSync(`${key}.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
  writeFileSync(join(paths.client, 'known_hosts'), `${GW_CLIENT_IP} ${publicKey}\n${GW_CLIENT_IP6} ${publicKey}\n${GW_CONSOLE_IP} ${publicKey}\n`);
  // ssh asks this program for the password (SSH_ASKPASS_REQUIRE=force): a password login without a tty or sshpass.
  writeFileSync(join(paths.client, 'askpass'), '#!/bin/sh\nprintf \'%s\\n\' "$LAB_SSH_PASSWORD"\n', { mode: 0o700 });
  chmodSync(join(paths.client, 'askpass'), 0o700);
}

/**
 * The gateway's /etc/alternatives: the machine's links, with `iptables`, `ip6tables` and their
 * -save/-restore pointing at the chosen backend, as `update-alternatives --set iptables
 * /usr/sbin/iptables-legacy` would make them on a Debian gateway. Any program in the gateway (sshd
 * sessions, lantop's commands, exec()) that runs `iptables` gets that backend, whatever its PATH.
 * 'none': those six names have no alternative at all, as after `apt purge iptables` on a gateway
 * that has only nftables: `/usr/sbin/iptables` (a link to /etc/alternatives/iptables) then points
 * nowhere, so `which iptables` prints nothing (exit 1) and running it fails "not found". The
 * machine's `/usr/sbin/iptables-nft`, `-legacy` and `xtables-*-multi` stay visible (a bind cannot
 * hide single files); nothing that probes for `iptables`/`ip6tables` by name finds them.
 */
function writeAlternatives(dir: string, backend: IptablesBackend | 'none'): void {
  const chosen: Record<string, string> = backend === 'none' ? {} : BACKEND_BINARIES[backend];
  const removed = new Set(backend === 'none' ? Object.keys(BACKEND_BINARIES.nft) : []);
  for (const name of readdirSync('/etc/alternatives')) {
    let target: string;
    try { target = readlinkSync(join('/etc/alternatives', name)); } catch { continue; }
    if (removed.has(name)) continue;
    symlinkSync(chosen[name] ?? target, join(dir, name));
  }
  for (const [name, target] of Object.entries(chosen)) {
    try { symlinkSync(target, join(dir, name)); } catch { /* made above */ }
  }
}
