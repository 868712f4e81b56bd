// What the emulated router answers to a command line: the Broadcom vendor CLI (` > `) and the
// BusyBox ash shell (`# `) behind it or on its own (OpenWrt flavour). Pure functions of the model and
// the line; output uses '\n' (the server turns it into the wire's line ending).
//
// Wording follows the Broadcom CMS CLI sources (cli_cmd.c: help, lanhosts, arp, reboot, logout, the
// hidden sh/iptables) and what users have posted from real boxes (`help` of a Comtrend BCM96328,
// `telnetd:error:774.006:processInput:406:unrecognized command ls` of a Sagemcom F@ST2704R).

import { runIptables } from './iptables.js';
import { uptimeSeconds, type RouterModel } from './model.js';
import { formatDhcpLeases, formatIfconfig, formatIpNeigh, formatLanHosts, formatProcNetArp, formatProcUptime } from './model-formats.js';
import { splitCommandList, splitShellWords } from './shell-words.js';
import { runGrep } from './busybox-grep.js';
import { readKernelFile, writeKernelFile } from './model-procfs.js';
import { runFcctl } from './model-offload.js';

export type ShellMode = 'cli' | 'shell';

export interface CommandOutcome {
  output: string;
  /** Where the next line goes; 'logout' closes the connection, 'reboot' reboots the router. */
  next: ShellMode | 'logout' | 'reboot';
}

export interface ShellSession {
  /** $? of the last command in the shell. */
  lastStatus: number;
}

const BROADCOM_BUSYBOX_BANNER = "\n\nBusyBox v1.17.2 (2013-09-30 17:48:17 CST) built-in shell (ash)\nEnter 'help' for a list of built-in commands.\n\n";

// `help` as a Comtrend BCM96328 answers it (fixtures/broadcom-cli/comtrend-bcm96328/help.txt, a
// published telnet log), the router this flavour models. Broadcom's cli_cmd.c prints only
// cliCmdTable[] there; `sh` and `iptables` sit in cliHiddenCmdTable[] and run without being listed,
// so real firmware never offers them (detection must probe, not read them off `help`). Of the
// listed commands the emulator models ? help logout exit quit reboot cat echo arp lanhosts; the
// others answer like unknown commands (src/emulator/README.md).
const BROADCOM_HELP = [
  '?', 'help', 'logout', 'exit', 'quit', 'reboot', 'adsl', 'xdslctl', 'xtm', 'brctl', 'cat', 'loglevel',
  'logdest', 'virtualserver', 'ddns', 'df', 'dumpcfg', 'dumpmdm', 'meminfo', 'psp', 'kill', 'dnsproxy',
  'syslog', 'echo', 'ifconfig', 'ping', 'ps', 'pwd', 'sntp', 'sysinfo', 'tftp', 'wlctl', 'arp',
  'defaultgateway', 'dhcpserver', 'dns', 'lan', 'lanhosts', 'passwd', 'ppp', 'restoredefault', 'route',
  'save', 'swversion', 'cfgupdate', 'swupdate', 'exitOnIdle', 'wan', 'build', 'version',
];

/** The Broadcom CMS CLI: one line in, its output and where the session goes next. */
export function runBroadcomCli(model: RouterModel, line: string): CommandOutcome {
  const command = line.trim();
  const { words } = splitShellWords(command);
  const [name = '', ...args] = words;
  switch (name) {
    case '':
      return { output: '', next: 'cli' };
    case '?':
    case 'help':
      return { output: BROADCOM_HELP.join('\n') + '\n', next: 'cli' };
    case 'logout':
    case 'exit':
    case 'quit':
      return { output: '\nBye bye. Have a nice day!!!\n', next: 'logout' };
    case 'reboot':
      return { output: '\nThe system shell is being reset. Please wait...\n', next: 'reboot' };
    case 'sh':
      // Hidden (cliHiddenCmdTable): works for admin, never listed by `help`.
      return { output: BROADCOM_BUSYBOX_BANNER, next: 'shell' };
    case 'arp':
      if (args[0] === 'show' && args.length === 1) return { output: formatProcNetArp(model), next: 'cli' };
      return {
        output: '\nUsage: arp add <IP address> <MAC address>\n       arp delete <IP address>\n       arp show\n       arp --help\n',
        next: 'cli',
      };
    case 'lanhosts':
      if (args.length === 2 && args[0]?.toLowerCase() === 'show' && args[1]?.toLowerCase() === 'all') {
        return { output: formatLanHosts(model), next: 'cli' };
      }
      if (args.length === 2 && args[0]?.toLowerCase() === 'show' && args[1]?.toLowerCase().startsWith('br')) {
        const header = '   MAC Addr          IP Addr     Lease Time Remaining    Hostname\n';
        if (args[1] === model.lanInterface) return { output: formatLanHosts(model).split('\n').slice(1).join('\n'), next: 'cli' };
        return { output: `${header}Could not find bridge ifName ${args[1]}`, next: 'cli' };
      }
      return { output: '\nUsage: lanhosts show all\n       lanhosts show brx\n       lanhosts help\n', next: 'cli' };
    case 'cat':
    case 'echo':
    case 'iptables': {
      // The CLI passes these through to the BusyBox binaries (cat, echo: cliCmdTable entries without
      // a handler; iptables: hidden, not in `help`).
      const result = runShellCommand(model, words, 'broadcom');
      return { output: result.stdout + result.stderr, next: 'cli' };
    }
    default:
      return {
        output: `telnetd:error:${uptimeSeconds(model).toFixed(3)}:processInput:406:unrecognized command ${command}\n`,
        next: 'cli',
      };
  }
}

/** BusyBox ash: `;`, `&&`, `||`, `$?`, and the few redirections scripts add, around the commands below. */
export function runBusyboxShell(model: RouterModel, session: ShellSession, line: string, flavour: 'broadcom' | 'busybox'): CommandOutcome {
  let output = '';
  for (const part of splitCommandList(line)) {
    if (part.joiner === '&&' && session.lastStatus !== 0) continue;
    if (part.joiner === '||' && session.lastStatus === 0) continue;
    let text = ` ${part.text.replace(/\$\?/g, String(session.lastStatus))} `;
    const dropsStderr = /\s2>\s*\/dev\/null\s/.test(text);
    const dropsStdout = /\s1?>\s*\/dev\/null\s/.test(text.replace(/\s2>\s*\/dev\/null\s/g, ' '));
    text = text.replace(/\s[12]?>\s*\/dev\/null(?=\s)|\s2>&1(?=\s)|\s<\s*\/dev\/null(?=\s)/g, ' ');
    // `> FILE` / `>> FILE`: only the kernel's writable files exist to write to (echo 1 > /proc/sys/…).
    let target: string | null = null;
    text = text.replace(/\s1?>>?\s*(\/[^\s;&|]+)(?=\s)/, (_, path: string) => {
      target = path;
      return ' ';
    });
    const { words, isUnterminated } = splitShellWords(text);
    if (isUnterminated) {
      output += '-sh: syntax error: unterminated quoted string\n';
      session.lastStatus = 2;
      continue;
    }
    if (words.length === 0) continue;
    if (words[0] === 'exit') {
      return { output, next: flavour === 'broadcom' ? 'cli' : 'logout' };
    }
    if (words[0] === 'reboot') return { output, next: 'reboot' };
    if (target !== null && writeKernelFile(model, target, '') === 'none') {
      output += `-sh: can't create ${target as string}: ${readFile(model, target, flavour) !== null ? 'Permission denied' : 'nonexistent directory'}\n`;
      session.lastStatus = 1;
      continue;
    }
    const result = runShellCommand(model, words, flavour);
    let stdout = result.stdout;
    if (target !== null) {
      if (writeKernelFile(model, target, stdout) === 'invalid') {
        output += `-sh: write error: Invalid argument\n`;
        session.lastStatus = 1;
        continue;
      }
      stdout = '';
    }
    if (!dropsStdout) output += stdout;
    if (!dropsStderr) output += result.stderr;
    session.lastStatus = result.status;
  }
  return { output, next: 'shell' };
}

const BINARIES: Record<'broadcom' | 'busybox', Record<string, string>> = {
  broadcom: {
    iptables: '/bin/iptables', cat: '/bin/cat', echo: '/bin/echo', sh: '/bin/sh', busybox: '/bin/busybox',
    ifconfig: '/bin/ifconfig', ps: '/bin/ps', uname: '/bin/uname', which: '/usr/bin/which', reboot: '/sbin/reboot',
    grep: '/bin/grep', fcctl: '/bin/fcctl',
  },
  busybox: {
    iptables: '/usr/sbin/iptables', ip: '/sbin/ip', cat: '/bin/cat', echo: '/bin/echo', sh: '/bin/sh',
    busybox: '/bin/busybox', ifconfig: '/sbin/ifconfig', uname: '/bin/uname', which: '/usr/bin/which',
    uci: '/sbin/uci', ubus: '/bin/ubus', logread: '/sbin/logread', reboot: '/sbin/reboot', grep: '/bin/grep',
  },
};

const ASH_HELP =
  '\nBuilt-in commands:\n-------------------\n\t. : [ [[ alias bg break cd chdir command continue echo eval exec\n\texit export false fg getopts hash help history jobs kill let\n\tlocal printf pwd read readonly return set shift source test times\n\ttrap true type ulimit umask unalias unset wait\n\n';

interface ShellResult {
  stdout: string;
  stderr: string;
  status: number;
}

function runShellCommand(model: RouterModel, words: string[], flavour: 'broadcom' | 'busybox'): ShellResult {
  const ok = (stdout: string, status = 0): ShellResult => ({ stdout, stderr: '', status });
  const [name = '', ...args] = words;
  switch (name) {
    case 'true':
    case ':':
      return ok('');
    case 'false':
      return ok('', 1);
    case 'help':
      return ok(ASH_HELP);
    case 'echo': {
      const hasNoNewline = args[0] === '-n';
      const text = (hasNoNewline ? args.slice(1) : args).join(' ');
      return ok(hasNoNewline ? text : `${text}\n`);
    }
    case 'cat': {
      let stdout = '';
      let stderr = '';
      let status = 0;
      for (const path of args) {
        const content = readFile(model, path, flavour);
        if (content === null) {
          stderr += `cat: can't open '${path}': No such file or directory\n`;
          status = 1;
        } else stdout += content;
      }
      return { stdout, stderr, status };
    }
    case 'iptables': {
      const result = runIptables(model.iptables, args);
      return result;
    }
    case 'which':
    case 'command': {
      const names = name === 'command' ? args.filter((arg) => arg !== '-v') : args;
      const found = names.map((binary) => BINARIES[flavour][binary]).filter((path): path is string => path !== undefined);
      return ok(found.map((path) => `${path}\n`).join(''), found.length === names.length && names.length > 0 ? 0 : 1);
    }
    case 'uname': {
      const kernel = flavour === 'broadcom' ? '2.6.30' : '5.15.134';
      const host = flavour === 'broadcom' ? '(none)' : 'OpenWrt';
      const version = flavour === 'broadcom' ? '#1 SMP PREEMPT Mon Sep 30 17:50:12 CST 2013' : '#0 SMP Mon Oct 9 21:45:35 2023';
      if (args.includes('-a')) return ok(`Linux ${host} ${kernel} ${version} mips GNU/Linux\n`);
      if (args.includes('-r')) return ok(`${kernel}\n`);
      if (args.includes('-m')) return ok('mips\n');
      if (args.includes('-n')) return ok(`${host}\n`);
      return ok('Linux\n');
    }
    case 'grep':
      // BusyBox grep (CONFIG_GREP=y in Broadcom's brcm.config too): lantop's conntrack filter.
      return runGrep(args, '', (path) => readFile(model, path, flavour));
    case 'fcctl':
      // Broadcom's flow cache control (userspace/private/apps/fcctl); OpenWrt has none.
      if (flavour === 'broadcom') return runFcctl(model, args);
      break;
    case 'ifconfig':
      // BusyBox ifconfig's layout (fixtures/blocking/busybox-ifconfig.txt): what lantop reads for the
      // router's own addresses, which it never blocks (issue 16).
      return ok(formatIfconfig(model));
    case 'ip':
      if (flavour === 'busybox' && args.filter((arg) => arg !== '-4')[0]?.startsWith('n')) return ok(formatIpNeigh(model));
      break;
  }
  return { stdout: '', stderr: `-sh: ${name}: not found\n`, status: 127 };
}

function readFile(model: RouterModel, path: string, flavour: 'broadcom' | 'busybox'): string | null {
  const kernel = readKernelFile(model, path);
  if (kernel !== null) return kernel;
  switch (path) {
    case '/proc/net/arp':
      return formatProcNetArp(model);
    case '/proc/uptime':
      return formatProcUptime(model);
    case '/proc/net/route':
      // Default route via the WAN (PPPoE: no gateway), the LAN on br0 (198.51.100.0/24, little-endian hex).
      return `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n${model.wanInterface}\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n${model.lanInterface}\t006433C6\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n`;
    case '/proc/version':
      return flavour === 'broadcom'
        ? 'Linux version 2.6.30 (root@localhost) (gcc version 4.4.2 (Buildroot 2010.02-git) ) #1 SMP PREEMPT Mon Sep 30 17:50:12 CST 2013\n'
        : 'Linux version 5.15.134 (builder@buildhost) (mips-openwrt-linux-musl-gcc (OpenWrt GCC 12.3.0 r23497-6637af95aa) 12.3.0, GNU ld (GNU Binutils) 2.40.0) #0 SMP Mon Oct 9 21:45:35 2023\n';
    case '/tmp/dhcp.leases':
      return flavour === 'busybox' ? formatDhcpLeases(model) : null;
    case '/etc/openwrt_release':
      return flavour === 'busybox'
        ? "DISTRIB_ID='OpenWrt'\nDISTRIB_RELEASE='23.05.0'\nDISTRIB_REVISION='r23497-6637af95aa'\nDISTRIB_TARGET='ramips/mt7621'\nDISTRIB_ARCH='mipsel_24kc'\nDISTRIB_DESCRIPTION='OpenWrt 23.05.0 r23497-6637af95aa'\n"
        : null;
    default:
      return null;
  }
}
