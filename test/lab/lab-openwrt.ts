// The OpenWrt router of the lab (variant 'openwrt-fw4'), pure part: what its filesystem holds and
// where each piece comes from (test/lab/SOURCE.md, "openwrt-fw4"). lab-router-openwrt.ts builds it.
//
// The router's /usr/bin and /usr/sbin (so /bin and /sbin, merged on Debian) are replaced in its
// mount namespace by directories holding only what an OpenWrt 24.10 image has there: BusyBox's
// applets of OpenWrt's default configuration, nft, dropbear and fw4. No iptables, ip6tables or
// iptables-restore exists at any path, so `which iptables` answers nothing and the shell says
// `iptables: not found`, exactly as on OpenWrt.
import { join } from 'node:path';

/**
 * BusyBox applets OpenWrt enables by default (`default y` in openwrt/openwrt
 * package/utils/busybox/Config-defaults.in, commit 012feaa6) that Debian's busybox-static 1.35 has.
 * Left out on purpose, though OpenWrt has them: halt, poweroff, reboot, killall, hwclock, mkswap,
 * swapon, swapoff, pivot_root, switch_root. The lab's router shares the test machine's PID namespace,
 * clock and devices; these would act on the machine itself.
 */
export const OPENWRT_APPLETS: readonly string[] = Object.freeze([
  '[', '[[', 'ash', 'awk', 'basename', 'brctl', 'cat', 'chgrp', 'chmod', 'chown', 'chroot', 'clear', 'cmp',
  'cp', 'crond', 'crontab', 'cut', 'date', 'dd', 'df', 'dirname', 'dmesg', 'du', 'echo', 'egrep', 'env',
  'expr', 'false', 'fgrep', 'find', 'free', 'grep', 'gunzip', 'gzip', 'head', 'hexdump', 'id', 'ifconfig',
  'ip', 'kill', 'less', 'ln', 'logger', 'login', 'ls', 'md5sum', 'mkdir', 'mkfifo', 'mknod', 'mktemp', 'mount',
  'mv', 'nc', 'netstat', 'nslookup', 'passwd', 'pidof', 'ping', 'ping6', 'printf', 'ps', 'pwd', 'readlink',
  'reset', 'rm', 'rmdir', 'route', 'sed', 'seq', 'sh', 'sha256sum', 'sleep', 'sort', 'start-stop-daemon',
  'strings', 'sync', 'sysctl', 'tail', 'tar', 'taskset', 'tee', 'test', 'time', 'top', 'touch', 'tr',
  'traceroute', 'traceroute6', 'true', 'udhcpc', 'umount', 'uname', 'uniq', 'uptime', 'vi', 'wc', 'which',
  'xargs', 'yes', 'zcat',
]);

/** A file of the router's filesystem: `dir` is 'bin' (/usr/bin = /bin) or 'sbin' (/usr/sbin = /sbin). */
export interface FarmEntry {
  dir: 'bin' | 'sbin';
  name: string;
  /** Where the symlink points, as seen inside the router's mount namespace. */
  target: string;
}

/**
 * The router's /usr/bin and /usr/sbin. `busyboxListFull` is `busybox --list-full` (each applet with
 * its install directory); `hostBin`/`hostSbin` are where the machine's own /usr/bin and /usr/sbin
 * stay visible inside the router (read-only binds); `labDir` holds fw4 and its ruleset.
 */
export function openwrtFarm(busyboxListFull: string, hostBin: string, hostSbin: string, labDir: string): FarmEntry[] {
  const entries: FarmEntry[] = [{ dir: 'bin', name: 'busybox', target: join(hostBin, 'busybox') }];
  const wanted = new Set(OPENWRT_APPLETS);
  for (const line of busyboxListFull.split('\n')) {
    const path = line.trim();
    const name = path.slice(path.lastIndexOf('/') + 1);
    if (!wanted.has(name)) continue;
    wanted.delete(name);
    // BusyBox picks the applet from the name it was called by (argv[0]), so a link to it is the applet.
    entries.push({ dir: /(^|\/)sbin\//.test(path) ? 'sbin' : 'bin', name, target: '/usr/bin/busybox' });
  }
  if (wanted.size > 0) throw new Error(`this busybox lacks OpenWrt applets: ${[...wanted].join(', ')}`);
  entries.push(
    { dir: 'sbin', name: 'nft', target: join(hostSbin, 'nft') },
    { dir: 'sbin', name: 'dropbear', target: join(hostSbin, 'dropbear') },
    { dir: 'sbin', name: 'fw4', target: join(labDir, 'openwrt', 'fw4') },
    // The lab's stand-in for uci (lab-offload-standins.ts): `uci get` of firewall defaults only.
    { dir: 'sbin', name: 'uci', target: join(labDir, 'openwrt', 'uci') },
    // OpenWrt's BusyBox has flock (fw4 locks with it); Debian's has none, so util-linux's stands in.
    { dir: 'bin', name: 'flock', target: join(hostBin, 'flock') },
  );
  return entries;
}

/** firewall4's default /etc/config/firewall (test/lab/openwrt/firewall.config); the lab's fw4 runs a
 * pre-rendered ruleset, so only the uci stand-in reads it (`option flow_offloading` when offload is on). */
export const OPENWRT_FIREWALL_CONFIG = 'firewall.config';

/** Files of test/lab/openwrt/ and where they appear in the router's /etc. */
export const OPENWRT_ETC_FILES: Readonly<Record<string, string>> = Object.freeze({
  openwrt_release: 'openwrt_release',
  openwrt_version: 'openwrt_version',
  'os-release': 'os-release',
  banner: 'banner',
  profile: 'profile',
  shinit: 'shinit',
});

/** Empty in the router (OpenWrt has no such text): BusyBox login would print the machine's. */
export const OPENWRT_EMPTY_ETC_FILES: readonly string[] = Object.freeze(['issue', 'motd']);

/** Directories of /etc the router shows with its own content only (a bind over the machine's). */
export const OPENWRT_ETC_DIRS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  'init.d': ['firewall'],
  'profile.d': [],
});

/** The router's host name (a UTS namespace of its own): the prompt's `\h`, BusyBox login's prompt. */
export const OPENWRT_HOSTNAME = 'OpenWrt';
/** OpenWrt's PATH (its /etc/profile; dropbear's default root PATH is the same set). */
export const OPENWRT_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** root's login shell in OpenWrt's /etc/passwd. */
export const OPENWRT_SHELL = '/bin/ash';
