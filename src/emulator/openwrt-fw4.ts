// The OpenWrt 23.05 persona of the emulated router (flavour 'openwrt-fw4', issue 15): BusyBox ash
// at `root@OpenWrt:~# ` (ash-run.ts), firewall4 on nftables and no iptables at all, a dual-stack
// LAN on br-lan. What it answers and where each text comes from is in README.md ("OpenWrt fw4")
// and testdata/openwrt-23.05.0/SOURCE.md. Pure functions of the model and the line.

import { runAshLine, type AshEnvironment, type Program, type ProgramResult } from './ash-run.js';
import type { FileKind } from './ash-builtins.js';
import { runFw4 } from './fw4-ruleset.js';
import type { RouterModel } from './model.js';
import { formatDhcpLeases, formatIfconfig, formatProcNetArp, formatProcUptime } from './model-formats.js';
import { formatIpNeighbours } from './model-ipv6.js';
import { runNft } from './nft-run.js';
import type { CommandOutcome } from './commands.js';
import { runGrep } from './busybox-grep.js';
import { isKernelDir, readKernelFile, writeKernelFile } from './model-procfs.js';
import { listFlowtables, uciOffloadValue, withFw4Flowtable } from './model-offload.js';

// testdata/openwrt-23.05.0: the release files, the login banner and `nft -v` of OpenWrt 23.05.0.
export const OPENWRT_RELEASE =
  "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='23.05.0'\nDISTRIB_REVISION='r23497-6637af95aa'\nDISTRIB_TARGET='ramips/mt7621'\nDISTRIB_ARCH='mipsel_24kc'\nDISTRIB_DESCRIPTION='OpenWrt 23.05.0 r23497-6637af95aa'\nDISTRIB_TAINTS=''\n";
export const OS_RELEASE =
  'NAME="OpenWrt"\nVERSION="23.05.0"\nID="openwrt"\nID_LIKE="lede openwrt"\nPRETTY_NAME="OpenWrt 23.05.0"\nVERSION_ID="23.05.0"\nHOME_URL="https://openwrt.org/"\nBUG_URL="https://bugs.openwrt.org/"\nSUPPORT_URL="https://forum.openwrt.org/"\nBUILD_ID="r23497-6637af95aa"\nOPENWRT_BOARD="ramips/mt7621"\nOPENWRT_ARCH="mipsel_24kc"\nOPENWRT_TAINTS=""\nOPENWRT_DEVICE_MANUFACTURER="OpenWrt"\nOPENWRT_DEVICE_MANUFACTURER_URL="https://openwrt.org/"\nOPENWRT_DEVICE_PRODUCT="Generic"\nOPENWRT_DEVICE_REVISION="v0"\nOPENWRT_RELEASE="OpenWrt 23.05.0 r23497-6637af95aa"\n';
export const OPENWRT_LOGIN_BANNER =
  '\n\nBusyBox v1.36.1 (2023-10-09 21:45:35 UTC) built-in shell (ash)\n\n' +
  '  _______                     ________        __\n |       |.-----.-----.-----.|  |  |  |.----.|  |_\n |   -   ||  _  |  -__|     ||  |  |  ||   _||   _|\n |_______||   __|_____|__|__||________||__|  |____|\n          |__| W I R E L E S S   F R E E D O M\n -----------------------------------------------------\n OpenWrt 23.05.0, r23497-6637af95aa\n -----------------------------------------------------\n';
const BUSYBOX_IP_USAGE =
  'BusyBox v1.36.1 (2023-10-09 21:45:35 UTC) multi-call binary.\n\nUsage: ip [OPTIONS] address|route|link|tunnel|neigh|rule [ARGS]\n\nOPTIONS := -f[amily] inet|inet6|link | -o[neline]\n';

/** Where `which` finds each program this persona runs (BusyBox applets and OpenWrt's own tools). */
const PATHS: Record<string, string> = {
  nft: '/usr/sbin/nft', fw4: '/sbin/fw4', uci: '/sbin/uci', ip: '/sbin/ip', ifconfig: '/sbin/ifconfig', busybox: '/bin/busybox', cat: '/bin/cat',
  echo: '/bin/echo', printf: '/usr/bin/printf', readlink: '/usr/bin/readlink', uname: '/bin/uname', which: '/usr/bin/which',
  sh: '/bin/sh', ash: '/bin/ash', reboot: '/sbin/reboot', sleep: '/bin/sleep', true: '/bin/true', false: '/bin/false',
  grep: '/bin/grep',
};

export interface OpenWrtSession {
  vars: Map<string, string>;
  lastStatus: number;
  /** A line that needs more (ash is at its PS2 prompt). */
  pending: string | null;
}

export function createOpenWrtSession(): OpenWrtSession {
  return { vars: new Map([['HOME', '/root'], ['PATH', '/usr/sbin:/usr/bin:/sbin:/bin']]), lastStatus: 0, pending: null };
}

/** The shell's prompt after a line: the usual one, or PS2 while a command is unfinished. */
export function openWrtPrompt(session: OpenWrtSession, prompt: string): string {
  return session.pending !== null ? '> ' : prompt;
}

export function readOpenWrtFile(model: RouterModel, path: string): string | null {
  const kernel = readKernelFile(model, path);
  if (kernel !== null) return kernel;
  switch (path) {
    case '/etc/openwrt_release':
      return OPENWRT_RELEASE;
    case '/etc/os-release':
    case '/usr/lib/os-release':
      return OS_RELEASE;
    case '/proc/net/arp':
      return formatProcNetArp(model);
    case '/proc/uptime':
      return formatProcUptime(model);
    case '/proc/net/route':
      return `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n${model.wanInterface}\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n${model.lanInterface}\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
    case '/tmp/dhcp.leases':
      return formatDhcpLeases(model);
    default:
      return model.files.get(path) ?? null;
  }
}

function fileKind(model: RouterModel, path: string): FileKind {
  const dir = path.replace(/\/$/, '') || '/';
  if (['/', '/tmp', '/proc', '/etc', '/root', '/usr', '/usr/lib', '/proc/net'].includes(dir) || isKernelDir(model, dir)) return 'dir';
  return readOpenWrtFile(model, path) !== null ? 'file' : null;
}

const ok = (stdout: string, status = 0): ProgramResult => ({ stdout, stderr: '', status });

function programs(model: RouterModel, pid: number): Record<string, Program> {
  return {
    cat: (args, stdin) => {
      if (args.length === 0) return ok(stdin);
      let stdout = '';
      let stderr = '';
      for (const path of args) {
        const text = readOpenWrtFile(model, path);
        if (text === null) stderr += `cat: can't open '${path}': No such file or directory\n`;
        else stdout += text;
      }
      return { stdout, stderr, status: stderr === '' ? 0 : 1 };
    },
    nft: (args, stdin) => runNftWithFlowtable(model, args, stdin),
    grep: (args, stdin) => runGrep(args, stdin, (path) => readOpenWrtFile(model, path)),
    fw4: (args) => runFw4(model.nft as NonNullable<RouterModel['nft']>, args.filter((a) => a !== '-q')[0] ?? '', model.lanInterface, model.wanInterface, model.nowMs),
    ip: (args) => runIp(model, args),
    // The router's own addresses for lantop's never-block rule (issue 16).
    ifconfig: () => ok(formatIfconfig(model)),
    which: (args) => {
      const found = args.map((name) => PATHS[name]).filter((path): path is string => path !== undefined);
      return ok(found.map((path) => `${path}\n`).join(''), found.length === args.length && args.length > 0 ? 0 : 1);
    },
    readlink: (args) => {
      const path = args.filter((a) => !a.startsWith('-'))[0] ?? '';
      return path === '/proc/self/exe' || path === `/proc/${pid}/exe` ? ok('/bin/busybox\n') : ok('', 1);
    },
    // uname as the 23.05.0 image's kernel reports itself (5.15.134, built Oct 9 2023).
    uname: (args) => {
      const version = '#0 SMP Mon Oct 9 21:45:35 2023';
      if (args.includes('-a')) return ok(`Linux OpenWrt 5.15.134 ${version} mips GNU/Linux\n`);
      if (args.includes('-r')) return ok('5.15.134\n');
      if (args.includes('-n')) return ok('OpenWrt\n');
      if (args.includes('-m')) return ok('mips\n');
      return ok('Linux\n');
    },
    uci: (args) => {
      // Reads of options nobody set answer "Entry not found"; flow_offloading is set (1) only when
      // the emulator's offload option is on (OpenWrt does not ship the key).
      const isQuiet = args.includes('-q');
      const words = args.filter((a) => !a.startsWith('-'));
      const value = words[0] === 'get' && words[1] !== undefined ? uciOffloadValue(model, words[1]) : null;
      if (value !== null) return ok(`${value}\n`);
      return { stdout: '', stderr: isQuiet ? '' : 'uci: Entry not found\n', status: 1 };
    },
    busybox: () => ok('BusyBox v1.36.1 (2023-10-09 21:45:35 UTC) multi-call binary.\n'),
    sleep: () => ok(''),
    true: () => ok(''),
    false: () => ok('', 1),
    reboot: () => ({ stdout: '', stderr: '', status: 0, exit: 'reboot' }),
  };
}

/**
 * nft, with firewall4's flowtable when offload is on (the emulated nft has none): in text listings
 * of the fw4 table and in `nft list flowtables` (each table, as do_list_flowtables prints them).
 * Listings with handles (-a) or JSON (-j) stay without it (README.md: not emulated).
 */
function runNftWithFlowtable(model: RouterModel, args: readonly string[], stdin: string): ProgramResult {
  const state = model.nft as NonNullable<RouterModel['nft']>;
  const options = args.filter((a) => a.startsWith('-'));
  const words = args.filter((a) => !a.startsWith('-'));
  const isPlain = !options.some((o) => /^-[a-z]*[aj]/.test(o) || o === '--handle' || o === '--json');
  if (words[0] === 'list' && words[1] === 'flowtables' && words.length <= 3 && isPlain) {
    const family = words[2];
    const tables = state.tables.filter((t) => family === undefined || t.family === family).map((t) => `${t.family} ${t.name}`);
    return ok(listFlowtables(model, tables));
  }
  const result = runNft(state, args, stdin, model.nowMs);
  const isFw4Listing = words[0] === 'list' && (words[1] === 'ruleset' || (words[1] === 'table' && words.slice(2).join(' ') === 'inet fw4'));
  if (model.offload === 'on' && isPlain && isFw4Listing && result.status === 0) return { ...result, stdout: withFw4Flowtable(model, result.stdout) };
  return result;
}

/** BusyBox `ip`: the neighbour tables; other objects print the applet's usage. */
function runIp(model: RouterModel, args: readonly string[]): ProgramResult {
  let family: 4 | 6 | null = null;
  let at = 0;
  for (; at < args.length && (args[at] as string).startsWith('-'); at++) {
    const option = args[at] as string;
    if (option === '-4') family = 4;
    else if (option === '-6') family = 6;
    else if (option === '-f' || option === '-family') family = args[++at] === 'inet6' ? 6 : 4;
  }
  const object = args[at] ?? '';
  const action = args[at + 1] ?? 'show';
  if (!/^n(e(i(g(h(b(o(u?r)?)?)?)?)?)?)?$/.test(object) || !['show', 'list', 'lst', 's'].includes(action)) {
    return { stdout: '', stderr: BUSYBOX_IP_USAGE, status: 1 };
  }
  const families: Array<4 | 6> = family === null ? [4, 6] : [family];
  return ok(families.map((f) => formatIpNeighbours(model, f, model.ipTool)).join(''));
}

/** The shell's environment on this router: its programs, files and the session's variables. */
export function openWrtEnvironment(model: RouterModel, session: OpenWrtSession): AshEnvironment {
  const pid = 1743;
  const table = programs(model, pid);
  return {
    shellName: '-ash',
    vars: session.vars,
    lastStatus: session.lastStatus,
    pid,
    program: (name) => {
      // A bare name through $PATH, or the program's full path.
      const key = name.includes('/') ? Object.keys(PATHS).find((p) => PATHS[p] === name) : name;
      return key !== undefined && Object.hasOwn(table, key) ? (table[key] as Program) : null;
    },
    fileKind: (path) => fileKind(model, path),
    readFile: (path) => readOpenWrtFile(model, path),
    writeFile: (path, content, isAppend) => {
      // /proc/sys: the shell's truncating open, then the value (proc_dointvec).
      if (content === '' && readKernelFile(model, path) !== null) return writeKernelFile(model, path, '') !== 'none';
      if (writeKernelFile(model, path, content) !== 'none') return true;
      if (!path.startsWith('/tmp/')) return false;
      model.files.set(path, (isAppend ? (model.files.get(path) ?? '') : '') + content);
      return true;
    },
  };
}

/** One line typed at the OpenWrt shell (or the rest of an unfinished command). */
export function runOpenWrtShell(model: RouterModel, session: OpenWrtSession, line: string): CommandOutcome {
  const text = session.pending === null ? line : `${session.pending}\n${line}`;
  const env = openWrtEnvironment(model, session);
  const result = runAshLine(env, text);
  session.lastStatus = env.lastStatus;
  session.pending = result.isIncomplete ? text : null;
  if (result.exit === 'reboot') return { output: result.output, next: 'reboot' };
  if (result.exit === 'logout') return { output: result.output, next: 'logout' };
  return { output: result.output, next: 'shell' };
}
