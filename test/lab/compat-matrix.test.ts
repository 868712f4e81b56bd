// test-file-timeout: 420
// Compatibility matrix (issue 13): for each lab router variant — firmware behaviour taken from
// published captures (SOURCE.md) — the REAL lantop (`node dist/cli.js`, WITHOUT --firmware) runs the
// whole loop over telnet, and over SSH where the row says so:
//   hosts --json = the lab's devices (names where the variant has a name source)
//   setup --yes, traffic, usage --json deltas = the nftables oracle, byte for byte
//   lab.reboot(), setup again, more traffic, usage = oracle, report --json = both oracle phases
//   teardown --yes = the iptables-save from before setup, byte for byte
// Each loop stops at its first failing step; the summary printed at the end says, per row, which
// step failed and with what output. LANTOP_COMPAT_ONLY=cms,huawei-atp runs some rows only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  nameSource, startLab, variantSkipReason,
  type IptablesBackend, type Lab, type LabVariantName, type OracleCounts,
} from './lab.js';
import { CLI_PATH, Cli, byIp, type HostsJson, type Protocol, type ReportJson, type Run, type UsageJson } from './lantop-cli.js';

interface MatrixRow {
  variant: LabVariantName;
  backend: IptablesBackend;
  shell: 'plain' | 'busybox';
  protocols: Protocol[];
}

const MATRIX: MatrixRow[] = [
  { variant: 'cms', backend: 'legacy', shell: 'plain', protocols: ['telnet', 'ssh'] },
  { variant: 'cms', backend: 'nft', shell: 'plain', protocols: ['telnet', 'ssh'] },
  { variant: 'cms', backend: 'legacy', shell: 'busybox', protocols: ['telnet', 'ssh'] },
  { variant: 'unknown-silent', backend: 'legacy', shell: 'plain', protocols: ['telnet'] },
  { variant: 'unknown-consoled', backend: 'legacy', shell: 'plain', protocols: ['telnet'] },
  { variant: 'lanhosts-sdk', backend: 'legacy', shell: 'plain', protocols: ['telnet'] },
  { variant: 'huawei-atp', backend: 'legacy', shell: 'plain', protocols: ['telnet'] },
  { variant: 'tplink-hash', backend: 'nft', shell: 'plain', protocols: ['telnet'] },
  { variant: 'inetutils-telnetd', backend: 'legacy', shell: 'plain', protocols: ['telnet'] },
  { variant: 'slow-chunked', backend: 'legacy', shell: 'plain', protocols: ['telnet'] },
  { variant: 'ssh-no-leases', backend: 'nft', shell: 'plain', protocols: ['ssh'] },
];

const only = (process.env['LANTOP_COMPAT_ONLY'] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
const rows = only.length > 0 ? MATRIX.filter((row) => only.includes(row.variant)) : MATRIX;
const rowName = (row: MatrixRow): string => `${row.variant} (${row.backend}${row.shell === 'busybox' ? ', busybox ash' : ''})`;

/** Each CLI run is killed after this; lantop's own per-command timeout is 5 s. */
const RUN_TIMEOUT_MS = 25_000;

interface Outcome {
  row: string;
  protocol: Protocol;
  failedStep: string | null;
  detail: string;
}
const outcomes: Outcome[] = [];

/** The parts of `lantop doctor --json` (src/app/doctor.ts DoctorReport) the matrix checks. */
interface DoctorJson {
  loginMode: 'cli' | 'shell' | null;
  firmware: { commands: { shellRoute: { enter: string; exit: string } | null; iptables: { where: string } | null; listNames: { command: string; where: string } | null } };
  hosts: { count: number; named: number } | null;
  names: string | null;
  setup: { commands: string[] } | null;
  problems: string[];
}

/** Router and lantop text is hostile: show it escaped and bounded, never raw. */
function shown(text: string, max = 700): string {
  const trimmed = text.length > max ? `…${text.slice(-max)}` : text;
  return JSON.stringify(trimmed);
}

function runDetail(args: readonly string[], r: Run): string {
  return `lantop ${args.join(' ')} → exit ${r.code}; stdout ${shown(r.stdout)}; stderr ${shown(r.stderr)}`;
}

class Loop {
  step = '';
  constructor(readonly lab: Lab, readonly cli: Cli) {}

  async lantop(args: readonly string[]): Promise<Run> {
    const r = await this.cli.run(args, RUN_TIMEOUT_MS);
    assert.equal(r.code, 0, runDetail(args, r));
    return r;
  }

  async json<T>(args: readonly string[]): Promise<T> {
    const r = await this.lantop(args);
    try {
      return JSON.parse(r.stdout) as T;
    } catch {
      throw new assert.AssertionError({ message: `not JSON: ${runDetail(args, r)}` });
    }
  }

  usage(): Promise<UsageJson> {
    return this.json<UsageJson>(['usage', '--json', '--count', '1']);
  }
}

/** Per-host bytes lantop counted between two snapshots equal the oracle's, for every lab host. */
function assertDeltas(lab: Lab, before: UsageJson, afterSnap: UsageJson, truth: OracleCounts): void {
  const b = byIp(before.hosts);
  const a = byIp(afterSnap.hosts);
  const wrong: string[] = [];
  for (const host of lab.hosts) {
    const row = a.get(host.ip);
    const prev = b.get(host.ip) ?? { downBytes: 0, upBytes: 0 };
    const t = truth[host.ip]!;
    if (!row) {
      wrong.push(`${host.ip} not listed`);
      continue;
    }
    if (row.downBytes - prev.downBytes !== t.downBytes) wrong.push(`${host.ip} down ${row.downBytes - prev.downBytes} ≠ oracle ${t.downBytes}`);
    if (row.upBytes - prev.upBytes !== t.upBytes) wrong.push(`${host.ip} up ${row.upBytes - prev.upBytes} ≠ oracle ${t.upBytes}`);
  }
  assert.deepEqual(wrong, [], `usage deltas vs oracle: ${wrong.join('; ')}; lantop hosts ${shown(JSON.stringify(afterSnap.hosts))}; notices ${shown(JSON.stringify(afterSnap.notices))}`);
}

async function theLoop(loop: Loop, protocol: Protocol): Promise<void> {
  const { lab } = loop;
  const at = async <T>(step: string, body: () => Promise<T>): Promise<T> => {
    loop.step = step;
    return body();
  };

  await at('doctor --json explains the router', async () => {
    const report = await loop.json<DoctorJson>(['doctor', '--json', '--transcript', join(loop.cli.dir, `doctor-${protocol}.txt`)]);
    assert.deepEqual(report.problems, [], 'doctor found no problem');
    const cmds = report.firmware.commands;
    // A telnet login lands in the vendor CLI; SSH lands in the router's shell.
    assert.equal(report.loginMode, protocol === 'telnet' ? 'cli' : 'shell');
    if (protocol === 'telnet') assert.deepEqual(cmds.shellRoute, { enter: lab.dialogue.shellCommand, exit: 'exit' }, 'the hidden shell entry was found');
    assert.equal(cmds.iptables?.where, 'shell', 'iptables runs in the shell (faster framing, exit status)');
    assert.equal(report.hosts?.count, lab.hosts.length + 1, 'hosts: h1..hN and the console');
    const names = nameSource(lab.profile, protocol);
    if (names === 'none') assert.equal(cmds.listNames, null, `no name source, and doctor says why: ${report.names}`);
    if (names === 'none') assert.match(report.names ?? '', /^none: /);
    if (names === 'required') assert.notEqual(cmds.listNames, null);
    assert.ok((report.setup?.commands.length ?? 0) > 0, 'setup would add rules');
    const transcript = readFileSync(join(loop.cli.dir, `doctor-${protocol}.txt`), 'utf8');
    assert.ok(!transcript.includes(lab.password), 'the transcript masks the password');
    assert.ok(!/\u001b/.test(transcript), 'the transcript carries no escape sequences');
    assert.match(transcript, /> iptables -V/);
  });

  if (protocol === 'ssh') {
    await at('a wrong --firmware fails with exit 5 and the router\'s words', async () => {
      // The issue's case: the login is a shell, the user claims the vendor CLI. It used to list
      // zero hosts with exit 0 (the shell's "arp: show: …" and "lanhosts: not found" swallowed).
      const r = await loop.cli.run(['hosts', '--json', '--firmware', 'broadcom-cli'], RUN_TIMEOUT_MS);
      assert.equal(r.code, 5, runDetail(['hosts', '--firmware', 'broadcom-cli'], r));
      assert.match(r.stderr, /`arp show` in the CLI answered "[^"]+"/, r.stderr);
    });
  }

  await at('hosts --json', async () => {
    await lab.refreshArp();
    const listed = await loop.json<HostsJson>(['hosts', '--json']);
    const got = byIp(listed.hosts);
    const expectedIps = [...lab.hosts.map((h) => h.ip), lab.console.ip].sort();
    assert.deepEqual([...got.keys()].sort(), expectedIps, `the IPs lantop lists: ${shown(JSON.stringify(listed.hosts))}`);
    const names = nameSource(lab.profile, protocol);
    for (const host of lab.hosts) {
      const r = got.get(host.ip)!;
      assert.equal(r.mac?.toLowerCase(), host.mac, `${host.ip} MAC`);
      const want = host.hostname === '' ? null : host.hostname;
      if (names === 'required') assert.equal(r.hostname, want, `${host.ip} hostname (the variant has a name source)`);
      else if (names === 'none') assert.equal(r.hostname, null, `${host.ip} hostname (the variant has no name source)`);
      else assert.ok(r.hostname === null || r.hostname === want, `${host.ip} hostname ${shown(String(r.hostname))}: null or ${want}`);
    }
    assert.equal(got.get(lab.console.ip)!.hostname, null, 'the console has no lease');
  });

  const pristine = await lab.iptablesSave();
  await at('setup --yes', async () => {
    await loop.lantop(['setup', '--yes']);
    const installed = await lab.iptablesSave();
    for (const host of lab.hosts) assert.ok(installed.includes(`${host.ip}/32`), `a rule for ${host.ip} in iptables-save:\n${installed}`);
  });

  let phase1: OracleCounts = {};
  await at('usage --json = oracle', async () => {
    const baseline = await loop.usage();
    await lab.resetOracle();
    await lab.transfer('h1', { downBytes: 300_000, upBytes: 20_000 });
    await lab.transfer('h2', { downBytes: 10_000, upBytes: 150_000 });
    phase1 = await lab.settle();
    const snap = await loop.usage();
    assert.equal(snap.connection, 'connected');
    assertDeltas(lab, baseline, snap, phase1);
  });

  await at('reboot, setup again', async () => {
    await lab.reboot({ downMs: 500 });
    // The first poll after the reboot sees counters gone: no negative numbers, no invented bytes.
    const afterReboot = await loop.usage();
    for (const h of afterReboot.hosts) assert.ok(h.downBytes >= 0 && h.upBytes >= 0, `${h.ip} negative after reboot`);
    await loop.lantop(['setup', '--yes']);
  });

  let phase2: OracleCounts = {};
  await at('usage after reboot = oracle', async () => {
    const baseline = await loop.usage();
    await lab.resetOracle();
    await lab.transfer('h3', { downBytes: 120_000, upBytes: 8_000 });
    await lab.transfer('h1', { downBytes: 5_000, upBytes: 60_000 });
    phase2 = await lab.settle();
    assertDeltas(lab, baseline, await loop.usage(), phase2);
  });

  await at('report --json = oracle (both phases)', async () => {
    const report = await loop.json<ReportJson>(['report', '--json', '--period', 'all']);
    const rep = byIp(report.hosts);
    const wrong: string[] = [];
    for (const host of lab.hosts) {
      const down = phase1[host.ip]!.downBytes + phase2[host.ip]!.downBytes;
      const up = phase1[host.ip]!.upBytes + phase2[host.ip]!.upBytes;
      const r = rep.get(host.ip);
      if ((r?.downBytes ?? 0) !== down) wrong.push(`${host.ip} down ${r?.downBytes ?? 0} ≠ oracle ${down}`);
      if ((r?.upBytes ?? 0) !== up) wrong.push(`${host.ip} up ${r?.upBytes ?? 0} ≠ oracle ${up}`);
    }
    assert.deepEqual(wrong, [], `history vs oracle: ${wrong.join('; ')}; report ${shown(JSON.stringify(report.hosts))}`);
  });

  await at('teardown --yes', async () => {
    const before = await lab.iptablesSave();
    assert.equal(before.includes('TRAFFIC'), true, 'rules are installed before teardown');
    await loop.lantop(['teardown', '--yes']);
    const afterSave = await lab.iptablesSave();
    assert.equal(afterSave, pristine, 'teardown restores the iptables-save from before setup, byte for byte');
  });
}

const cliReady = existsSync(CLI_PATH);

for (const row of rows) {
  describe(`compat ${rowName(row)}`, { skip: variantSkipReason(row.variant), timeout: 300_000 }, () => {
    let lab: Lab;
    const clis: Cli[] = [];
    let runs = 0;
    before(async () => {
      assert.ok(cliReady, `${CLI_PATH} is missing: run \`npm run build\` first`);
      lab = await startLab({ hosts: 3, variant: row.variant, backend: row.backend, shell: row.shell, password: `compat-${row.variant}` });
    });
    after(async () => {
      await lab?.stop();
      for (const c of clis) c.cleanup();
    });

    for (const protocol of row.protocols) {
      test(`${protocol}: hosts, setup, usage = oracle, reboot, history = oracle, teardown`, { timeout: 240_000 }, async () => {
        // Every loop starts from a freshly booted router (a failed loop may have left rules).
        if (runs++ > 0) await lab.reboot();
        const cli = new Cli(lab, protocol, 5000);
        clis.push(cli);
        const loop = new Loop(lab, cli);
        const outcome: Outcome = { row: rowName(row), protocol, failedStep: null, detail: '' };
        outcomes.push(outcome);
        try {
          await theLoop(loop, protocol);
        } catch (error) {
          outcome.failedStep = loop.step;
          outcome.detail = error instanceof Error ? error.message.split('\n').slice(0, 6).join(' ') : String(error);
          const diagnostics = lab.diagnostics();
          throw new assert.AssertionError({ message: `[${rowName(row)} over ${protocol}] step "${loop.step}" failed: ${outcome.detail}${diagnostics ? `\n--- lab ---\n${diagnostics.slice(-1500)}` : ''}` });
        }
      });
    }
  });
}

after(() => {
  if (outcomes.length === 0) return;
  const lines = outcomes.map((o) => `  ${o.failedStep === null ? 'PASS' : 'FAIL'}  ${o.row} over ${o.protocol}${o.failedStep === null ? '' : ` — at "${o.failedStep}": ${o.detail.slice(0, 400)}`}`);
  process.stderr.write(`\ncompatibility matrix (lantop without --firmware):\n${lines.join('\n')}\n\n`);
});
