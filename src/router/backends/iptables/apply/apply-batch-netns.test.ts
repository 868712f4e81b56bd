// applyBatch against real iptables-restore, legacy and nf_tables, in a throwaway network namespace
// (root; skips with one line otherwise, fails under LANTOP_REQUIRE_LAB=1 like the lab): every
// method leaves the same filter table, counters included, as the same commands run one by one —
// and the --noflush semantics apply/restore.ts relies on (`:X` flushes, `-N X` fails, all or nothing).
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { applyBatch, type BatchTarget } from './apply-batch.js';
import type { RunCommand } from './method-result.js';
import { failedScriptLine } from './restore.js';
import { planFlush, planSetup, planTeardown } from '../plan.js';
import { planRouterCounters } from '../router-chains.js';
import { parseIptablesListing } from '../../../parsers/iptables-listing.js';
import type { IptablesListing } from '../../../parsers/types.js';
import { labSkipReason } from '../../../../../test/lab/lab.js';
import { bootRuleset } from '../../../../../test/lab/lab-model.js';
import { LOCAL_SHELLS as SHELLS, hostIps, planOptions } from '../../../../../test/helpers/apply-plans.js';

const labSkip = labSkipReason();

type Backend = 'legacy' | 'nft';
let nsSerial = 0;

const liveNamespaces = new Set<string>();
process.once('exit', () => {
  for (const name of liveNamespaces) spawnSync('ip', ['netns', 'del', name]);
});

class Netns {
  readonly name = `ltab${process.pid % 10000}${String.fromCharCode(97 + nsSerial++)}`;
  constructor(readonly backend: Backend) {
    spawnSync('ip', ['netns', 'del', this.name]);
    const r = spawnSync('ip', ['netns', 'add', this.name], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add: ${r.stderr}`);
    liveNamespaces.add(this.name);
  }
  get iptables() {
    return `iptables-${this.backend}`;
  }
  exec(argv: readonly string[], input?: string): { status: number | null; out: string } {
    const r = spawnSync('ip', ['netns', 'exec', this.name, ...argv], { encoding: 'utf8', input: input ?? '', timeout: 20_000 });
    return { status: r.status, out: (r.stdout ?? '') + (r.stderr ?? '') };
  }
  ok(argv: readonly string[], input?: string): string {
    const r = this.exec(argv, input);
    if (r.status !== 0) throw new Error(`${argv.join(' ')}: ${r.out}`);
    return r.out;
  }
  /** The filter table as a dump, counters included (`#` lines dropped). */
  save(): string {
    return this.ok([`${this.iptables}-save`, '-c', '-t', 'filter']).split('\n').filter((l) => !l.startsWith('#')).join('\n');
  }
  load(dump: string): void {
    this.ok([`${this.iptables}-restore`, '-c'], dump);
  }
  listing(): IptablesListing {
    return parseIptablesListing(this.ok([this.iptables, '-L', '-v', '-x', '-n', '--line-numbers']));
  }
  /**
   * The router's shell as a `run` for applyBatch: ONE shell process for the whole apply (state such
   * as _C carries over, as on a session), stderr merged like telnet's pty, each reply framed by a
   * line of our own. close() ends it.
   */
  shell(shellArgv: readonly string[]): RunCommand & { close(): void } {
    const child = spawn('ip', ['netns', 'exec', this.name, ...shellArgv.slice(0, -1)], { stdio: ['pipe', 'pipe', 'pipe'] });
    let buffer = '';
    let waiting: ((text: string) => void) | null = null;
    const onData = (d: Buffer) => {
      buffer += d.toString('utf8');
      const end = buffer.indexOf('@@END@@\n');
      if (end >= 0 && waiting) {
        const reply = buffer.slice(0, end);
        buffer = buffer.slice(end + 8);
        const w = waiting;
        waiting = null;
        w(reply.replace(/\n$/, ''));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.stdin.write('exec 2>&1\n');
    const run = (({ command }) =>
      new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`shell: no reply to ${command.slice(0, 80)}`)), 20_000);
        waiting = (text) => {
          clearTimeout(timer);
          resolve(text);
        };
        child.stdin.write(`${command}\necho @@END@@\n`);
      })) as RunCommand & { close(): void };
    run.close = () => {
      child.stdin.end();
      child.kill('SIGKILL');
    };
    return run;
  }
  destroy(): void {
    spawnSync('ip', ['netns', 'del', this.name]);
    liveNamespaces.delete(this.name);
  }
}

/** The lab's boot firewall (filter table), with counters on the rules that count traffic. */
const BOOT_FILTER = bootRuleset().split('COMMIT')[0]! + 'COMMIT\n';

function withChains(extra: string[], forward: string[] = []): string {
  // A boot firewall plus lantop's chains as an earlier setup left them; counters on every rule.
  const lines = BOOT_FILTER.trimEnd().split('\n');
  const commit = lines.pop()!;
  const chains = [...new Set(extra.map((l) => /^\[\d+:\d+\] -A (\S+)/.exec(l)?.[1] ?? /^:(\S+)/.exec(l)?.[1]).filter((c): c is string => c !== undefined && c !== 'FORWARD'))];
  const head = lines.filter((l) => !l.startsWith('-A') && !l.startsWith('['));
  const rules = lines.filter((l) => l.startsWith('-A')).map((l, i) => `[${i + 1}:${(i + 1) * 100}] ${l}`);
  return [...head, ...chains.map((c) => `:${c} - [0:0]`), ...forward, ...rules, ...extra.filter((l) => !l.startsWith(':')), commit, ''].join('\n');
}

/** BOOT_FILTER with the counters withChains() gives its rules, as iptables-save -c prints it (no `#` lines). */
let BOOT_FILTER_DUMP = '';

const counted = (chain: string, spec: string, pkts: number) => `[${pkts}:${pkts * 1500}] -A ${chain} ${spec} -m comment --comment lantop${chain === 'TRAFFIC' ? '' : ' -j RETURN'}`;

interface Scenario {
  name: string;
  state: string;
  plan: (listing: IptablesListing, iptables: string) => string[];
  /** Extra checks on the final dump. */
  check?: (dump: string) => void;
}

const SCENARIOS: Scenario[] = [
  { name: 'first setup on the boot firewall (split, 30 hosts)', state: withChains([]), plan: (l, ipt) => planSetup(l, hostIps(30), planOptions('split', ipt)).commands },
  {
    name: 'more hosts on an existing split set-up: counters of the old rules survive',
    state: withChains(
      [
        '[7:700] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
        '[8:800] -A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
        ...hostIps(5).map((ip, i) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 10 + i)),
        ...hostIps(5).map((ip, i) => counted('TRAFFIC_UP', `-s ${ip}/32`, 20 + i)),
      ],
      ['[99:9900] -A FORWARD -j TRAFFIC'],
    ),
    plan: (l, ipt) => planSetup(l, hostIps(12), planOptions('split', ipt)).commands,
    check: (dump) => {
      assert.match(dump, /^\[10:15000\] -A TRAFFIC_DOWN -d 198\.51\.100\.10\/32 -m comment --comment lantop -j RETURN$/m);
      assert.match(dump, /^\[99:9900\] -A FORWARD -j TRAFFIC$/m);
      assert.match(dump, /^\[0:0\] -A TRAFFIC_UP -s 198\.51\.100\.21\/32 -m comment --comment lantop -j RETURN$/m);
    },
  },
  {
    name: 'a jump below ESTABLISHED plus a duplicate: moved to 1, extras deleted by number',
    state: withChains(['[3:300] -A TRAFFIC -i ppp0 -d 198.51.100.10/32 -m comment --comment lantop', '[4:400] -A TRAFFIC -s 198.51.100.10/32 -o ppp0 -m comment --comment lantop']).replace(
      '-A FORWARD -i br0 -o ppp0 -j ACCEPT',
      '-A FORWARD -j TRAFFIC\n[1:1] -A FORWARD -i br0 -o ppp0 -j ACCEPT\n[2:2] -A FORWARD -j TRAFFIC',
    ),
    plan: (l, ipt) => planSetup(l, hostIps(3), planOptions('flat', ipt)).commands,
  },
  {
    name: 'flat → split: every flat rule deleted by number, the other chains created',
    state: withChains(hostIps(6).flatMap((ip, i) => [`[${i}:${i * 10}] -A TRAFFIC -i ppp0 -d ${ip}/32 -m comment --comment lantop`, `[${i}:${i * 20}] -A TRAFFIC -s ${ip}/32 -o ppp0 -m comment --comment lantop`]), ['[5:500] -A FORWARD -j TRAFFIC']),
    plan: (l, ipt) => planSetup(l, hostIps(6), planOptions('split', ipt)).commands,
  },
  {
    name: 'split → flat: the sub-chains flushed and removed (-F, -X) after the jumps into them',
    state: withChains(
      ['-A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', '-A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP', ...hostIps(4).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1)), ...hostIps(4).map((ip) => counted('TRAFFIC_UP', `-s ${ip}/32`, 2))].map((l) => (l.startsWith('[') ? l : `[0:0] ${l}`)),
      ['[5:500] -A FORWARD -j TRAFFIC'],
    ),
    plan: (l, ipt) => planSetup(l, hostIps(4), planOptions('flat', ipt)).commands,
  },
  { name: 'first setup on the boot firewall (tree, 60 hosts over four /28s and a far one)', state: withChains([]), plan: (l, ipt) => planSetup(l, [...hostIps(60), '198.51.100.250'], planOptions('tree', ipt)).commands },
  {
    name: 'split → tree: the host rules move into the group chains, the jumps into TRAFFIC kept',
    state: withChains(
      ['-A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', '-A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP', ...hostIps(20).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1)), ...hostIps(20).map((ip) => counted('TRAFFIC_UP', `-s ${ip}/32`, 2))].map((l) => (l.startsWith('[') ? l : `[7:70] ${l}`)),
      ['[5:500] -A FORWARD -j TRAFFIC'],
    ),
    plan: (l, ipt) => planSetup(l, hostIps(20), planOptions('tree', ipt)).commands,
    check: (dump) => assert.match(dump, /^\[7:70\] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN$/m),
  },
  {
    name: 'teardown',
    state: withChains(['[1:1] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', ...hostIps(3).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1))], ['[5:500] -A FORWARD -j TRAFFIC']),
    plan: (l, ipt) => planTeardown(l, ipt),
  },
  {
    name: 'the router\'s own counters on the boot firewall (issue 19): TRAFFIC_IN/OUT, their jumps at 1 before INPUT\'s ACCEPT and DROP',
    state: withChains([]),
    plan: (l, ipt) => planRouterCounters(l, { wan: 'ppp0', isTagging: true, iptables: ipt }).commands,
    check: (dump) => {
      assert.match(dump, /^:TRAFFIC_IN - \[0:0\]\n:TRAFFIC_OUT - \[0:0\]$/m);
      assert.match(dump, /\n:TRAFFIC_OUT - \[0:0\]\n\[0:0\] -A INPUT -j TRAFFIC_IN\n\[1:100\] -A INPUT -i lo -j ACCEPT\n/);
      assert.match(dump, /^\[0:0\] -A OUTPUT -j TRAFFIC_OUT$/m);
      assert.match(dump, /^\[0:0\] -A TRAFFIC_IN -i ppp0 -m comment --comment lantop$/m);
    },
  },
  {
    name: 'teardown with the router\'s counters: INPUT/OUTPUT jumps, then every chain',
    state: withChains(
      ['[1:1] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', ...hostIps(3).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1)), '[3:300] -A TRAFFIC_IN -i ppp0 -m comment --comment lantop', '[4:400] -A TRAFFIC_OUT -o ppp0 -m comment --comment lantop'],
      ['[9:900] -A INPUT -j TRAFFIC_IN', '[8:800] -A OUTPUT -j TRAFFIC_OUT', '[5:500] -A FORWARD -j TRAFFIC'],
    ),
    plan: (l, ipt) => planTeardown(l, ipt),
    check: (dump) => assert.equal(dump, BOOT_FILTER_DUMP, 'the boot firewall exactly'),
  },
  {
    name: 'flush',
    state: withChains(['[1:1] -A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN', ...hostIps(3).map((ip) => counted('TRAFFIC_DOWN', `-d ${ip}/32`, 1))], ['[5:500] -A FORWARD -j TRAFFIC']),
    plan: (l, ipt) => planFlush(l, ipt),
  },
];

const NS_SHELLS = SHELLS.filter((s) => s.name !== 'bash');

for (const backend of ['legacy', 'nft'] as const) {
  describe(`real iptables-restore --noflush (${backend}, network namespace)`, { skip: labSkip }, () => {
    // One namespace for the suite; each test loads its own filter table (iptables-restore -c).
    let ns: Netns;
    const setUp = () => {
      if (ns !== undefined) return;
      ns = new Netns(backend);
      ns.load(withChains([]));
      BOOT_FILTER_DUMP = ns.save();
    };
    after(() => ns?.destroy());

    test('semantics relied on: `:X` flushes an existing chain, `-N X` fails it, a failure leaves everything as it was', () => {
      setUp();
      const restore = (script: string) => ns.exec([`${ns.iptables}-restore`, '--noflush'], script);
      ns.load(withChains([counted('TRAFFIC_DOWN', '-d 198.51.100.10/32', 5)]));
      const before = ns.save();
      assert.match(before, /\[5:7500\] -A TRAFFIC_DOWN -d 198.51.100.10\/32/);

      const n = restore('*filter\n-N TRAFFIC_DOWN\n-A TRAFFIC_DOWN -d 198.51.100.11\nCOMMIT\n');
      assert.notEqual(n.status, 0);
      assert.equal(failedScriptLine(n.out), 2);
      assert.equal(ns.save(), before, '-N of an existing chain: nothing changed');

      const rollback = restore('*filter\n-A TRAFFIC_DOWN -d 198.51.100.12\n-A NO_SUCH_CHAIN -d 198.51.100.13\nCOMMIT\n');
      assert.notEqual(rollback.status, 0);
      assert.equal(failedScriptLine(rollback.out), 3);
      assert.equal(ns.save(), before, 'line 2 succeeded, line 3 failed: line 2 is not applied either');

      const colon = restore('*filter\n:TRAFFIC_DOWN - [0:0]\nCOMMIT\n');
      assert.equal(colon.status, 0);
      assert.doesNotMatch(ns.save(), /198\.51\.100\.10/, ':X with --noflush flushed the existing chain (why -N is kept as a command)');

      const unknown = restore('*filter\n-A TRAFFIC_DOWN -m nosuchmatch -j RETURN\nCOMMIT\n');
      assert.notEqual(unknown.status, 0);
      assert.equal(failedScriptLine(unknown.out), 2, unknown.out);
    });

    for (const scenario of SCENARIOS) {
      test(`${scenario.name}: every method leaves what the commands one by one leave`, async () => {
        setUp();
        ns.load(scenario.state);
        const commands = scenario.plan(ns.listing(), ns.iptables);
        assert.ok(commands.length > 0, 'a plan');
        const start = ns.save();
        for (const command of commands) ns.ok(command.split(' '));
        const expected = ns.save();
        assert.notEqual(expected, start, 'the plan changes something');
        scenario.check?.(expected);

        const restore = { command: `${ns.iptables}-restore`, where: 'shell' as const };
        const variants: Array<[string, BatchTarget, readonly string[]]> = [];
        for (const shell of NS_SHELLS) {
          variants.push([`restore via ${shell.name}`, { iptables: { binary: ns.iptables, where: 'shell' }, restore, isShell: true }, shell.argv]);
          variants.push([`restore via ${shell.name}, 3000-byte lines`, { iptables: { binary: ns.iptables, where: 'shell' }, restore, isShell: true, maxLineBytes: 3000 }, shell.argv]);
          variants.push([`shell lines via ${shell.name}`, { iptables: { binary: ns.iptables, where: 'shell' }, restore: null, isShell: true }, shell.argv]);
        }
        variants.push(['line by line', { iptables: { binary: ns.iptables, where: 'cli' }, restore: null, isShell: false }, ['sh', '-c']]);
        for (const [label, target, shellArgv] of variants) {
          ns.load(scenario.state);
          const run = ns.shell(shellArgv);
          const outcome = await applyBatch(run, target, commands).finally(() => run.close());
          assert.equal(outcome.failed, null, `${label}: ${JSON.stringify(outcome.failed)}`);
          assert.deepEqual(outcome.applied, commands, label);
          assert.equal(ns.save(), expected, label);
          assert.equal(outcome.method, label.startsWith('restore') ? 'restore' : label.startsWith('shell') ? 'shell-batch' : 'line-by-line');
        }
      });
    }

    test('setup with the router\'s counters, then teardown: iptables-save exactly as before setup (issue 19)', async () => {
      setUp();
      ns.load(withChains([]));
      const before = ns.save();
      const listing = ns.listing();
      const commands = [...planSetup(listing, hostIps(5), planOptions('split', ns.iptables)).commands, ...planRouterCounters(listing, { wan: 'ppp0', isTagging: true, iptables: ns.iptables }).commands];
      const run = ns.shell(NS_SHELLS[0]!.argv);
      try {
        const target = { iptables: { binary: ns.iptables, where: 'shell' as const }, restore: { command: `${ns.iptables}-restore`, where: 'shell' as const }, isShell: true };
        assert.equal((await applyBatch(run, target, commands)).failed, null);
        assert.match(ns.save(), /-A INPUT -j TRAFFIC_IN/);
        assert.deepEqual(planRouterCounters(ns.listing(), { wan: 'ppp0', isTagging: true, iptables: ns.iptables }).commands, [], 'read back: in place');
        const teardown = await applyBatch(run, target, planTeardown(ns.listing(), ns.iptables));
        assert.equal(teardown.failed, null);
        assert.equal(ns.save(), before);
      } finally {
        run.close();
      }
    });

    test('a plan gone stale (the chain appeared since the listing): restore refuses it whole and names `-N`; shell lines stop there too', async () => {
      setUp();
      ns.load(withChains([]));
      const commands = planSetup(ns.listing(), hostIps(8), planOptions('split', ns.iptables)).commands;
      ns.load(withChains([counted('TRAFFIC_DOWN', '-d 198.51.100.10/32', 9)]));
      const before = ns.save();
      const shell = NS_SHELLS[0]!;
      const run = ns.shell(shell.argv);
      after(() => run.close());
      const restored = await applyBatch(run, { iptables: { binary: ns.iptables, where: 'shell' }, restore: { command: `${ns.iptables}-restore`, where: 'shell' }, isShell: true }, commands);
      assert.equal(restored.method, 'restore');
      assert.deepEqual(restored.applied, []);
      assert.equal(restored.failed?.command, `${ns.iptables} -N TRAFFIC_DOWN`);
      assert.equal(ns.save(), before, 'nothing changed, the old counter is intact');
      if (backend === 'nft') assert.equal(restored.failed?.problem?.kind, 'chain-exists');

      const lines = await applyBatch(run, { iptables: { binary: ns.iptables, where: 'shell' }, restore: null, isShell: true }, commands);
      assert.deepEqual(lines.applied, [`${ns.iptables} -N TRAFFIC`]);
      assert.equal(lines.failed?.command, `${ns.iptables} -N TRAFFIC_DOWN`);
      assert.equal(lines.failed?.problem?.kind, 'chain-exists');
      assert.ok(!/-j TRAFFIC\b/.test(ns.save().split('\n').filter((l) => l.includes('-A FORWARD')).join('\n')), 'no jump without its chains');
    });
  });
}
