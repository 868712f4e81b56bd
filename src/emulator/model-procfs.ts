// The kernel files of the emulated router that issue 19's features read (and the one sysctl they
// write), shared by every persona's shell: /proc/net/nf_conntrack, /proc/sys/net/netfilter/
// nf_conntrack_{acct,count}, /proc/net/dev and /sys/class/net/<if>/…. Pure.

import type { RouterModel } from './model.js';
import { formatProcNetConntrack } from './model-conntrack-format.js';
import { writeConntrackAcct } from './model-conntrack.js';
import { formatProcNetDev, isSysClassNetDir, readSysClassNet } from './model-netdev.js';

export const CONNTRACK_ACCT_PATH = '/proc/sys/net/netfilter/nf_conntrack_acct';

/** The file's text, or null when the router has no such file. */
export function readKernelFile(model: RouterModel, path: string): string | null {
  switch (path) {
    case '/proc/net/nf_conntrack':
      return formatProcNetConntrack(model);
    case CONNTRACK_ACCT_PATH:
      return model.conntrack.isAcctOn ? '1\n' : '0\n';
    case '/proc/sys/net/netfilter/nf_conntrack_count':
      return `${model.conntrack.connections.length}\n`;
    case '/proc/net/dev':
      return formatProcNetDev(model);
    default:
      return path.startsWith('/sys/class/net/') ? readSysClassNet(model, path) : null;
  }
}

export function isKernelDir(model: RouterModel, path: string): boolean {
  return ['/proc/sys', '/proc/sys/net', '/proc/sys/net/netfilter'].includes(path) || isSysClassNetDir(model, path);
}

/**
 * A write through a shell redirection: 'ok', 'invalid' (the kernel refused the value: EINVAL), or
 * 'none' when the path is not a writable kernel file. The shell truncates first (an empty write).
 */
export function writeKernelFile(model: RouterModel, path: string, text: string): 'ok' | 'invalid' | 'none' {
  if (path !== CONNTRACK_ACCT_PATH) return 'none';
  return writeConntrackAcct(model, text) ? 'ok' : 'invalid';
}
