// test-file-timeout: 180
// Users mode's nftables table (issue 18) against the real kernel and nft of this machine, in
// throwaway network namespaces (root; skips with one line otherwise, fails under
// LANTOP_REQUIRE_LAB=1): a gateway G and a client C on one veth link (203.0.113.1/.10,
// 2001:db8:ff::1/::10). The planner's script goes through NftUsersBackend's own delivery in a BusyBox
// shell in G; "SSH sessions" are plain TCP connections from fixed client ports to G's port 22 (what
// the rules match is the 4-tuple, not the protocol above it). The oracle: nft counters in C, in its
// own table, hooked where C's packets leave (postrouting) and arrive (prerouting) — the same skbs,
// the same L3 lengths. Each session's counters equal the oracle's exactly; a connection from another
// client port counts nothing; a session taken out leaves the other's counters alone; the table
// deleted behind lantop's back comes back; teardown leaves `nft list ruleset` as it was.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { busyboxShell, netnsSkipReason, runSync, runSyncOk } from '../../../../test/helpers/netns-shell.js';
import type { SessionEndpoint } from '../users-backend.js';
import { NftUsersBackend } from './users-backend.js';

const STEP_MS = 20_000;
const NONCE = '0123456789ab';
const G4 = '203.0.113.1';
const C4 = '203.0.113.10';
const G6 = '2001:db8:ff::1';
const C6 = '2001:db8:ff::10';
const ALICE: SessionEndpoint = { pid: 2345, user: 'alice', clientIp: C4, clientPort: 40022 };
const ODD: SessionEndpoint = { pid: 4242, user: '_-odd-name$', clientIp: C6, clientPort: 50123 };

const skip = netnsSkipReason('users nft', ['nft']);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const ok = (argv: readonly string[], input?: string) => runSyncOk(argv, STEP_MS, input);

class UsersNetns {
  readonly tag = `ltun${process.pid % 10000}`;
  readonly g = `${this.tag}g`;
  readonly c = `${this.tag}c`;
  readonly children: ChildProcess[] = [];

  constructor() {
    process.once('exit', () => this.destroy());
    for (const ns of [this.g, this.c]) {
      runSync(['ip', 'netns', 'del', ns], STEP_MS);
      ok(['ip', 'netns', 'add', ns]);
      ok(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    }
    ok(['ip', '-n', this.g, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', this.c]);
    for (const [ns, v4, v6] of [[this.g, G4, G6], [this.c, C4, C6]] as const) {
      ok(['ip', '-n', ns, 'link', 'set', 'eth0', 'up']);
      ok(['ip', '-n', ns, 'addr', 'add', `${v4}/24`, 'dev', 'eth0']);
      ok(['ip', '-n', ns, 'addr', 'add', `${v6}/64`, 'dev', 'eth0', 'nodad']);
    }
    // The oracle: per session, what C sends to G's port 22 (up) and what it gets back (down).
    const rules = (hook: 'pre' | 'post') => [ALICE, ODD].map((s) => {
      const ip = s.clientIp.includes(':') ? 'ip6' : 'ip';
      const g = s.clientIp.includes(':') ? G6 : G4;
      return hook === 'post'
        ? `${ip} daddr ${g} tcp sport ${s.clientPort} tcp dport 22 counter comment "up ${s.pid}"`
        : `${ip} saddr ${g} tcp sport 22 tcp dport ${s.clientPort} counter comment "down ${s.pid}"`;
    }).join('\n');
    this.in(this.c, ['nft', '-f', '-'], `table inet oracle {
      chain pre { type filter hook prerouting priority -400; policy accept;\n${rules('pre')}\n}
      chain post { type filter hook postrouting priority 400; policy accept;\n${rules('post')}\n}
    }\n`);
  }

  in(ns: string, argv: readonly string[], input?: string): string {
    return ok(['ip', 'netns', 'exec', ns, ...argv], input);
  }

  /** The oracle's bytes per session pid and direction. */
  oracle(): Map<string, number> {
    const out = new Map<string, number>();
    for (const m of this.in(this.c, ['nft', 'list', 'table', 'inet', 'oracle']).matchAll(/counter packets \d+ bytes (\d+) comment "((?:up|down) \d+)"/g)) out.set(m[2]!, Number(m[1]));
    return out;
  }

  /** One TCP connection C:localPort → G:22: `up` bytes sent, `down` back, both ends closed. */
  async transfer(to: string, localPort: number, up: number, down: number): Promise<void> {
    const server = spawn('ip', ['netns', 'exec', this.g, process.execPath, '-e', `
      const s = require('net').createServer((c) => { let n = 0; c.on('data', (d) => { n += d.length; }); c.on('end', () => c.end(Buffer.alloc(${down}, 120), () => { console.log('got ' + n); s.close(); })); });
      s.listen(22, '${to.includes(':') ? '::' : '0.0.0.0'}', () => console.log('ready'));`], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.children.push(server);
    let said = '';
    server.stdout.on('data', (d: Buffer) => (said += d.toString()));
    server.stderr.on('data', (d: Buffer) => (said += d.toString()));
    try {
      for (let i = 0; !said.includes('ready'); i++) {
        if (i > 200) throw new Error(`server: ${said}`);
        await sleep(25);
      }
      const client = spawnSync('ip', ['netns', 'exec', this.c, process.execPath, '-e', `
        const c = require('net').connect({ port: 22, host: '${to}', localPort: ${localPort} }, () => c.end(Buffer.alloc(${up}, 97)));
        let n = 0; c.on('data', (d) => { n += d.length; }); c.on('close', () => console.log('received ' + n)); c.on('error', (e) => console.log(String(e)));`], { encoding: 'utf8', timeout: STEP_MS });
      const out = (client.stdout ?? '') + (client.stderr ?? '');
      if (!out.includes(`received ${down}`)) throw new Error(`client: ${out}`);
      for (let i = 0; !said.includes(`got ${up}`); i++) {
        if (i > 200) throw new Error(`server: ${said}`);
        await sleep(25);
      }
      await sleep(300); // the last ACKs and FINs
    } finally {
      server.kill('SIGKILL');
    }
  }

  destroy(): void {
    for (const child of this.children) if (child.exitCode === null) child.kill('SIGKILL');
    for (const ns of [this.g, this.c]) spawnSync('ip', ['netns', 'del', ns]);
  }
}

describe('users mode nftables table in a network namespace', { skip }, () => {
  test('per-session counters equal the oracle; sessions come and go; the table comes back; teardown', async () => {
    const net = new UsersNetns();
    const shell = busyboxShell(net.g, STEP_MS, net.children);
    try {
      const backend = new NftUsersBackend({ nft: 'nft', sshPort: 22 });
      const run = (command: string) => shell({ command, where: 'shell' });
      const list = async () => backend.read(new Map([['nft', await run(backend.listingParts()[0]!.command)]]));
      const sync = async (sessions: SessionEndpoint[]) => {
        const plan = backend.plan(await list(), sessions);
        const outcome = await backend.send(shell, plan.commands, { nonce: NONCE, maxLineBytes: 1022 });
        assert.equal(outcome.failed, null, JSON.stringify(outcome.failed));
        assert.deepEqual(backend.plan(await list(), sessions).commands, [], 'a second plan sends nothing');
        return plan;
      };
      const boot = net.in(net.g, ['nft', 'list', 'ruleset']);
      assert.equal((await list()).table, null);
      const first = await sync([ALICE, ODD]);
      assert.equal(first.added.length, 2);

      await net.transfer(G4, ALICE.clientPort, 150_000, 40_000);
      await net.transfer(G6, ODD.clientPort, 30_000, 70_000);
      await net.transfer(G4, 40099, 20_000, 20_000); // another client port: no session of ours
      const read = await list();
      const oracle = net.oracle();
      const alice = read.counters.get('2345/203.0.113.10/40022');
      const odd = read.counters.get('4242/2001:db8:ff::10/50123');
      assert.deepEqual([alice?.upBytes, alice?.downBytes], [oracle.get('up 2345'), oracle.get('down 2345')], 'alice = oracle');
      assert.deepEqual([odd?.upBytes, odd?.downBytes], [oracle.get('up 4242'), oracle.get('down 4242')], 'the odd name = oracle');
      assert.ok(alice!.upBytes > 150_000 && alice!.downBytes > 40_000 && odd!.upBytes > 30_000 && odd!.downBytes > 70_000, JSON.stringify([alice, odd]));
      assert.equal(read.counters.size, 2);

      // The IPv6 session ends: its rules go by handle, alice's counters stay as they were.
      const second = await sync([ALICE]);
      assert.deepEqual(second.removed, [ODD]);
      assert.ok(second.commands.every((c) => c[1]!.startsWith('delete rule ')), JSON.stringify(second.commands));
      const after = (await list()).counters;
      assert.deepEqual([...after.keys()], ['2345/203.0.113.10/40022']);
      assert.equal(after.get('2345/203.0.113.10/40022')?.upBytes, alice!.upBytes);

      // Someone deletes the table: the next plan puts it back (its counters start at 0 again).
      net.in(net.g, ['nft', 'delete', 'table', 'inet', 'lantop_users']);
      const third = await sync([ALICE]);
      assert.equal(third.commands[0]![1], 'add table inet lantop_users');
      assert.equal((await list()).counters.get('2345/203.0.113.10/40022')?.upBytes, 0);

      const removal = await backend.planRemoval(run);
      assert.deepEqual(removal.commands, [['nft', 'delete table inet lantop_users']]);
      assert.equal((await backend.send(shell, removal.commands, { nonce: NONCE, maxLineBytes: 1022 })).failed, null);
      assert.equal(net.in(net.g, ['nft', 'list', 'ruleset']), boot, 'the ruleset is as before');
      assert.deepEqual((await backend.planRemoval(run)).commands, []);
    } finally {
      shell.close();
      net.destroy();
    }
  });
});
