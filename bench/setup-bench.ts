// Section 6 (issue 13, item 6): setting up 254 hosts, and re-installing after a reboot, on the lab
// router. Uses the transport's connect functions and applyBatch directly, so it measures the batch
// itself, not RouterClient's wiring.
//
// Limit = the router's own `iptables-restore --noflush` of the same rules (run in the router's
// namespace, timed by bash's EPOCHREALTIME) + one round trip (`:` over the same session).
// Target: lantop's set-up ≤ 2 × limit, with the line budget the line probe measured (issue 21), in
// the lab's default shell (dash) and behind Debian's BusyBox ash with line editing; re-install after
// lab.reboot() ≤ 1 poll interval (1 s).
import { startLab, type Lab } from '../test/lab/lab.js';
import { normalizeIptablesSave } from '../test/lab/lab-model.js';
import { connectTelnet, type TelnetSession } from '../src/transport/telnet.js';
import { connectSsh, type SshSession } from '../src/transport/ssh.js';
import { applyBatch, type BatchOutcome, type BatchTarget } from '../src/router/backends/iptables/apply/apply-batch.js';
import { DEFAULT_MAX_LINE_BYTES, keptLineBytes, LINE_PROBE_COMMAND, maxLineBytesForShell, maxLineBytesFromProbe } from '../src/router/firmware/line-budget.js';
import type { RunCommand } from '../src/router/backends/iptables/apply/method-result.js';
import { planRestoreDelivery, toRestoreScript } from '../src/router/backends/iptables/apply/restore.js';
import { planShellBatch } from '../src/router/backends/iptables/apply/shell-batch.js';
import { planSetup, type PlanOptions } from '../src/router/backends/iptables/plan.js';
import { defaultLayoutFor } from '../src/router/backends/iptables/layouts.js';
import { parseIptablesListing } from '../src/router/parsers/iptables-listing.js';
import type { ShellMode } from '../src/transport/session.js';
import { log, median, round, timeRuns, withTimeout } from './util.js';

const HOSTS = 254;
const LISTING = 'iptables -L -v -x -n --line-numbers';
const POLL_INTERVAL_MS = 1000;

export interface SetupBenchOptions {
  backend: 'legacy' | 'nft';
  /** Timed runs of each batch variant (each from the boot firewall). */
  runs: number;
  /** Reboots for the re-install figure. */
  reboots: number;
  /** Also apply line by line through the vendor CLI (the old way; ~half a minute per run). */
  doCliLineByLine: boolean;
}

type AnySession = TelnetSession | SshSession;

/** Runs a command where it belongs, moving between the vendor CLI and its shell like RouterClient does. */
function runnerFor(session: AnySession, timeoutMs = 20_000): RunCommand & { count: number } {
  const run = (async ({ command, where }: { command: string; where: ShellMode }) => {
    run.count++;
    if (where === 'shell' && session.mode === 'cli') await session.enterShell();
    else if (where === 'cli' && session.mode === 'shell' && 'exitShell' in session) await session.exitShell();
    return session.exec(command, { timeoutMs });
  }) as RunCommand & { count: number };
  run.count = 0;
  return run;
}

const telnet = (lab: Lab) => withTimeout(connectTelnet({ host: lab.routerIp, port: lab.telnetPort, user: lab.user, password: lab.password }), 30_000, 'telnet login');
const ssh = (lab: Lab) => withTimeout(connectSsh({ host: lab.routerIp, port: lab.sshPort, user: lab.user, password: lab.password }), 30_000, 'ssh login');

/** The filter table, chain counters zeroed (the lab's own traffic moves INPUT's). */
async function save(lab: Lab): Promise<string> {
  const r = await lab.exec(['iptables-save', '-t', 'filter']);
  if (r.code !== 0) throw new Error(`iptables-save: ${r.stderr}`);
  return normalizeIptablesSave(r.stdout);
}

async function reset(lab: Lab, bootDump: string): Promise<void> {
  const r = await lab.exec(['iptables-restore'], { input: bootDump, timeoutMs: 20_000 });
  if (r.code !== 0) throw new Error(`iptables-restore (reset): ${r.stderr}`);
}

/** The router's own iptables-restore of the plan, timed inside the router namespace. */
async function localRestore(lab: Lab, bootDump: string, script: string, runs: number, isWarmingUp = true): Promise<number[]> {
  const times: number[] = [];
  const warmup = isWarmingUp ? 1 : 0;
  for (let i = 0; i < runs + warmup; i++) {
    await reset(lab, bootDump);
    const r = await lab.exec(['bash', '-c', 's=$EPOCHREALTIME; iptables-restore --noflush; c=$?; e=$EPOCHREALTIME; echo "$c $s $e"'], { input: script, timeoutMs: 20_000 });
    const [code, s, e] = r.stdout.trim().split(' ');
    if (r.code !== 0 || code !== '0') throw new Error(`local iptables-restore failed: ${r.stdout} ${r.stderr}`);
    if (i >= warmup) times.push((Number(e) - Number(s)) * 1000);
  }
  return times;
}

function planFor(listingText: string, iptables: string): string[] {
  const listing = parseIptablesListing(listingText);
  // The layout lantop sets up when none is asked for (what `lantop setup` does).
  const options: PlanOptions = { wan: 'ppp0', layout: defaultLayoutFor(HOSTS), isTagging: true, isAdopting: false, isPruning: false, iptables };
  return planSetup(listing, Array.from({ length: HOSTS }, (_, i) => `198.51.100.${i + 1}`), options).commands;
}

interface Variant {
  label: string;
  target: BatchTarget;
}

/**
 * Each run of a variant is preceded by one run of the router's own restore (the machine is
 * shared and drifts: a variant's ratio uses the local runs interleaved with it).
 */
async function timeApply(lab: Lab, bootDump: string, expected: string, session: AnySession, commands: string[], variant: Variant, runs: number, script: string): Promise<{ times: number[]; planTimes: number[]; localTimes: number[]; roundTrips: number; method: string }> {
  const times: number[] = [];
  const planTimes: number[] = [];
  const localTimes: number[] = [];
  let last: BatchOutcome | null = null;
  for (let i = 0; i < runs; i++) {
    localTimes.push(...(await localRestore(lab, bootDump, script, 1, false)));
    await reset(lab, bootDump);
    const run = runnerFor(session);
    const t0 = performance.now();
    last = await applyBatch(run, variant.target, commands);
    times.push(performance.now() - t0);
    // lantop's own CPU in that: writing the lines (measured after the apply, so it warms nothing).
    if (variant.target.restore !== null && variant.target.isShell) {
      const p0 = performance.now();
      planRestoreDelivery(commands, { restoreCommand: variant.target.restore.command, maxLineBytes: variant.target.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, nonce: '000000000000' });
      planTimes.push(performance.now() - p0);
    }
    if (last.failed) throw new Error(`${variant.label}: ${last.failed.command}: ${last.failed.output}`);
    if (i === 0 && (await save(lab)) !== expected) throw new Error(`${variant.label}: the filter table differs from the router's own iptables-restore`);
  }
  return { times, planTimes, localTimes, roundTrips: last!.roundTrips, method: last!.method };
}

const summary = (times: number[]) => ({ medianMs: round(median(times)), runsMs: times.map((t) => round(t, 1)) });

/** The line probe lantop runs at detection (firmware/line-budget.ts), on this session. */
async function probeLine(run: RunCommand): Promise<{ keptBytes: number | 'whole' | null; maxLineBytes: number }> {
  const answer = await run({ command: LINE_PROBE_COMMAND, where: 'shell' });
  return { keptBytes: keptLineBytes(answer), maxLineBytes: maxLineBytesFromProbe(answer) ?? DEFAULT_MAX_LINE_BYTES };
}

const restore = { command: 'iptables-restore', where: 'shell' as const };
const shellTarget = (maxLineBytes: number): BatchTarget => ({ iptables: { binary: 'iptables', where: 'shell' }, restore, isShell: true, maxLineBytes });
const linesAt = (commands: string[], maxLineBytes: number) => planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes, nonce: '000000000000' })?.lines.length;

interface ShellFigures {
  out: Record<string, unknown>;
  commands: string[];
  bootDump: string;
  expected: string;
  probedBytes: number;
}

/**
 * One lab shell: its line probe, the router's own restore and a round trip (the limit), then each
 * way of applying the plan, interleaved with the router's own restore. `isFull`: every way (the
 * lab's default shell); otherwise the restore variants only (BusyBox ash with line editing).
 */
async function benchShell(lab: Lab, options: SetupBenchOptions, isFull: boolean, sessions: AnySession[]): Promise<ShellFigures> {
  const out: Record<string, unknown> = {};
  const bootDump = await save(lab);
  const tel = await telnet(lab);
  sessions.push(tel);
  const telRun = runnerFor(tel);
  const commands = planFor(await telRun({ command: LISTING, where: 'shell' }), 'iptables');
  const script = toRestoreScript(commands)!;
  out.commands = commands.length;
  out.scriptBytes = script.length;
  // What detection learns in this shell: its name (readlink), then the line probe where the name leaves it open.
  const exe = await telRun({ command: 'readlink /proc/$$/exe', where: 'shell' });
  const probe = await probeLine(telRun);
  out.shell = { exe: exe.trim().slice(0, 80), maxLineBytesByName: maxLineBytesForShell(exe), lineProbe: probe };

  log('setup: the router\'s own iptables-restore');
  const local = await localRestore(lab, bootDump, script, options.runs * 2);
  const expected = await save(lab);
  const sshSession = await ssh(lab);
  sessions.push(sshSession);
  const sshProbe = await probeLine(runnerFor(sshSession));
  if (sshProbe.maxLineBytes !== probe.maxLineBytes) throw new Error(`the line probe differs: telnet ${probe.maxLineBytes}, ssh ${sshProbe.maxLineBytes}`);

  log('setup: round trips');
  const rtt: Record<string, number[]> = {};
  for (const [name, session] of [['telnet', tel], ['ssh', sshSession]] as const) {
    const run = runnerFor(session);
    rtt[name] = await timeRuns(isFull ? 60 : 20, () => run({ command: ':', where: 'shell' }), 5);
  }
  const limit = (name: string) => median(local) + median(rtt[name]!);
  out.limit = {
    localRestoreMs: summary(local), telnetRttMs: round(median(rtt.telnet!), 3), sshRttMs: round(median(rtt.ssh!), 3),
    telnetLimitMs: round(limit('telnet')), sshLimitMs: round(limit('ssh')),
  };

  const probed = probe.maxLineBytes;
  const variants: Array<[string, AnySession, Variant, number]> = [
    // The target's variants get twice the runs: a run is ~5 ms, and this machine is shared.
    ['telnet', tel, { label: `restore, probed lines (${probed} bytes)`, target: shellTarget(probed) }, options.runs * 2],
    ['ssh', sshSession, { label: `restore, probed lines (${probed} bytes)`, target: shellTarget(probed) }, options.runs * 2],
    ['telnet', tel, { label: `restore, ${DEFAULT_MAX_LINE_BYTES}-byte lines (no probe answer)`, target: shellTarget(DEFAULT_MAX_LINE_BYTES) }, options.runs],
    ['ssh', sshSession, { label: `restore, ${DEFAULT_MAX_LINE_BYTES}-byte lines (no probe answer)`, target: shellTarget(DEFAULT_MAX_LINE_BYTES) }, options.runs],
  ];
  if (isFull) {
    variants.push(['telnet', tel, { label: 'shell lines (no iptables-restore)', target: { ...shellTarget(probed), restore: null } }, Math.max(1, Math.ceil(options.runs / 3))]);
    variants.push(['telnet', tel, { label: 'line by line in the shell', target: { iptables: { binary: 'iptables', where: 'shell' }, restore: null, isShell: false } }, 1]);
    if (options.doCliLineByLine) variants.push(['telnet', tel, { label: 'line by line in the vendor CLI (old way)', target: { iptables: { binary: 'iptables', where: 'cli' }, restore: null, isShell: false } }, 1]);
  }
  const results: Array<Record<string, unknown>> = [];
  for (const [transport, session, variant, runs] of variants) {
    log(`setup: ${transport}: ${variant.label} (${runs} run${runs === 1 ? '' : 's'})`);
    const r = await timeApply(lab, bootDump, expected, session, commands, variant, runs, script);
    const medianMs = median(r.times);
    const variantLimit = median(r.localTimes) + median(rtt[transport]!);
    results.push({
      transport, variant: variant.label, method: r.method, roundTrips: r.roundTrips, ...summary(r.times),
      ...(r.planTimes.length > 0 ? { planMedianMs: round(median(r.planTimes)) } : {}),
      localRestoreMedianMs: round(median(r.localTimes)), limitMs: round(variantLimit),
      ratioToLimit: round(medianMs / variantLimit),
      // The target is on what lantop does: lines as long as the probe measured.
      ...(variant.label.startsWith('restore, probed') ? { meetsTarget: medianMs <= 2 * variantLimit } : {}),
    });
  }
  out.lines = { probed: linesAt(commands, probed), fallback: linesAt(commands, DEFAULT_MAX_LINE_BYTES), shellBatchProbed: planShellBatch(commands, { maxLineBytes: probed, nonce: '000000000000' })?.length };
  out.apply = results;
  return { out, commands, bootDump, expected, probedBytes: probed };
}

export async function runSetupBench(options: SetupBenchOptions): Promise<Record<string, unknown>> {
  log(`setup: starting the lab (${options.backend})`);
  const lab = await startLab({ hosts: 1, backend: options.backend });
  const out: Record<string, unknown> = { backend: options.backend, hosts: HOSTS, layout: defaultLayoutFor(HOSTS), defaultMaxLineBytes: DEFAULT_MAX_LINE_BYTES };
  const sessions: AnySession[] = [];
  try {
    const { out: figures, commands, bootDump, expected, probedBytes } = await benchShell(lab, options, true, sessions);
    const script = toRestoreScript(commands)!;
    Object.assign(out, figures);
    for (const s of sessions.splice(0)) await s.close().catch(() => undefined);

    log(`setup: re-install after ${options.reboots} reboot(s)`);
    await reset(lab, bootDump);
    const first = await telnet(lab);
    await applyBatch(runnerFor(first), shellTarget(probedBytes), commands);
    await first.close();
    const reboots: Array<Record<string, number>> = [];
    for (let i = 0; i < options.reboots; i++) {
      await lab.reboot();
      // From here the router forwards without lantop's rules: nothing is counted until the jump is in.
      const t0 = performance.now();
      const session = await telnet(lab);
      sessions.push(session);
      const run = runnerFor(session);
      const t1 = performance.now();
      // The lab's telnet login lands in the Broadcom-style CLI; iptables-restore needs its shell.
      await session.enterShell();
      const t2 = performance.now();
      // The line budget comes from the stored profile: no probe after a reboot.
      const plan = planFor(await run({ command: LISTING, where: 'shell' }), 'iptables');
      const tPlan = performance.now();
      const outcome = await applyBatch(run, shellTarget(probedBytes), plan);
      const t3 = performance.now();
      if (outcome.failed || outcome.applied.length !== commands.length) throw new Error(`re-install: ${outcome.failed?.command ?? `${outcome.applied.length} commands`}`);
      if ((await save(lab)) !== expected) throw new Error('re-install: the filter table differs');
      // The router's own restore of the same script right after, for this run's limit.
      const [localMs] = await localRestore(lab, bootDump, script, 1, false);
      reboots.push({ loginMs: round(t1 - t0, 1), shellMs: round(t2 - t1, 1), reinstallMs: round(t3 - t2, 1), applyMs: round(t3 - tPlan, 1), localRestoreMs: round(localMs!, 2), totalMs: round(t3 - t0, 1), roundTrips: outcome.roundTrips + 1 });
      await session.close();
      sessions.pop();
    }
    const reinstall = median(reboots.map((r) => r.reinstallMs!));
    // The issue's target for the re-install's batch: ≤ 2 × (the router's own restore + one round trip).
    const limitMs = round(median(reboots.map((r) => r.localRestoreMs!)) + (out.limit as { telnetRttMs: number }).telnetRttMs);
    const applyMedian = median(reboots.map((r) => r.applyMs!));
    out.reboot = {
      runs: reboots, reinstallMedianMs: round(reinstall), applyMedianMs: round(applyMedian), limitMs, applyRatioToLimit: round(applyMedian / limitMs), meetsLimitTarget: applyMedian <= 2 * limitMs, loginMedianMs: round(median(reboots.map((r) => r.loginMs!))), shellMedianMs: round(median(reboots.map((r) => r.shellMs!))),
      totalMedianMs: round(median(reboots.map((r) => r.totalMs!))),
      pollIntervalMs: POLL_INTERVAL_MS, meetsTarget: reinstall <= POLL_INTERVAL_MS, meetsTotalTarget: median(reboots.map((r) => r.totalMs!)) <= POLL_INTERVAL_MS,
    };
  } finally {
    for (const s of sessions.splice(0)) await s.close().catch(() => undefined);
    await lab.stop();
  }

  // The same set-up behind Debian's BusyBox ash with line editing: a line limit the probe measures.
  log('setup: the lab again, with BusyBox ash (line editing) behind telnet and SSH');
  const busyboxLab = await startLab({ hosts: 1, backend: options.backend, shell: 'busybox' });
  try {
    out.busybox = (await benchShell(busyboxLab, options, false, sessions)).out;
  } finally {
    for (const s of sessions.splice(0)) await s.close().catch(() => undefined);
    await busyboxLab.stop();
  }
  return out;
}
