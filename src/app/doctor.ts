// `lantop doctor`: read-only. Connects, runs every probe afresh, and explains what was detected
// and why, where each command will run, whether names are available (and why not), and what
// `setup` would do. Writes a transcript (password masked, router text sanitised) to attach to a
// bug report. Nothing is changed on the router.
import { EXIT, LantopError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import type { ReconnectingSession } from '../transport/reconnecting-session.js';
import { openSession } from '../transport/connect.js';
import { Transcript } from '../transport/transcript.js';
import { RouterClient } from '../router/router-client.js';
import type { CommandSpec, FirmwareProfile } from '../router/firmware/families.js';
import { identityHash, routerKey } from '../router/firmware/stored-profile.js';
import { describeDetection, detectWan, probeAndStore, routerLabel, sessionOptions } from './open-router.js';
import type { OffloadReport } from '../domain/offload-model.js';
import type { Services } from './services.js';

export interface DoctorOptions {
  json?: boolean;
  /** Transcript path; default lantop-doctor-<time>.txt in the working directory. */
  transcript?: string;
}

export interface DoctorReport {
  router: string;
  loginMs: number | null;
  loginMode: 'cli' | 'shell' | null;
  storedProfile: 'matched' | 'stale' | 'none';
  firmware: Pick<FirmwareProfile, 'family' | 'commands' | 'capabilities' | 'decisions' | 'evidence'> | null;
  /** How lantop counts here, in the backend's words; null when no backend fits. */
  accounting: string | null;
  runsWhere: Array<{ what: string; command: string; where: 'cli' | 'shell' }>;
  hosts: { count: number; named: number } | null;
  names: string | null;
  setup: { commands: string[]; isInstalled: boolean } | null;
  /** Fast paths that skip the counters (issue 19), from read-only probes; null: not probed (no shell, or a problem first). */
  offload: OffloadReport | null;
  /** The WAN interface's own counters as one read saw them (issue 19: what accounted % compares against); null: not read. */
  wan: { interface: string; rxBytes: number; txBytes: number; linkHeaderBytes: number; counterBits: 32 | 64 } | null;
  /** The connection table the drill-down reads (`lantop top`); null: none readable or not probed. */
  connections: { source: string; accounting: 'on' | 'off' | 'unknown' } | null;
  problems: string[];
  transcript: string;
}

const place = (spec: CommandSpec) => (spec.where === 'cli' ? 'the CLI' : 'the shell');

export async function runDoctor(deps: Services, options: DoctorOptions): Promise<number> {
  const password = await deps.password.get();
  const settings = { ...deps.settings, isRedetecting: true };
  const path = options.transcript ?? settings.tracePath ?? `lantop-doctor-${new Date(deps.clock.now()).toISOString().replace(/[:.]/g, '-')}.txt`;
  const transcript = Transcript.toFile(path, [password]);
  transcript.note(`lantop doctor: ${routerLabel(settings)}, user ${sanitizeText(settings.user, 64)}`);
  const report: DoctorReport = {
    router: routerLabel(settings), loginMs: null, loginMode: null, storedProfile: 'none', firmware: null,
    accounting: null, runsWhere: [], hosts: null, names: null, setup: null, offload: null, wan: null, connections: null, problems: [], transcript: path,
  };
  const login = sessionOptions(settings, password, { profiles: deps.profiles, transcript, onWarning: deps.note });
  let session: ReconnectingSession | null = null;
  let code: number = EXIT.ok;
  try {
    const startedMs = Date.now();
    session = await openSession(login);
    report.loginMs = Date.now() - startedMs;
    report.loginMode = session.loginMode;
    const stored = deps.profiles?.getDetected(routerKey(settings));
    if (stored) report.storedProfile = session.identity !== null && stored.identity === identityHash(session.identity) ? 'matched' : 'stale';
    const firmware = await probeAndStore(session, settings, deps.profiles);
    transcript.note(describeDetection(firmware).join('\n'));
    const { family, commands, capabilities, decisions, evidence } = firmware;
    report.firmware = { family, commands, capabilities, decisions, evidence };
    report.runsWhere.push({ what: 'LAN hosts', ...commands.listArp });
    if (commands.listNames) report.runsWhere.push({ what: 'host names', command: commands.listNames.command, where: commands.listNames.where });
    report.names = decisions.find((d) => d.what === 'names')?.chosen ?? null;
    // Refuses a router it cannot count on (no backend fits): reported as a problem below.
    // `--wan auto` (or a saved `wan auto`) is resolved as setup and usage resolve it: the default
    // route's interface; a router without one is a problem in the report, counted on ppp0 meanwhile.
    let wan = settings.wan;
    if (wan === 'auto') {
      try {
        wan = await detectWan(session);
      } catch (error) {
        if (!(error instanceof LantopError)) throw error;
        report.problems.push(`--wan auto: ${error.message} → ${error.nextStep ?? 'pass --wan IFACE'}`);
        wan = 'ppp0';
      }
    }
    const client = new RouterClient(session, firmware, { wan, isManaged: false, readsWan: true });
    report.accounting = client.backend.describe();
    report.runsWhere.push({ what: 'counters', ...client.backend.readCommand });
    if (commands.iptablesRestore) report.runsWhere.push({ what: 'changes (one batch)', command: `${commands.iptablesRestore.command} --noflush`, where: 'shell' });
    else if (commands.iptables) report.runsWhere.push({ what: 'changes (line by line)', command: commands.iptables.command, where: commands.iptables.where });
    const { plan, hosts } = await client.planSetup();
    report.hosts = { count: hosts.length, named: hosts.filter((h) => h.hostname !== null && h.hostname !== '').length };
    report.setup = { commands: plan.commands, isInstalled: plan.commands.length === 0 };
    // Now that the router was read (and planned for), the backend names the layout it has or would set up.
    report.accounting = client.backend.describe();
    const sample = client.lastWanSample;
    if (sample !== null) report.wan = { interface: sample.interface, rxBytes: sample.rxBytes, txBytes: sample.txBytes, linkHeaderBytes: sample.linkHeaderBytes, counterBits: sample.counterBits };
    else report.problems.push(`the WAN interface's counters could not be read (${client.wan} in /proc/net/dev): accounted % is not shown → check --wan (\`ip route show default\` on the router names it)`);
    report.offload = await client.probeOffload(deps.clock.now());
    const someone = hosts[0];
    if (someone !== undefined) {
      try {
        const table = await client.connections.read(someone.addresses.length > 0 ? someone.addresses : [someone.ip]);
        report.connections = { source: table.source, accounting: table.accounting };
      } catch (error) {
        if (!(error instanceof LantopError)) throw error;
        report.problems.push(`drill-down: ${error.message}`);
      }
    }
  } catch (error) {
    if (!(error instanceof LantopError)) throw error;
    report.problems.push(error.message + (error.nextStep ? ` → ${error.nextStep}` : ''));
    code = error.exitCode;
  } finally {
    for (const problem of report.problems) transcript.note(`problem: ${problem}`);
    transcript.flushPending();
    await session?.close().catch(() => undefined);
  }
  deps.io.stdout.write(options.json ? JSON.stringify(report, null, 2) + '\n' : renderDoctor(report));
  return code;
}

/** The report in words (every router-derived string is already sanitised; sanitised again here). */
function renderDoctor(report: DoctorReport): string {
  const out: string[] = [];
  const s = (text: string) => sanitizeText(text, 300);
  out.push(`lantop doctor — ${s(report.router)}`);
  if (report.loginMs !== null) out.push(`  logged in in ${report.loginMs} ms; the login lands in ${report.loginMode === 'cli' ? 'a vendor CLI' : 'a POSIX shell'}`);
  if (report.storedProfile !== 'none') out.push(`  stored profile from an earlier run: ${report.storedProfile === 'matched' ? 'still matches this router (normal starts reuse it)' : 'does not match any more (the next start probes again)'}`);
  const f = report.firmware;
  if (f) {
    out.push('', `Detected: ${f.family}`);
    for (const d of f.decisions) {
      out.push(`  ${d.what.padEnd(8)} ${s(d.chosen)}`);
      for (const t of d.tried) out.push(`           ${t.isAccepted ? '✔' : '✘'} \`${s(t.command)}\` in ${t.where === 'cli' ? 'the CLI' : 'the shell'} → ${s(t.answer || '(silence)')}`);
    }
    if (report.accounting !== null) out.push('', `Counting with ${s(report.accounting)}`);
    out.push('', 'Where each command runs:');
    for (const r of report.runsWhere) out.push(`  ${r.what.padEnd(22)} \`${s(r.command)}\` in ${place(r)}`);
    if (f.commands.shellRoute) out.push(`  ${'moving between them'.padEnd(22)} \`${s(f.commands.shellRoute.enter)}\` into the shell, \`${s(f.commands.shellRoute.exit)}\` back`);
  }
  if (report.hosts) {
    out.push('', `Hosts: ${report.hosts.count} on the LAN, ${report.hosts.named} with a name`);
    if (report.names) out.push(`  names: ${s(report.names)}`);
  }
  if (report.setup) {
    out.push('', report.setup.isInstalled ? 'Setup: lantop\'s rules are in place; `setup` has nothing to do.' : `Setup would run ${report.setup.commands.length} command(s) (see \`lantop setup --dry-run\`), e.g.:`);
    for (const command of report.setup.commands.slice(0, 6)) out.push(`  ${s(command)}`);
    if (report.setup.commands.length > 6) out.push(`  … ${report.setup.commands.length - 6} more`);
  }
  if (report.wan) out.push('', `WAN counters: ${s(report.wan.interface)} (${report.wan.counterBits}-bit, ${report.wan.linkHeaderBytes} B of link header per packet taken off): accounted % compares the per-device counters with it`);
  if (report.connections) {
    out.push('', `Connections (lantop top): ${s(report.connections.source)}, byte accounting ${report.connections.accounting}${report.connections.accounting === 'off' ? ' — `lantop top DEVICE --enable-accounting` turns it on' : ''}`);
  }
  if (report.offload) {
    const found = report.offload.findings.filter((f) => f.state !== 'unknown' || f.evidence !== '');
    out.push('', report.offload.isOn ? 'Fast paths: ON — per-device numbers undercount' : `Fast paths: none on${found.length > 0 ? '' : ' (none found)'}`);
    for (const f of found) {
      out.push(`  ${f.state === 'on' ? '⚠' : ' '} ${s(f.name)}: ${f.state}${f.isHardware ? ' (hardware)' : ''} — ${s(f.evidence)}`);
      if (f.state === 'on' && f.howToDisable) out.push(`      to turn it off (lantop never does): ${s(f.howToDisable)}`);
    }
    if (report.offload.warning) out.push(`  ${s(report.offload.warning)}`);
  }
  if (report.problems.length > 0) {
    out.push('', 'Problems:');
    for (const p of report.problems) out.push(`  ${s(p)}`);
  }
  out.push('', `Transcript: ${s(report.transcript)} (password masked, router text sanitised) — attach it to a bug report.`);
  return out.join('\n') + '\n';
}
