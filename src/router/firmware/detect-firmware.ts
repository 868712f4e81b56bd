// What can this router do, and where? Read-only probes on the session (probeRouter), then a pure
// decision from what the router answered (detectFirmware). A vendor CLI's `help` is only a hint:
// real firmware hides `sh` and `iptables` (a published Comtrend BCM96328 / Sagemcom F@ST2704R
// help lists neither), so every capability is decided by trying its read-only probe (issue 13).
//
// Vendor CLI (` > `, `ATP>`):  help                         → hint: which entries to try first
//                              iptables -V                  → "iptables v1.4.21"
//                              arp show / lanhosts show all → parse, or an error text
//                              sh, shell, system shell, busybox sh → the sentinel probe says shell
// Shell (`# `):                cat /etc/openwrt_release /etc/os-release 2>/dev/null
//                              which nft fw4 fw3 nvram uci busybox iptables iptables-restore ip
//                              nvram get DD_BOARD / buildno / os_version   (only when nvram exists)
//                              iptables -V 2>&1, iptables -m comment --help 2>&1
//                              cat /proc/net/arp, ip -4 neigh show, lease files that exist
// Probe commands avoid pipes, and error lines are recognised (classifyRouterOutput), never data.

import { isModalSession, SHELL_ENTRY_CANDIDATES, type Session, type ShellMode, type ShellRoute } from '../../transport/session.js';
import { sanitizeText } from '../../sanitize.js';
import {
  type CommandSpec,
  type DetectionDecision,
  type FirmwareCapabilities,
  type FirmwareCommands,
  type FirmwareFamily,
  type FirmwareProfile,
  type ProbeEvidence,
} from './families.js';
import { classifyRouterOutput } from '../parsers/router-errors.js';
import { parseArpTableReport } from '../parsers/arp-table.js';
import { parseLanHostsReport } from '../parsers/lan-hosts.js';
import { maxLineBytesForShell } from '../apply-batch.js';

export type ProbeId =
  | 'help'
  | 'release'
  | 'commands'
  | 'nvram-dd-board'
  | 'nvram-buildno'
  | 'nvram-os-version'
  | 'iptables-version'
  | 'iptables-comment'
  | 'arp-show'
  | 'proc-net-arp'
  | 'ip-neigh'
  | 'lanhosts'
  | 'lease-files'
  | 'leases'
  | 'shell-exe'
  | 'shell-batch';

/** Lease files of dnsmasq and ISC dhcpd in the places firmwares keep them. Fixed paths: nothing
 * from the router is ever put into a command. */
export const LEASE_FILES: readonly string[] = [
  '/tmp/dhcp.leases',
  '/tmp/dnsmasq.leases',
  '/var/lib/misc/dnsmasq.leases',
  '/tmp/var/lib/misc/dnsmasq.leases',
  '/var/lib/dnsmasq/dnsmasq.leases',
  '/var/lib/dhcp/dhcpd.leases',
];

/** The exact command line of each probe, per mode (the scripted tests expect these strings). */
export const PROBE_COMMANDS = Object.freeze({
  cli: {
    help: 'help',
    'iptables-version': 'iptables -V',
    'iptables-comment': 'iptables -m comment --help',
    'arp-show': 'arp show',
    lanhosts: 'lanhosts show all',
  },
  shell: {
    release: 'cat /etc/openwrt_release /etc/os-release 2>/dev/null',
    // `which`, not `command -v`: dash and BusyBox ash print only the first name of `command -v a b`.
    commands: 'which nft fw4 fw3 nvram uci busybox iptables iptables-restore ip 2>/dev/null',
    'nvram-dd-board': 'nvram get DD_BOARD',
    'nvram-buildno': 'nvram get buildno',
    'nvram-os-version': 'nvram get os_version',
    'iptables-version': 'iptables -V 2>&1',
    'iptables-comment': 'iptables -m comment --help 2>&1',
    'proc-net-arp': 'cat /proc/net/arp 2>&1',
    'ip-neigh': 'ip -4 neigh show 2>&1',
    'lease-files': `for f in ${LEASE_FILES.join(' ')}; do [ -r "$f" ] && echo "$f"; done`,
    // Which program the shell is: decides how long a line it takes whole (apply-batch.ts).
    'shell-exe': 'readlink /proc/$$/exe 2>/dev/null',
    // What apply-batch.ts's lines rely on, in one line; a limited shell answers otherwise. (It
    // prints no final newline on purpose: the transport must frame such output too.)
    'shell-batch': `_L=1&&_C='printf %s_ "$_L"'&&{ eval "$_C";};_L=;_C=`,
  },
} as const);

export interface ProbeAnswer {
  id: ProbeId;
  command: string;
  where: ShellMode;
  output: string;
}

/** Everything the probes learned: the input of the pure decision. */
export interface RouterProbes {
  /** Where the login landed. */
  loginMode: ShellMode;
  /** The way from the CLI into a shell that worked; null: none found (or a shell login). */
  shellRoute: ShellRoute | null;
  /** Entry commands tried from the CLI, in order (empty for a shell login). */
  shellEntriesTried: readonly string[];
  answers: readonly ProbeAnswer[];
}

const IPTABLES_VERSION = /\bip(?:6)?tables v(\d+)\.(\d+)\.(\d+)(?:\.\d+)?(?:\s+\(([\w_]+)\))?/;

interface IptablesVersion {
  version: string;
  parts: [number, number, number];
  backend: 'legacy' | 'nft';
}

function parseVersion(text: string | undefined): IptablesVersion | null {
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

/** Basenames printed by `which a b c` (one path per line). */
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

/** The words of a vendor CLI's `help` (one command per line, or several per line): a hint only. */
export function cliHelpWords(text: string | undefined): Set<string> {
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
  if (problem && (problem.kind === 'no-extension' || problem.kind === 'bad-argument' || problem.kind === 'not-found' || problem.kind === 'unknown-command')) return false;
  return null;
}

function isArpTable(text: string | undefined): boolean {
  if (text === undefined || classifyRouterOutput(text) !== null) return false;
  return parseArpTableReport(text).entries.length > 0 || /^IP address\s+HW type/im.test(text);
}

function isLanHostsTable(text: string | undefined): boolean {
  if (text === undefined || classifyRouterOutput(text) !== null) return false;
  return parseLanHostsReport(text).entries.length > 0 || /^\s*(?:Active\s+)?MAC\s*Addr/im.test(text);
}

/** Lease files the `lease-files` probe listed, in LEASE_FILES order (only our own fixed paths). */
function existingLeaseFiles(text: string | undefined): string[] {
  if (text === undefined) return [];
  const listed = new Set(text.split(/\r?\n/).map((l) => l.trim()));
  return LEASE_FILES.filter((f) => listed.has(f));
}

/** Lease file a family's firmware is documented to use, tried first. */
const FAMILY_LEASE_FILE: Partial<Record<FirmwareFamily, string>> = {
  'dd-wrt': '/tmp/dnsmasq.leases',
  asuswrt: '/var/lib/misc/dnsmasq.leases',
  tomato: '/var/lib/misc/dnsmasq.leases',
};

function leaseFileFor(family: FirmwareFamily, existing: readonly string[]): string | null {
  const preferred = FAMILY_LEASE_FILE[family];
  if (preferred !== undefined && existing.includes(preferred)) return preferred;
  return existing[0] ?? null;
}

class Answers {
  private readonly answers: readonly ProbeAnswer[];
  constructor(answers: readonly ProbeAnswer[]) {
    // Total on odd input: an answer that is not text counts as silence.
    this.answers = answers.map((x) => (typeof x.output === 'string' ? x : { ...x, output: '' }));
  }
  get(id: ProbeId, where: ShellMode): ProbeAnswer | undefined {
    return this.answers.find((a) => a.id === id && a.where === where);
  }
  output(id: ProbeId, where: ShellMode): string | undefined {
    return this.get(id, where)?.output;
  }
}

interface FamilyChoice {
  family: FirmwareFamily;
  why: string;
}

/** The family, from the shell's release file, nvram and tools (or the CLI login itself). */
function familyOf(probes: Pick<RouterProbes, 'loginMode' | 'answers'>): FamilyChoice {
  const a = new Answers(probes.answers);
  if (probes.loginMode === 'cli') return { family: 'broadcom-cli', why: 'login landed in a vendor CLI' };
  const release = a.output('release', 'shell') ?? '';
  const found = foundCommands(a.output('commands', 'shell'));
  const version = parseVersion(a.output('iptables-version', 'shell'));
  if (/DISTRIB_ID=['"]?OpenWrt/i.test(release)) {
    const isFw4 = found.has('fw4') || (!found.has('fw3') && found.has('nft') && !found.has('iptables') && version === null);
    return { family: isFw4 ? 'openwrt-fw4' : 'openwrt-fw3', why: `/etc/openwrt_release says OpenWrt; ${isFw4 ? 'fw4/nft' : 'iptables (fw3)'} found` };
  }
  const dd = nvramValue(a.output('nvram-dd-board', 'shell'));
  if (dd !== null) return { family: 'dd-wrt', why: `nvram DD_BOARD=${sanitizeText(dd, 60)}` };
  const build = nvramValue(a.output('nvram-buildno', 'shell'));
  if (build !== null) return { family: 'asuswrt', why: `nvram buildno=${sanitizeText(build, 60)}` };
  const os = nvramValue(a.output('nvram-os-version', 'shell'));
  if (os !== null) return { family: 'tomato', why: `nvram os_version=${sanitizeText(os, 60)}` };
  if (/^ID=/m.test(release)) return { family: 'generic-linux', why: `/etc/os-release: ID=${sanitizeText(/^ID=(.*)$/m.exec(release)?.[1] ?? '?', 40)}` };
  if (found.has('busybox')) return { family: 'busybox', why: 'a BusyBox shell' };
  return { family: 'generic-linux', why: 'a Linux shell without BusyBox, OpenWrt or nvram' };
}

function evidenceOf(answer: ProbeAnswer | undefined, isAccepted: boolean): ProbeEvidence[] {
  if (answer === undefined || typeof answer.output !== 'string') return [];
  const firstLines = answer.output.split(/\r?\n/).filter((l) => l.trim() !== '').slice(0, 2).join(' ⏎ ');
  return [{ command: answer.command, where: answer.where, answer: sanitizeText(firstLines, 120), isAccepted }];
}

const placeOf = (where: ShellMode, route: ShellRoute | null): string => (where === 'cli' ? 'the CLI' : route ? `the shell (via \`${route.enter}\`)` : 'the shell');

/**
 * Decides the family, the command table (what runs where) and the capabilities from probe
 * answers. Pure and total: a probe that was not run lowers confidence (nulls), it never throws.
 */
export function detectFirmware(probes: RouterProbes): FirmwareProfile {
  const a = new Answers(probes.answers);
  const decisions: DetectionDecision[] = [];
  const evidence: string[] = [];
  const route = probes.loginMode === 'cli' ? probes.shellRoute : null;
  const hasShell = probes.loginMode === 'shell' || route !== null;

  const { family, why } = familyOf(probes);
  evidence.push(why);
  decisions.push({ what: 'login', chosen: probes.loginMode === 'cli' ? 'a vendor CLI (the sentinel probe found no POSIX shell)' : 'a POSIX shell', tried: [] });
  decisions.push({ what: 'family', chosen: `${family}: ${why}`, tried: [...evidenceOf(a.get('release', 'shell'), true), ...evidenceOf(a.get('commands', 'shell'), true)] });
  if (probes.loginMode === 'cli') {
    const hint = [...cliHelpWords(a.output('help', 'cli'))].filter((w) => ['arp', 'lanhosts', 'iptables', 'sh', 'shell'].includes(w));
    evidence.push(`CLI help lists ${hint.join(', ') || 'none of arp/lanhosts/iptables/sh/shell'} (a hint only)`);
    const tried: ProbeEvidence[] = probes.shellEntriesTried.map((entry) => ({ command: entry, where: 'cli', answer: entry === route?.enter ? 'a POSIX shell (sentinel probe)' : 'no shell', isAccepted: entry === route?.enter }));
    decisions.push({ what: 'shell', chosen: route ? `\`${route.enter}\` leads to a shell, \`${route.exit}\` back` : 'no shell behind the CLI', tried });
    evidence.push(route ? `\`${route.enter}\` reaches a shell` : `no shell (tried ${probes.shellEntriesTried.join(', ') || 'nothing'})`);
  }

  const table: FirmwareCommands = {
    shellRoute: route,
    listArp: { command: 'cat /proc/net/arp', where: 'shell' },
    listNames: null,
    iptables: null,
    iptablesRestore: null,
  };

  // iptables: the shell first (sentinel framing, exit status, iptables-restore), else the CLI.
  const shellVersion = hasShell ? parseVersion(a.output('iptables-version', 'shell')) : null;
  const cliVersion = probes.loginMode === 'cli' ? parseVersion(a.output('iptables-version', 'cli')) : null;
  const version = shellVersion ?? cliVersion;
  const iptablesWhere: ShellMode | null = shellVersion ? 'shell' : cliVersion ? 'cli' : null;
  if (iptablesWhere !== null) table.iptables = { binary: 'iptables', command: 'iptables', where: iptablesWhere };
  decisions.push({
    what: 'iptables',
    chosen: iptablesWhere && version ? `\`iptables\` in ${placeOf(iptablesWhere, route)}: v${version.version} (${version.backend})` : 'no iptables answered',
    tried: [...evidenceOf(a.get('iptables-version', 'shell'), shellVersion !== null), ...evidenceOf(a.get('iptables-version', 'cli'), cliVersion !== null)],
  });
  if (version && iptablesWhere) evidence.push(`iptables v${version.version} (${version.backend}) in ${placeOf(iptablesWhere, route)}`);
  else evidence.push('no iptables answered');

  const found = foundCommands(a.output('commands', 'shell'));
  if (iptablesWhere === 'shell' && found.has('iptables-restore')) table.iptablesRestore = { command: 'iptables-restore', where: 'shell' };
  const batchAnswer = a.get('shell-batch', 'shell');
  const isBatchShell = batchAnswer === undefined || batchAnswer.output.trim() === '1_';
  decisions.push({
    what: 'batch',
    chosen: iptablesWhere === 'shell' && !isBatchShell
      ? 'changes line by line (this shell does not run what batching needs)'
      : table.iptablesRestore ? 'changes in one batch with `iptables-restore --noflush`' : iptablesWhere === 'shell' ? 'changes as a few shell lines (no iptables-restore)' : iptablesWhere === 'cli' ? 'changes line by line (the CLI runs one command per line)' : 'no changes possible',
    tried: [...evidenceOf(a.get('commands', 'shell'), table.iptablesRestore !== null), ...evidenceOf(batchAnswer, isBatchShell)],
  });

  // ARP: where iptables runs first (fewer mode changes per poll), then anywhere that parsed.
  const home: ShellMode = iptablesWhere ?? probes.loginMode;
  const arpCandidates: Array<{ id: ProbeId; spec: CommandSpec }> = [
    { id: 'proc-net-arp', spec: { command: 'cat /proc/net/arp', where: 'shell' } },
    { id: 'ip-neigh', spec: { command: 'ip -4 neigh show', where: 'shell' } },
    { id: 'arp-show', spec: { command: 'arp show', where: 'cli' } },
  ];
  const arpTried = arpCandidates.flatMap((c) => evidenceOf(a.get(c.id, c.spec.where), isArpTable(a.output(c.id, c.spec.where))));
  const arpOk = arpCandidates.filter((c) => (c.spec.where === 'cli' || hasShell) && isArpTable(a.output(c.id, c.spec.where)));
  const arp = arpOk.find((c) => c.spec.where === home) ?? arpOk[0];
  if (arp) table.listArp = arp.spec;
  else if (probes.loginMode === 'cli' && !hasShell) table.listArp = { command: 'arp show', where: 'cli' };
  decisions.push({ what: 'arp', chosen: arp ? `\`${arp.spec.command}\` in ${placeOf(arp.spec.where, route)}` : `nothing parsed; will try \`${table.listArp.command}\``, tried: arpTried });

  // Names: a lease file in the shell, or the CLI's `lanhosts show all`; a nicety, may be none.
  const leaseFile = hasShell ? leaseFileFor(family, existingLeaseFiles(a.output('lease-files', 'shell'))) : null;
  const leaseAnswer = a.get('leases', 'shell');
  const isLeaseOk = leaseFile !== null && leaseAnswer !== undefined && classifyRouterOutput(leaseAnswer.output) === null;
  const isLanhostsOk = probes.loginMode === 'cli' && isLanHostsTable(a.output('lanhosts', 'cli'));
  const nameCandidates: Array<FirmwareCommands['listNames'] & object> = [];
  if (isLeaseOk) nameCandidates.push({ command: `cat ${leaseFile}`, where: 'shell', parser: 'dhcp-leases' });
  if (isLanhostsOk) nameCandidates.push({ command: 'lanhosts show all', where: 'cli', parser: 'lan-hosts' });
  table.listNames = nameCandidates.find((c) => c.where === home) ?? nameCandidates[0] ?? null;
  decisions.push({
    what: 'names',
    chosen: table.listNames
      ? `\`${table.listNames.command}\` in ${placeOf(table.listNames.where, route)}`
      : `none: ${hasShell ? `no lease file in ${LEASE_FILES.join(', ')}` : 'no shell to read lease files'}${probes.loginMode === 'cli' ? ', and `lanhosts show all` did not answer with a host table' : ''}; devices show by address and MAC`,
    tried: [...evidenceOf(a.get('lease-files', 'shell'), leaseFile !== null), ...evidenceOf(leaseAnswer, isLeaseOk), ...evidenceOf(a.get('lanhosts', 'cli'), isLanhostsOk)],
  });

  const nftOnly = version === null && (found.has('nft') || family === 'openwrt-fw4');
  if (nftOnly) evidence.push('nftables only: lantop cannot count here yet (nftables accounting comes in a later issue)');
  const commentAnswer = iptablesWhere ? a.get('iptables-comment', iptablesWhere) : undefined;
  const capabilities: FirmwareCapabilities = {
    hasCommentMatch: version ? commentCapability(commentAnswer?.output) : null,
    hasCheck: version ? atLeast(version.parts, [1, 4, 11]) : null,
    iptablesVersion: version?.version ?? null,
    backend: version?.backend ?? null,
    shellLineBytes: hasShell && a.get('shell-exe', 'shell') !== undefined ? maxLineBytesForShell(a.output('shell-exe', 'shell')!.trim().split(/\r?\n/)[0] ?? null) : null,
    hasShellBatch: hasShell && a.get('shell-batch', 'shell') !== undefined ? a.output('shell-batch', 'shell')!.trim() === '1_' : null,
    nftOnly,
  };
  if (version) {
    decisions.push({
      what: 'comment',
      chosen: capabilities.hasCommentMatch === true ? 'rules tagged with `-m comment`' : capabilities.hasCommentMatch === false ? 'no comment match: rules recognised by their shape' : 'comment match not determined: tried at setup',
      tried: evidenceOf(commentAnswer, capabilities.hasCommentMatch === true),
    });
  }
  return { family, commands: table, capabilities, evidence, decisions, source: 'probed' };
}

/** Runs one probe and records its answer. */
type ProbeRunner = (id: ProbeId, where: ShellMode, command: string) => Promise<string>;

/** The shell's probes, in the order that lets later ones be skipped. */
async function probeShell(run: ProbeRunner, answers: ProbeAnswer[], loginMode: ShellMode): Promise<void> {
  const c = PROBE_COMMANDS.shell;
  await run('release', 'shell', c.release);
  const found = foundCommands(await run('commands', 'shell', c.commands));
  await run('shell-exe', 'shell', c['shell-exe']);
  await run('shell-batch', 'shell', c['shell-batch']);
  if (found.has('nvram')) {
    if (nvramValue(await run('nvram-dd-board', 'shell', c['nvram-dd-board'])) === null && nvramValue(await run('nvram-buildno', 'shell', c['nvram-buildno'])) === null) {
      await run('nvram-os-version', 'shell', c['nvram-os-version']);
    }
  }
  if (parseVersion(await run('iptables-version', 'shell', c['iptables-version'])) !== null) await run('iptables-comment', 'shell', c['iptables-comment']);
  if (!isArpTable(await run('proc-net-arp', 'shell', c['proc-net-arp'])) && found.has('ip')) await run('ip-neigh', 'shell', c['ip-neigh']);
  const existing = existingLeaseFiles(await run('lease-files', 'shell', c['lease-files']));
  const leaseFile = leaseFileFor(familyOf({ loginMode, answers }).family, existing);
  if (leaseFile !== null) await run('leases', 'shell', `cat ${leaseFile}`);
}

/**
 * Runs the read-only probes. In a vendor CLI: its own commands, then each shell entry (those
 * `help` lists first, then the usual others) until the sentinel probe answers, then the shell's
 * probes. The session is left wherever the probes ended; later commands move as they need.
 * Transport errors propagate typed (TimeoutError, ConnectionLostError…).
 */
export async function probeRouter(session: Session): Promise<RouterProbes> {
  const answers: ProbeAnswer[] = [];
  const run: ProbeRunner = async (id, where, command) => {
    const output = await session.exec(command, { where });
    answers.push({ id, command, where, output });
    return output;
  };
  const loginMode: ShellMode = isModalSession(session) ? session.loginMode : session.mode;
  let shellRoute: ShellRoute | null = null;
  let shellEntriesTried: string[] = [];
  if (loginMode === 'cli') {
    const c = PROBE_COMMANDS.cli;
    const help = cliHelpWords(await run('help', 'cli', c.help));
    const cliVersion = parseVersion(await run('iptables-version', 'cli', c['iptables-version']));
    await run('arp-show', 'cli', c['arp-show']);
    await run('lanhosts', 'cli', c.lanhosts);
    if (isModalSession(session)) {
      // What `help` lists is tried first; the rest are tried anyway (help hides them).
      shellEntriesTried = [...SHELL_ENTRY_CANDIDATES].sort((x, y) => Number(help.has(y.split(' ')[0]!)) - Number(help.has(x.split(' ')[0]!)));
      shellRoute = await session.findShell(shellEntriesTried);
      if (shellRoute !== null) shellEntriesTried = shellEntriesTried.slice(0, shellEntriesTried.indexOf(shellRoute.enter) + 1);
    }
    if (shellRoute !== null) await probeShell(run, answers, loginMode);
    const isShellIptables = parseVersion(answers.find((x) => x.id === 'iptables-version' && x.where === 'shell')?.output) !== null;
    if (cliVersion !== null && !isShellIptables) await run('iptables-comment', 'cli', c['iptables-comment']);
  } else {
    await probeShell(run, answers, loginMode);
  }
  return { loginMode, shellRoute, shellEntriesTried, answers };
}

/** Probes and decides: the router's profile as it answered on this session. */
export async function probeFirmware(session: Session): Promise<FirmwareProfile> {
  return detectFirmware(await probeRouter(session));
}
