// Runs the read-only probes of probes.ts on a session (probeRouter) and hands the answers to the
// pure decision (detectFirmware). Later probes are skipped when earlier answers make them pointless
// (no nvram, no iptables, an ARP table already read).
import { TimeoutError } from '../../errors.js';
import { isModalSession, SHELL_ENTRY_CANDIDATES, type Session, type ShellMode, type ShellRoute } from '../../transport/session.js';
import { detectFirmware } from './detect-firmware.js';
import { familyOf, leaseFileFor } from './family-rules.js';
import type { FirmwareProfile } from './families.js';
import { maxLineBytesForShell, PLAIN_SHELL_MAX_LINE_BYTES } from './line-budget.js';
import { cliHelpWords, existingLeaseFiles, foundCommands, isArpTable, nvramValue, parseNftVersion, parseVersion } from './probe-answers.js';
import { PROBE_COMMANDS, type ProbeAnswer, type ProbeId, type RouterProbes } from './probes.js';

/** Runs one probe and records its answer. */
type ProbeRunner = (id: ProbeId, where: ShellMode, command: string) => Promise<string>;

/** The shell's probes, in the order that lets later ones be skipped. */
async function probeShell(run: ProbeRunner, answers: ProbeAnswer[], loginMode: ShellMode): Promise<void> {
  const c = PROBE_COMMANDS.shell;
  await run('release', 'shell', c.release);
  const found = foundCommands(await run('commands', 'shell', c.commands));
  const exe = await run('shell-exe', 'shell', c['shell-exe']);
  const isBatchShell = (await run('shell-batch', 'shell', c['shell-batch'])).trim() === '1_';
  if (found.has('nvram')) {
    if (nvramValue(await run('nvram-dd-board', 'shell', c['nvram-dd-board'])) === null && nvramValue(await run('nvram-buildno', 'shell', c['nvram-buildno'])) === null) {
      await run('nvram-os-version', 'shell', c['nvram-os-version']);
    }
  }
  if (parseVersion(await run('iptables-version', 'shell', c['iptables-version'])) !== null) {
    await run('iptables-comment', 'shell', c['iptables-comment']);
    // Batched changes go in lines as long as the shell takes: measured where its name leaves that
    // open (BusyBox ash keeps 510 bytes on OpenWrt, 1022 on Debian). A shell that cut the probe in
    // a way it could not recover from timed out; the session reconnects and the safe default stays.
    if (isBatchShell && maxLineBytesForShell(exe.trim().split(/\r?\n/)[0] ?? null) !== PLAIN_SHELL_MAX_LINE_BYTES) {
      await run('shell-line', 'shell', c['shell-line']).catch((error: unknown) => {
        if (!(error instanceof TimeoutError)) throw error;
        answers.push({ id: 'shell-line', command: c['shell-line'], where: 'shell', output: '' });
      });
    }
  }
  // IPv6 and nftables (issue 15): only what `which` found.
  if (found.has('ip6tables')) await run('ip6tables-version', 'shell', c['ip6tables-version']);
  if (found.has('nft') && parseNftVersion(await run('nft-version', 'shell', c['nft-version'])) !== null) await run('nft-json', 'shell', c['nft-json']);
  if (!isArpTable(await run('proc-net-arp', 'shell', c['proc-net-arp'])) && found.has('ip')) await run('ip-neigh', 'shell', c['ip-neigh']);
  if (found.has('ip')) await run('ip6-neigh', 'shell', c['ip6-neigh']);
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
