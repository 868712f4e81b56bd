// The line probe (issue 21): its reading of real answers, the detection around it, and the probe
// itself in real shells through a pty (BusyBox ash with line editing, dash, bash; no root: `script`
// gives each shell a pty, as telnetd and dropbear do). The lab test beside it runs it over telnet/SSH.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { keptLineBytes, LINE_PROBE_COMMAND, LINE_PROBE_ERASE_BYTES, LINE_PROBE_FILL_BYTES, LINE_SENTINEL_RESERVE_BYTES, maxLineBytesFromProbe, PLAIN_SHELL_MAX_LINE_BYTES, DEFAULT_MAX_LINE_BYTES } from './line-budget.js';
import { probeFirmware } from './probe-router.js';
import { PROBE_COMMANDS } from './probes.js';
import { detectFirmware } from './detect-firmware.js';
import { storedFirmware } from './stored-profile.js';
import { ScriptedSession, type ScriptedStep } from '../../../test/fakes/scripted-session.js';
import { readFixture } from '../../../test/fixtures.js';
import { TimeoutError } from '../../errors.js';

const S = PROBE_COMMANDS.shell;
const BUSYBOX_TELNET = readFixture('busybox/1.35.0/line-probe-telnet.txt');
const BUSYBOX_SSH = readFixture('busybox/1.35.0/line-probe-ssh.txt');
const DASH_TELNET = readFixture('generic-linux/debian-12/line-probe-dash-telnet.txt');
/** The transport's sentinel: `; echo "__LANTOP""_END_<12 hex>_$?__"`. */
const SENTINEL_BYTES = `; echo "__LANTOP""_END_${'0'.repeat(12)}_$?__"`.length;

describe('the line probe answer', () => {
  test('BusyBox ash (telnet and SSH): cut at 1022 bytes, budget 972; dash: whole, budget 3000', () => {
    assert.equal(keptLineBytes(BUSYBOX_TELNET), 1022);
    assert.equal(keptLineBytes(BUSYBOX_SSH), 1022);
    assert.equal(maxLineBytesFromProbe(BUSYBOX_TELNET), 1022 - LINE_SENTINEL_RESERVE_BYTES);
    assert.equal(keptLineBytes(DASH_TELNET), 'whole');
    assert.equal(maxLineBytesFromProbe(DASH_TELNET), PLAIN_SHELL_MAX_LINE_BYTES);
  });

  test('OpenWrt-sized editors, DELs kept as text, and answers that say nothing', () => {
    assert.equal(keptLineBytes('__LTLL_427__\n'), 510, 'CONFIG_FEATURE_EDITING_MAX_LEN=512 keeps 510');
    assert.equal(maxLineBytesFromProbe('__LTLL_427__'), 460);
    assert.equal(keptLineBytes(`__LTLL_${LINE_PROBE_FILL_BYTES + LINE_PROBE_ERASE_BYTES}__`), 'whole', 'a pty erasing with ^H keeps the DELs: nothing was cut');
    for (const silent of ['', 'sh: syntax error: unexpected ";"', `echo "__LT""LL_\${#_L}__"`, '__LTLL___', `__LTLL_${LINE_PROBE_FILL_BYTES}__`, '__LTLL_123456__', 'x__LTLL_939__']) {
      assert.equal(keptLineBytes(silent), null, JSON.stringify(silent));
      assert.equal(maxLineBytesFromProbe(silent), null);
    }
    assert.equal(keptLineBytes(undefined), null);
    assert.equal(maxLineBytesFromProbe('__LTLL_0__'), 33, 'a tiny editor gets a budget below MIN_LINE_BYTES: line by line');
  });

  test('the probe line: one line, no quote a cut can leave open before the DELs, room for the tail', () => {
    assert.doesNotMatch(LINE_PROBE_COMMAND, /[\r\n]/);
    const tail = LINE_PROBE_COMMAND.slice(LINE_PROBE_COMMAND.lastIndexOf('\u007f') + 1);
    assert.ok(tail.length + SENTINEL_BYTES <= LINE_PROBE_ERASE_BYTES, `${tail.length} + ${SENTINEL_BYTES} bytes after the DELs`);
    assert.ok(LINE_PROBE_FILL_BYTES > PLAIN_SHELL_MAX_LINE_BYTES + SENTINEL_BYTES, 'a whole line proves the largest budget');
    assert.ok(LINE_SENTINEL_RESERVE_BYTES > SENTINEL_BYTES);
    assert.equal(LINE_PROBE_COMMAND.indexOf("'"), -1);
    assert.ok(LINE_PROBE_COMMAND.indexOf('"') > LINE_PROBE_COMMAND.indexOf('\u007f'), 'the fill is unquoted: a cut there leaves no open quote');
  });
});

/** A BusyBox shell login with iptables and iptables-restore, up to the line probe. */
function busyboxSteps(exe: string, line: ScriptedStep | null): ScriptedStep[] {
  return [
    { command: S.release, output: '' },
    { command: S.commands, output: '/bin/busybox\n/usr/sbin/iptables\n/usr/sbin/iptables-restore\n' },
    { command: S['shell-exe'], output: exe },
    { command: S['shell-batch'], output: '1_' },
    { command: S['iptables-version'], output: 'iptables v1.8.9 (legacy)\n' },
    { command: S['iptables-comment'], output: 'comment match options:\n--comment COMMENT             Attach a comment to a rule\n' },
    ...(line ? [line] : []),
    { command: S['proc-net-arp'], output: readFixture('generic-linux/debian-12/proc-net-arp.txt') },
    { command: S['lease-files'], output: '' },
  ];
}

describe('detection with the line probe', () => {
  test('BusyBox: measured; the decision names the kept bytes and shows only the marker', async () => {
    const session = new ScriptedSession(busyboxSteps('/bin/busybox', { command: S['shell-line'], output: BUSYBOX_SSH }), { mode: 'shell' });
    const p = await probeFirmware(session);
    session.assertDone();
    assert.equal(p.capabilities.shellLineBytes, 972);
    const line = p.decisions.find((d) => d.what === 'line')!;
    assert.equal(line.chosen, 'batched lines of up to 972 bytes: the shell keeps 1022 bytes of a line (line probe)');
    assert.deepEqual(line.tried.map((t) => [t.answer, t.isAccepted]), [['/bin/busybox', false], ['__LTLL_939__', true]]);
    assert.ok(line.tried.every((t) => t.command.length < 120), 'no 3 kB command in doctor');
  });

  test('a probe that timed out leaves the safe default and detection goes on', async () => {
    const session = new ScriptedSession(busyboxSteps('/bin/busybox', { command: S['shell-line'], error: new TimeoutError('No complete reply') }), { mode: 'shell' });
    const p = await probeFirmware(session);
    session.assertDone();
    assert.equal(p.capabilities.shellLineBytes, DEFAULT_MAX_LINE_BYTES);
    assert.match(p.decisions.find((d) => d.what === 'line')!.chosen, /^batched lines of up to 450 bytes: the line probe answered nothing readable/);
  });

  test('other errors propagate typed', async () => {
    const session = new ScriptedSession(busyboxSteps('/bin/busybox', { command: S['shell-line'], error: new Error('boom') }), { mode: 'shell' });
    await assert.rejects(probeFirmware(session), /boom/);
  });

  test('not run where the name decides (dash), nor without iptables in the shell or batch lines', async () => {
    const dash = new ScriptedSession(busyboxSteps('/usr/bin/dash', null), { mode: 'shell' });
    assert.equal((await probeFirmware(dash)).capabilities.shellLineBytes, PLAIN_SHELL_MAX_LINE_BYTES);
    dash.assertDone();
    const noBatch = busyboxSteps('/bin/busybox', null).map((s) => (s.command === S['shell-batch'] ? { ...s, output: '-sh: {: not found' } : s));
    const limited = new ScriptedSession(noBatch, { mode: 'shell' });
    assert.equal((await probeFirmware(limited)).capabilities.hasShellBatch, false);
    limited.assertDone();
    const noIptables = new ScriptedSession([
      { command: S.release, output: '' },
      { command: S.commands, output: '/bin/busybox\n' },
      { command: S['shell-exe'], output: '/bin/busybox' },
      { command: S['shell-batch'], output: '1_' },
      { command: S['iptables-version'], output: '-sh: iptables: not found\n' },
      { command: S['proc-net-arp'], output: readFixture('generic-linux/debian-12/proc-net-arp.txt') },
      { command: S['lease-files'], output: '' },
    ], { mode: 'shell' });
    await probeFirmware(noIptables);
    noIptables.assertDone();
  });

  test('a stored profile keeps a measured budget and refuses one lantop never produces', () => {
    const probed = detectFirmware({ loginMode: 'shell', shellRoute: null, shellEntriesTried: [], answers: [
      { id: 'shell-exe', command: S['shell-exe'], where: 'shell', output: '/bin/busybox' },
      { id: 'shell-line', command: S['shell-line'], where: 'shell', output: BUSYBOX_TELNET },
    ] });
    const raw = JSON.parse(JSON.stringify(probed)) as { capabilities: Record<string, unknown> };
    assert.equal(storedFirmware(raw)?.capabilities.shellLineBytes, 972);
    for (const bad of [0, 3500, 972.5, '972', -1, null]) {
      assert.equal(storedFirmware({ ...raw, capabilities: { ...raw.capabilities, shellLineBytes: bad } })?.capabilities.shellLineBytes, null, String(bad));
    }
  });
});

/** The shells of this machine, each run interactively in a pty by util-linux `script`. */
const PTY_SHELLS = [
  { name: 'BusyBox ash (line editing)', argv: 'busybox sh -i', kept: 1022 as number | 'whole' },
  { name: 'dash (pty canonical mode)', argv: 'dash -i', kept: 'whole' as const },
  { name: 'bash (readline)', argv: 'bash --norc --noprofile -i', kept: 'whole' as const },
].filter((s) => spawnSync('sh', ['-c', `${s.argv.replace(/ -i$/, '')} -c true`]).status === 0);
const hasScript = spawnSync('script', ['--version']).status === 0;

/** Types the probe line (with a sentinel like the transport's) into the shell; what came back. */
function probeInPty(argv: string): Promise<string> {
  const child = spawn('script', ['-qfec', argv, '/dev/null'], { env: { ...process.env, PS1: '# ', TERM: 'dumb', HISTFILE: '/dev/null' }, stdio: ['pipe', 'pipe', 'ignore'] });
  let out = '';
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no sentinel from ${argv}: ${JSON.stringify(out.slice(-300))}`)), 10_000);
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('latin1');
      if (/__E2E_END_0/.test(out)) {
        clearTimeout(timer);
        resolve(out);
      }
    });
    child.on('error', reject);
    // The prompt first, then the line, as a session sends it.
    setTimeout(() => child.stdin.write(`${LINE_PROBE_COMMAND}; echo "__E2E""_END_$?"\r`), 300);
  }).finally(() => child.kill('SIGKILL'));
}

describe('the line probe in real shells through a pty', { skip: !hasScript ? 'no util-linux script here' : PTY_SHELLS.length === 0 ? 'no shells' : false }, () => {
  for (const shell of PTY_SHELLS) {
    test(`${shell.name}: ${shell.kept === 'whole' ? 'the whole line arrives' : `cut at ${shell.kept} bytes`}, and the sentinel always runs`, async () => {
      const out = (await probeInPty(shell.argv)).replace(/\r/g, '');
      assert.equal(keptLineBytes(out), shell.kept, out.slice(-200));
    });
  }
});
