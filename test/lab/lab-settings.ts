// Where the lab's programs and state live on this machine, its ports, and how long its steps may take.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IptablesBackend } from './lab-model.js';

const LAB_SOURCE_DIR = dirname(fileURLToPath(import.meta.url));
export const CLI_PATH = join(LAB_SOURCE_DIR, 'broadcom-cli.sh');
export const AGENT_PATH = join(LAB_SOURCE_DIR, 'traffic-agent.mjs');
export const RELAY_PATH = join(LAB_SOURCE_DIR, 'slow-relay.mjs');
/** The OpenWrt router's own files (lab-openwrt.ts): fw4, its ruleset, /etc texts from a 24.10 image. */
export const OPENWRT_SOURCE_DIR = join(LAB_SOURCE_DIR, 'openwrt');
export const FIXTURES_DIR = join(LAB_SOURCE_DIR, '..', '..', 'fixtures');
/** GNU inetutils' telnetd and inetd (Debian: inetutils-telnetd, which pulls in inetutils-inetd). */
export const INETUTILS_TELNETD = '/usr/sbin/telnetd';
export const INETUTILS_INETD = '/usr/sbin/inetutils-inetd';
/** Per-lab state (config files, the router's /tmp, host key). Outside /tmp on purpose: the router's
 * mount namespace bind-mounts its own /tmp over /tmp, which would hide a state dir living under it. */
export const STATE_ROOT = process.env['LANTOP_LAB_STATE'] ?? '/run/lantop-lab';
export const CONSOLE_LOCK = join(STATE_ROOT, 'console.lock');
export const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
export const TELNET_PORT = 23;
export const SSH_PORT = 22;
/** Where telnetd listens (loopback only) when the slow relay owns port 23. */
export const RELAYED_TELNET_PORT = 2323;
export const STEP_TIMEOUT_MS = 10_000;
export const DAEMON_START_TIMEOUT_MS = 5_000;
export const LOCK_TIMEOUT_MS = Number(process.env['LANTOP_LAB_LOCK_TIMEOUT_MS'] ?? 300_000);

export const BACKEND_BINARIES: Record<IptablesBackend, Record<string, string>> = {
  legacy: {
    iptables: '/usr/sbin/iptables-legacy',
    'iptables-save': '/usr/sbin/iptables-legacy-save',
    'iptables-restore': '/usr/sbin/iptables-legacy-restore',
    ip6tables: '/usr/sbin/ip6tables-legacy',
    'ip6tables-save': '/usr/sbin/ip6tables-legacy-save',
    'ip6tables-restore': '/usr/sbin/ip6tables-legacy-restore',
  },
  nft: {
    iptables: '/usr/sbin/iptables-nft',
    'iptables-save': '/usr/sbin/iptables-nft-save',
    'iptables-restore': '/usr/sbin/iptables-nft-restore',
    ip6tables: '/usr/sbin/ip6tables-nft',
    'ip6tables-save': '/usr/sbin/ip6tables-nft-save',
    'ip6tables-restore': '/usr/sbin/ip6tables-nft-restore',
  },
};
