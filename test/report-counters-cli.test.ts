// test-file-timeout: 180
// `lantop report` with custom counters (issue 18) after the real CLI recorded them from the
// emulated Broadcom router: the built binary runs `counter add`, `setup` and two `usage` polls;
// the report (table section and `--csv --counters`, rendered in this process by runReport over the
// same database: the spawned binary's stdout is no terminal, and its table needs one) must
// carry exactly the bytes and packets the counter's rule on the emulator counted between the first
// and the last poll, read from the emulator's state.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatedRouter, type EmulatedRouter } from '../src/emulator/index.js';
import { runReport } from '../src/app/commands.js';
import { HistoryStore } from '../src/store/history-store.js';
import { formatBytes } from '../src/output/units.js';
import { runCliAsync } from './helpers/run-cli.js';

let router: EmulatedRouter;
let dir: string;
let env: Record<string, string>;
let base: string[];
const lantop = (args: string[]) => runCliAsync([...base, ...args], env, { timeoutMs: 60_000 });

before(async () => {
  router = await startEmulatedRouter({ clock: 'manual', flavour: 'broadcom', hostCount: 3, churn: false, seed: 18 });
  dir = mkdtempSync(join(tmpdir(), 'lantop-report-counters-cli-'));
  env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
  base = ['--host', router.host, '--port', String(router.port), '--user', router.user, '--wan', router.state.wanInterface];
});
after(async () => {
  await router?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** The emulator's own count of the one counter rule in LANTOP_CIN. */
function ruleCount(): { bytes: number; packets: number } {
  const chain = router.state.iptables.tables.get('filter')?.chains.find((c) => c.name === 'LANTOP_CIN');
  const rules = chain?.rules ?? [];
  assert.equal(rules.length, 1, 'one counter, one rule');
  return { bytes: Number(rules[0]!.bytes), packets: Number(rules[0]!.packets) };
}

async function report(options: Parameters<typeof runReport>[1]): Promise<string> {
  let out = '';
  const stdout = Object.assign({ write: (s: string) => ((out += s), true) }, { isTTY: true, columns: 120 });
  const deps = {
    settings: {},
    clock: { now: () => Date.now() + 120_000 },
    io: { stdout, stderr: { write: () => true }, stdin: process.stdin },
    key: `${router.host}:${router.port}`,
    openHistory: () => HistoryStore.open({ path: env.LANTOP_DB!, hostname: 'report-test' }),
  } as unknown as Parameters<typeof runReport>[0];
  assert.equal(await runReport(deps, options), 0);
  return out;
}

test('report: the counters usage recorded equal what the rule counted after the first poll', { timeout: 150_000 }, async () => {
  const wan = router.state.wanInterface;
  for (const args of [['counter', 'add', 'wan-in', '--chain', 'input', '--in', wan], ['setup', '--yes']]) {
    const r = await lantop(args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
  }
  router.tick(30_000);
  const first = await lantop(['usage', '--json']);
  assert.equal(first.code, 0, first.stderr);
  // The first read of a counter goes to its total (usage, counter list) but not to the per-minute
  // history (counter-watch records deltas between reads): the report has what came after it.
  const atFirst = ruleCount();
  for (let i = 0; i < 2; i++) {
    router.tick(20_000);
    const usage = await lantop(['usage', '--json']);
    assert.equal(usage.code, 0, usage.stderr);
  }
  const atLast = ruleCount();
  const oracle = { bytes: atLast.bytes - atFirst.bytes, packets: atLast.packets - atFirst.packets };
  assert.ok(oracle.bytes > 0 && oracle.packets > 0, 'the router received from the WAN');
  assert.equal(JSON.stringify((JSON.parse(await report({ period: 'all', json: true })) as { counters: unknown }).counters), JSON.stringify([{ name: 'wan-in', ...oracle }]), 'report --json agrees');

  assert.equal(await report({ period: 'all', csv: true, counters: true }), `name,match,bytes,packets\nwan-in,input in=${wan},${oracle.bytes},${oracle.packets}\n`);
  const text = await report({ period: 'all' });
  const match = `input in=${wan}`;
  const width = Math.max('MATCH'.length, match.length);
  const total = formatBytes(oracle.bytes);
  const tw = Math.max('TOTAL'.length, total.length);
  const pw = Math.max('PACKETS'.length, String(oracle.packets).length);
  assert.equal(
    text.slice(text.indexOf('\nCounters'), text.indexOf('\nWAN:') < 0 ? undefined : text.indexOf('WAN:')),
    [
      '',
      'Counters (bytes and packets in the period; lantop counter add):',
      `COUNTER  ${'MATCH'.padEnd(width)}  ${'TOTAL'.padStart(tw)}  ${'PACKETS'.padStart(pw)}`,
      `wan-in   ${match.padEnd(width)}  ${total.padStart(tw)}  ${String(oracle.packets).padStart(pw)}`,
      '',
    ].join('\n'),
  );
  const csv = await lantop(['report', '--csv', '--period', 'all']);
  assert.equal(csv.code, 0, csv.stderr);
  assert.match(csv.stdout, /^identity,ip,mac,hostname,down_bytes,up_bytes\n/, 'the hosts CSV keeps its header');
  assert.doesNotMatch(csv.stdout, /wan-in/, 'and has no counter rows');
});
