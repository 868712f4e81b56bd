// Which firmware is this? A few cheap, read-only probes on a fresh session, then a pure decision.
// Probe commands avoid pipes (some vendor shells and the emulated router lack them) and tolerate
// shells that ignore `2>/dev/null`: error lines are recognised, not trusted as data.
//
// Vendor CLI (` > `, `ATP>`):   help            → which commands the CLI offers (iptables? lanhosts? sh?)
//                               iptables -V      → "iptables v1.4.21"
// Shell (`# `):                 cat /etc/openwrt_release 2>/dev/null   → DISTRIB_ID='OpenWrt'
//                               which nft fw4 fw3 nvram uci busybox iptables 2>/dev/null
//                               nvram get DD_BOARD / buildno / os_version   (only when nvram exists)
//                               iptables -V 2>&1 → "iptables v1.8.9 (nf_tables)"
// Both, when iptables answered: iptables -m comment --help 2>&1 → "comment match options:"

import type { Session, ShellMode } from '../../transport/session.js';
import {
  firmwareCommands,
  type FirmwareCapabilities,
  type FirmwareFamily,
  type FirmwareProfile,
} from './families.js';
import { classifyRouterOutput } from '../parsers/router-errors.js';

export type ProbeId =
  | 'help'
  | 'release'
  | 'commands'
  | 'nvram-dd-board'
  | 'nvram-buildno'
  | 'nvram-os-version'
  | 'iptables-version'
  | 'iptables-comment';

/** The exact command line of each probe (the scripted tests expect these strings). */
export const PROBE_COMMANDS: Readonly<Record<ProbeId, string>> = Object.freeze({
  help: 'help',
  release: 'cat /etc/openwrt_release /etc/os-release 2>/dev/null',
  // `which`, not `command -v`: dash and BusyBox ash print only the first name of `command -v a b`.
  commands: 'which nft fw4 fw3 nvram uci busybox iptables 2>/dev/null',
  'nvram-dd-board': 'nvram get DD_BOARD',
  'nvram-buildno': 'nvram get buildno',
  'nvram-os-version': 'nvram get os_version',
  'iptables-version': 'iptables -V 2>&1',
  'iptables-comment': 'iptables -m comment --help 2>&1',
});

/** In the vendor CLI there is no shell redirection: the same probes without `2>&1`. */
const CLI_PROBE_COMMANDS: Partial<Record<ProbeId, string>> = {
  'iptables-version': 'iptables -V',
  'iptables-comment': 'iptables -m comment --help',
};

export function probeCommand(id: ProbeId, mode: ShellMode): string {
  return (mode === 'cli' ? CLI_PROBE_COMMANDS[id] : undefined) ?? PROBE_COMMANDS[id];
}

export interface FirmwareProbes {
  /** Where the session landed after login. */
  mode: ShellMode;
  /** Output of each probe that was run (absent: not run). */
  outputs: Partial<Record<ProbeId, string>>;
}

const IPTABLES_VERSION = /\bip(?:6)?tables v(\d+)\.(\d+)\.(\d+)(?:\.\d+)?(?:\s+\(([\w_]+)\))?/;

function parseVersion(text: string | undefined): { version: string; parts: [number, number, number]; backend: 'legacy' | 'nft' } | null {
  if (text === undefined) return null;
  const m = IPTABLES_VERSION.exec(text);
  if (!m) return null;
  const parts: [number, number, number] = [Number(m[1]), Number(m[2]), Number(m[3])];
  // Before 1.8 there was only the legacy backend; 1.8.x says which one in parentheses.
  const backend = m[4] === 'nf_tables' ? 'nft' : 'legacy';
  return { version: parts.join('.'), parts, backend };
}

function atLeast(parts: [number, number, number], min: [number, number, number]): boolean {
  for (let i = 0; i < 3; i++) {
    if (parts[i]! !== min[i]!) return parts[i]! > min[i]!;
  }
  return true;
}

/** Basenames printed by `command -v a b c` (one path or builtin name per line). */
function foundCommands(text: string | undefined): Set<string> {
  const found = new Set<string>();
  if (text === undefined) return found;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || classifyRouterOutput(t) !== null || /\s/.test(t)) continue;
    found.add(t.slice(t.lastIndexOf('/') + 1));
  }
  return found;
}

/** The words of a vendor CLI's `help` (one command per line, or several per line). */
function cliCommands(text: string | undefined): Set<string> {
  const words = new Set<string>();
  if (text === undefined) return words;
  for (const line of text.split(/\r?\n/)) {
    if (classifyRouterOutput(line) !== null) continue;
    for (const word of line.trim().split(/\s+/)) if (/^[A-Za-z?][\w-]*$/.test(word)) words.add(word);
  }
  return words;
}

/** A value from `nvram get KEY`: empty, or an error ("nvram: not found"), means absent. */
function nvramValue(text: string | undefined): string | null {
  if (text === undefined) return null;
  const t = text.trim();
  if (t === '' || classifyRouterOutput(t) !== null) return null;
  return t.split(/\r?\n/)[0]!.trim() || null;
}

function commentCapability(text: string | undefined): boolean | null {
  if (text === undefined) return null;
  if (/comment match options/i.test(text) || /--comment COMMENT/.test(text)) return true;
  const problem = classifyRouterOutput(text);
  if (problem && (problem.kind === 'no-extension' || problem.kind === 'bad-argument' || problem.kind === 'not-found')) return false;
  return null;
}

/**
 * Decides the firmware family, its command table and capabilities from probe outputs. Pure and
 * total: missing probes lower confidence (nulls) instead of failing.
 */
export function detectFirmware(probes: FirmwareProbes): FirmwareProfile {
  const { outputs } = probes;
  const evidence: string[] = [];
  const version = parseVersion(outputs['iptables-version']);
  let family: FirmwareFamily;
  const found = foundCommands(outputs.commands);
  const commands = (f: FirmwareFamily) => firmwareCommands(f);

  if (probes.mode === 'cli') {
    family = 'broadcom-cli';
    evidence.push('login landed in a vendor CLI');
  } else if (/DISTRIB_ID=['"]?OpenWrt/i.test(outputs.release ?? '')) {
    const isFw4 = found.has('fw4') || (!found.has('fw3') && found.has('nft') && !found.has('iptables') && version === null);
    family = isFw4 ? 'openwrt-fw4' : 'openwrt-fw3';
    evidence.push(`/etc/openwrt_release says OpenWrt; ${isFw4 ? 'fw4/nft' : 'iptables (fw3)'} found`);
  } else if (nvramValue(outputs['nvram-dd-board']) !== null) {
    family = 'dd-wrt';
    evidence.push(`nvram DD_BOARD=${nvramValue(outputs['nvram-dd-board'])}`);
  } else if (nvramValue(outputs['nvram-buildno']) !== null) {
    family = 'asuswrt';
    evidence.push(`nvram buildno=${nvramValue(outputs['nvram-buildno'])}`);
  } else if (nvramValue(outputs['nvram-os-version']) !== null) {
    family = 'tomato';
    evidence.push(`nvram os_version=${nvramValue(outputs['nvram-os-version'])}`);
  } else if (/^ID=/m.test(outputs.release ?? '')) {
    family = 'generic-linux';
    evidence.push(`/etc/os-release: ${/^ID=(.*)$/m.exec(outputs.release ?? '')?.[1] ?? '?'}`);
  } else if (found.has('busybox')) {
    family = 'busybox';
    evidence.push('BusyBox shell');
  } else {
    family = 'generic-linux';
    evidence.push('a Linux shell without BusyBox, OpenWrt or nvram');
  }

  const table = commands(family);
  if (family === 'broadcom-cli') {
    // What this CLI offers decides where each command runs (capability, not vendor name).
    const cli = cliCommands(outputs.help);
    if (cli.size > 0) {
      if (!cli.has('sh') && cli.has('shell')) table.shellCommand = 'shell';
      if (!cli.has('sh') && !cli.has('shell')) table.shellCommand = null;
      if (!cli.has('iptables') && table.iptables) {
        table.iptables = table.shellCommand ? { ...table.iptables, command: 'iptables', where: 'shell' } : null;
        table.entersShellFirst = table.shellCommand !== null;
      }
      if (!cli.has('lanhosts')) table.listNames = null;
      if (!cli.has('arp') && table.shellCommand) table.listArp = { command: 'cat /proc/net/arp', where: 'shell' };
      evidence.push(`CLI help lists: ${[...cli].filter((w) => ['arp', 'lanhosts', 'iptables', 'sh', 'shell'].includes(w)).join(', ') || 'none of arp/lanhosts/iptables/sh'}`);
    }
  }

  const hasIptables = version !== null;
  const nftOnly = !hasIptables && (found.has('nft') || family === 'openwrt-fw4');
  if (hasIptables && table.iptables === null) {
    // OpenWrt fw4 with iptables-nft installed: iptables works (through nf_tables).
    table.iptables = { binary: 'iptables', command: 'iptables', where: 'shell' };
  }
  if (version) evidence.push(`iptables v${version.version} (${version.backend})`);
  else if (outputs['iptables-version'] !== undefined) evidence.push('no iptables answered');
  if (nftOnly) evidence.push('nftables only: lantop cannot count here yet (nftables accounting comes in a later issue)');

  const capabilities: FirmwareCapabilities = {
    hasCommentMatch: hasIptables ? commentCapability(outputs['iptables-comment']) : null,
    hasCheck: version ? atLeast(version.parts, [1, 4, 11]) : null,
    iptablesVersion: version?.version ?? null,
    backend: version?.backend ?? null,
    nftOnly,
  };
  return { family, commands: table, capabilities, evidence };
}

/**
 * Runs the probes through a fresh session (read-only commands, in the shell the session is in:
 * it never enters or leaves `sh`) and detects the firmware. Transport errors propagate typed
 * (TimeoutError, ConnectionLostError…).
 */
export async function probeFirmware(session: Session): Promise<FirmwareProfile> {
  const mode = session.mode;
  const outputs: Partial<Record<ProbeId, string>> = {};
  const run = async (id: ProbeId) => {
    outputs[id] = await session.exec(probeCommand(id, mode));
    return outputs[id]!;
  };
  if (mode === 'cli') {
    const help = await run('help');
    const cli = cliCommands(help);
    if (cli.size === 0 || cli.has('iptables')) await run('iptables-version');
  } else {
    await run('release');
    const found = foundCommands(await run('commands'));
    if (found.has('nvram')) {
      if (nvramValue(await run('nvram-dd-board')) === null && nvramValue(await run('nvram-buildno')) === null) {
        await run('nvram-os-version');
      }
    }
    await run('iptables-version');
  }
  if (parseVersion(outputs['iptables-version']) !== null) await run('iptables-comment');
  return detectFirmware({ mode, outputs });
}
