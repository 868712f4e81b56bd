// The OpenWrt router's files in the lab's state dir (variant 'openwrt-fw4'; what and why: lab-openwrt.ts)
// and the mount steps that put them in place inside the router's private mount namespace. Nothing
// here touches the machine's own files: the keeper's namespace binds the lab's copies over them.
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  OPENWRT_EMPTY_ETC_FILES, OPENWRT_ETC_DIRS, OPENWRT_ETC_FILES, OPENWRT_FIREWALL_CONFIG, OPENWRT_HOSTNAME, openwrtFarm,
} from './lab-openwrt.js';
import { uciScript } from './lab-offload-standins.js';
import { OPENWRT_SOURCE_DIR } from './lab-settings.js';
import { runSyncQuiet } from './run-command.js';

/** Where the machine's /usr/bin and /usr/sbin stay visible (read-only) inside the router. */
const hostBin = (dir: string): string => join(dir, 'host', 'usr-bin');
const hostSbin = (dir: string): string => join(dir, 'host', 'usr-sbin');

/** The router's /etc/config/firewall, in the /etc overlay's lower directory. */
export const openwrtFirewallConfigPath = (dir: string): string => join(dir, 'fs', 'etc', 'config', 'firewall');

export function writeOpenwrtFiles(dir: string): void {
  // fw4, its ruleset and the init script: copies, since a checkout under /tmp is hidden in the router.
  const own = join(dir, 'openwrt');
  mkdirSync(own, { recursive: true });
  for (const name of ['fw4', 'ruleset.nft', 'firewall']) copyFileSync(join(OPENWRT_SOURCE_DIR, name), join(own, name));
  chmodSync(join(own, 'fw4'), 0o755);
  chmodSync(join(own, 'firewall'), 0o755);
  writeFileSync(join(own, 'uci'), uciScript(), { mode: 0o755 });

  const etc = join(dir, 'fs', 'etc');
  mkdirSync(etc, { recursive: true });
  for (const [source, target] of Object.entries(OPENWRT_ETC_FILES)) copyFileSync(join(OPENWRT_SOURCE_DIR, source), join(etc, target));
  for (const name of OPENWRT_EMPTY_ETC_FILES) writeFileSync(join(etc, name), '');
  // /etc/config/firewall as a fresh image has it (offload off); the lab rewrites it for flowOffload.
  mkdirSync(join(etc, 'config'), { recursive: true });
  copyFileSync(join(OPENWRT_SOURCE_DIR, OPENWRT_FIREWALL_CONFIG), openwrtFirewallConfigPath(dir));
  for (const [name, files] of Object.entries(OPENWRT_ETC_DIRS)) {
    const target = join(dir, 'fs', 'etc-dirs', name);
    mkdirSync(target, { recursive: true });
    for (const file of files) copyFileSync(join(own, file), join(target, file));
  }

  const listFull = runSyncQuiet(['busybox', '--list-full']).stdout;
  for (const sub of ['usr-bin', 'usr-sbin']) mkdirSync(join(dir, 'fs', sub), { recursive: true });
  for (const entry of openwrtFarm(listFull, hostBin(dir), hostSbin(dir), dir)) {
    symlinkSync(entry.target, join(dir, 'fs', entry.dir === 'bin' ? 'usr-bin' : 'usr-sbin', entry.name));
  }
  mkdirSync(hostBin(dir), { recursive: true });
  mkdirSync(hostSbin(dir), { recursive: true });
  mkdirSync(join(dir, 'root'), { recursive: true, mode: 0o700 });
  mkdirSync(join(dir, 'fs', 'empty'), { recursive: true });
}

/**
 * Shell lines for the keeper (after the common binds of passwd, shadow, …, which sit on top of the
 * /etc overlay, so the overlay comes first: see openwrtEtcSteps). `$1` is the lab's state dir.
 * The machine's /usr/bin and /usr/sbin are bound read-only where the farm's links point, then the
 * farm is bound over them; after the last step the keeper's own commands are OpenWrt's BusyBox.
 */
export function openwrtBinSteps(): string[] {
  return [
    'mount --bind "$1/root" /root',
    // OpenWrt has no /usr/local; dropbear's default PATH names its bin and sbin.
    '[ ! -d /usr/local/bin ] || mount --bind "$1/fs/empty" /usr/local/bin',
    '[ ! -d /usr/local/sbin ] || mount --bind "$1/fs/empty" /usr/local/sbin',
    'mount --bind /usr/bin "$1/host/usr-bin"',
    'mount -o remount,bind,ro "$1/host/usr-bin"',
    'mount --bind /usr/sbin "$1/host/usr-sbin"',
    'mount -o remount,bind,ro "$1/host/usr-sbin"',
    'mount --bind "$1/fs/usr-sbin" /usr/sbin',
    'mount --bind "$1/fs/usr-bin" /usr/bin',
  ];
}

/** The router's own host name and /etc: OpenWrt's files over the machine's, read-only. */
export function openwrtEtcSteps(): string[] {
  return [
    `hostname ${OPENWRT_HOSTNAME}`,
    'mount -t overlay overlay -o "lowerdir=$1/fs/etc:/etc" /etc',
    ...Object.keys(OPENWRT_ETC_DIRS).map((name) => `mount --bind "$1/fs/etc-dirs/${name}" /etc/${name}`),
  ];
}
