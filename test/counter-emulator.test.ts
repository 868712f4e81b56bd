// test-file-timeout: 240
// Custom counters (issue 18) end to end against the emulated router, on both backends (Broadcom
// iptables, OpenWrt fw4 nftables): `counter add|list|remove|reset` through the commander commands
// of app/counter-cli.ts (in this process: cli.ts registers them in one line the lead adds), then
// the built binary's `setup --dry-run`, `setup`, `usage --json` and `teardown`. The oracle for a
// counter of everything the router receives from the WAN is lantop's own router counter
// (TRAFFIC_IN / router_in), installed in the same batch and counting the same packets; the
// emulator's rule counters are read from its state, not through lantop.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { startEmulatedRouter, type EmulatedRouter } from '../src/emulator/index.js';
import { runIptables } from '../src/emulator/iptables.js';
import { registerCounterCommands } from '../src/app/counter-cli.js';
import type { CommandContext } from '../src/app/context.js';
import { EXIT, exitCodeOf, LantopError } from '../src/errors.js';
import { runCliAsync, spawnCli } from './helpers/run-cli.js';

interface CounterJson {
  name: string;
  match: string;
  bytes: number;
  packets: number;
  since: string | null;
  counted: boolean;
}

/** Runs `lantop counter …` in this process, as cli.ts would (a commander program with the global flags). */
async function counterCli(argv: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  let code: number = EXIT.ok;
  const program = new Command('lantop').exitOverride().option('--host <a>').option('--port <n>').option('--user <u>').option('--db <p>').option('--wan <w>');
  registerCounterCommands(program, async (action, cmd) => {
    const ctx = {
      flags: cmd.optsWithGlobals(),
      env,
      stdout: { write: (s: string) => ((stdout += s), true), columns: 200 },
      stderr: { write: (s: string) => ((stderr += s), true) },
      stdin: process.stdin,
    } as unknown as CommandContext;
    try {
      code = (await action(ctx, cmd.opts(), cmd.args)) ?? EXIT.ok;
    } catch (error) {
      if (!(error instanceof LantopError)) throw error;
      stderr += `${error.message}\n${error.nextStep ?? ''}\n`;
      code = exitCodeOf(error);
    }
  });
  await program.parseAsync(['node', 'lantop', ...argv]);
  return { code, stdout, stderr };
}

for (const flavour of ['broadcom', 'openwrt-fw4'] as const) {
  const isNft = flavour === 'openwrt-fw4';
  describe(`custom counters on the emulated ${flavour} router`, () => {
    let router: EmulatedRouter;
    let dir: string;
    let env: Record<string, string>;
    let base: string[];
    const lantop = (args: string[]) => runCliAsync([...base, ...args], env, { timeoutMs: 60_000 });
    const counter = (args: string[]) => counterCli([...base, 'counter', ...args], env);
    const ruleset = () => (isNft ? router.state.nft!.tables.map((t) => `${t.family} ${t.name}`).join('\n') : runIptables(router.state.iptables, ['-S']).stdout);

    before(async () => {
      router = await startEmulatedRouter({ clock: 'manual', flavour, hostCount: 3, churn: false, seed: 18 });
      dir = mkdtempSync(join(tmpdir(), 'lantop-counter-emu-'));
      env = { LANTOP_PASSWORD: router.password, LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite') };
      base = ['--host', router.host, '--port', String(router.port), '--user', router.user, '--wan', router.state.wanInterface];
    });
    after(async () => {
      await router?.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    test('add, list, setup --dry-run, setup, usage --json, reset, remove, teardown', { timeout: 200_000 }, async () => {
      const wan = router.state.wanInterface;
      const before = ruleset();
      // Invalid: every problem at once, exit 2, nothing stored.
      const bad = await counter(['add', 'Bad Name', '--chain', 'sideways', '--dport', '22']);
      assert.equal(bad.code, EXIT.usage, bad.stderr);
      assert.match(bad.stderr, /name: .*not a counter name/);
      assert.match(bad.stderr, /--chain: 'sideways' is not input, output or forward/);
      assert.match(bad.stderr, /--dport: a port needs the protocol/);
      for (const args of [
        ['add', 'wan-in', '--chain', 'input', '--in', wan],
        ['add', 'dns-out', '--chain', 'output', '--out', wan, '--proto', 'udp'],
        ['add', 'not-doc', '--chain', 'forward', '--src=!203.0.113.0/24'],
      ]) {
        const added = await counter(args);
        assert.equal(added.code, 0, added.stderr);
        assert.match(added.stdout, /^Counter [a-z-]+ added: /);
      }
      const dup = await counter(['add', 'wan-in', '--chain', 'input']);
      assert.equal(dup.code, EXIT.usage);
      assert.match(dup.stderr, /already has a counter named wan-in/);
      const listed = await counter(['list', '--json']);
      assert.equal(listed.code, 0, listed.stderr);
      assert.deepEqual((JSON.parse(listed.stdout) as { counters: Array<{ name: string; match: string; bytes: number | null }> }).counters.map((c) => [c.name, c.match, c.bytes]), [
        ['dns-out', `output out=${wan} proto=udp`, null],
        ['not-doc', 'forward src=!203.0.113.0/24', null],
        ['wan-in', `input in=${wan}`, null],
      ]);

      const dry = await lantop(['setup', '--dry-run']);
      assert.equal(dry.code, 0, dry.stderr);
      if (isNft) {
        assert.match(dry.stdout, /add chain inet lantop counters_in \{ type filter hook input priority filter - 10; policy accept; \}/);
        assert.match(dry.stdout, /add rule inet lantop counters_fwd ip saddr ne 203\.0\.113\.0\/24 counter comment "lantop:c:[0-9a-f]{12}"/);
      } else {
        assert.match(dry.stdout, /iptables -N LANTOP_CIN/);
        assert.match(dry.stdout, /iptables -A LANTOP_CFWD ! -s 203\.0\.113\.0\/24 -m comment --comment lantop:c:[0-9a-f]{12}/);
        assert.match(dry.stdout, /iptables -I INPUT \d+ -j LANTOP_CIN/);
      }
      assert.doesNotMatch(dry.stdout, /wan-in|dns-out|not-doc/, 'names never reach the router');
      assert.equal(ruleset(), before, 'dry-run changes nothing');

      const setup = await lantop(['setup', '--yes']);
      assert.equal(setup.code, 0, setup.stderr);
      const again = await lantop(['setup', '--dry-run']);
      assert.equal(again.code, 0, again.stderr);
      assert.doesNotMatch(again.stdout, /LANTOP_C|counters_|lantop:c:/, `a second setup sends nothing for the counters:\n${again.stdout}`);

      router.tick(30_000);
      const usage = await lantop(['usage', '--json']);
      assert.equal(usage.code, 0, usage.stderr);
      const snapshot = JSON.parse(usage.stdout) as { counters?: CounterJson[] };
      const byName = new Map((snapshot.counters ?? []).map((c) => [c.name, c]));
      assert.deepEqual([...byName.keys()], ['dns-out', 'not-doc', 'wan-in']);
      for (const c of byName.values()) assert.equal(c.counted, true, c.name);
      const wanIn = byName.get('wan-in')!;
      const oracle = isNft ? nftRouterIn(router) : iptablesRouterIn(router);
      assert.ok(wanIn.bytes > 0, 'the router received from the WAN');
      assert.equal(wanIn.bytes, oracle, 'wan-in equals the router counter of the same packets');
      assert.ok(byName.get('dns-out')!.bytes > 0, 'the router resolves over the WAN');

      const reset = await counter(['reset', 'wan-in']);
      assert.equal(reset.code, 0, reset.stderr);
      const afterReset = await counter(['list', '--json']);
      const wanInListed = (JSON.parse(afterReset.stdout) as { counters: Array<{ name: string; bytes: number; resetMs: number | null }> }).counters.find((c) => c.name === 'wan-in')!;
      assert.equal(wanInListed.bytes, 0);
      assert.ok(wanInListed.resetMs !== null);
      router.tick(10_000);
      const later = JSON.parse((await lantop(['usage', '--json'])).stdout) as { counters: CounterJson[] };
      const wanInLater = later.counters.find((c) => c.name === 'wan-in')!;
      assert.ok(wanInLater.bytes < wanIn.bytes, 'counted from the reset');
      assert.equal(wanInLater.bytes + wanIn.bytes, isNft ? nftRouterIn(router) : iptablesRouterIn(router), 'the router was never zeroed');

      const removed = await counter(['remove', 'dns-out']);
      assert.equal(removed.code, 0, removed.stderr);
      const resync = await lantop(['setup', '--yes']);
      assert.equal(resync.code, 0, resync.stderr);
      const afterRemove = JSON.parse((await lantop(['usage', '--json'])).stdout) as { counters: CounterJson[] };
      assert.deepEqual(afterRemove.counters.map((c) => c.name), ['not-doc', 'wan-in']);

      const down = await lantop(['teardown', '--yes']);
      assert.equal(down.code, 0, down.stderr);
      assert.equal(ruleset(), before, 'teardown leaves the ruleset as before setup');
    });

    test('a running monitor installs a counter added meanwhile and puts them all back after a reboot', { timeout: 120_000 }, async () => {
      const before = ruleset();
      assert.equal((await lantop(['setup', '--yes'])).code, 0);
      const child = spawnCli([...base, 'usage', '--json', '--watch', '--interval', '500'], env);
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
      const ticker = setInterval(() => router.tick(1000), 50);
      /** The newest snapshot line whose counters satisfy `ok`, within 20 s. */
      const until = async (what: string, ok: (counters: CounterJson[]) => boolean): Promise<CounterJson[]> => {
        const deadline = Date.now() + 20_000;
        while (Date.now() < deadline) {
          const lines = out.split('\n').filter((l) => l.startsWith('{'));
          const last = lines.length === 0 ? null : (JSON.parse(lines[lines.length - 1]!) as { counters?: CounterJson[] });
          if (last && ok(last.counters ?? [])) return last.counters ?? [];
          await new Promise((r) => setTimeout(r, 100));
        }
        assert.fail(`${what}: not seen in 20 s; last output:\n${out.slice(-800)}`);
      };
      try {
        await until('the counters counted', (cs) => cs.some((c) => c.name === 'wan-in' && c.counted && c.bytes > 0));
        const added = await counter(['add', 'late', '--chain', 'input', '--proto', 'udp']);
        assert.equal(added.code, 0, added.stderr);
        await until('the counter added meanwhile, installed by the monitor', (cs) => cs.some((c) => c.name === 'late' && c.counted && c.bytes > 0));
        const beforeReboot = (await until('wan-in', (cs) => cs.some((c) => c.name === 'wan-in'))).find((c) => c.name === 'wan-in')!.bytes;
        await router.reboot();
        const back = await until('every counter back after the reboot, counting on', (cs) => cs.length === 3 && cs.every((c) => c.counted) && cs.find((c) => c.name === 'wan-in')!.bytes > beforeReboot);
        assert.deepEqual(back.map((c) => c.name), ['late', 'not-doc', 'wan-in']);
        assert.match(ruleset(), isNft ? /inet lantop/ : /-A LANTOP_CIN .*lantop:c:/, 'the rules are on the router again');
      } finally {
        clearInterval(ticker);
        child.kill('SIGTERM');
        await new Promise((r) => child.once('close', r));
      }
      assert.equal((await lantop(['teardown', '--yes'])).code, 0);
      assert.equal(ruleset(), before);
    });
  });
}

/** TRAFFIC_IN's counting rule (lantop's router counter: `-i WAN` in INPUT; this emulator has no ip6tables). */
function iptablesRouterIn(router: EmulatedRouter): number {
  let sum = 0n;
  const chain = router.state.iptables.tables.get('filter')?.chains.find((c) => c.name === 'TRAFFIC_IN');
  for (const rule of chain?.rules ?? []) sum += rule.bytes;
  return Number(sum);
}

/** router_in's counter (hook input, `iifname WAN`) in table inet lantop. */
function nftRouterIn(router: EmulatedRouter): number {
  const table = router.state.nft!.tables.find((t) => t.family === 'inet' && t.name === 'lantop');
  const chain = table?.chains.find((c) => c.name === 'router_in');
  let sum = 0n;
  for (const rule of chain?.rules ?? []) for (const s of rule.statements) if (s.kind === 'counter') sum += s.bytes;
  return Number(sum);
}
