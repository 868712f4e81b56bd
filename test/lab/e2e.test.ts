// test-file-timeout: 300 (measured 106 s alone, both backends; waits for the lab lock count)
// End-to-end: the REAL lantop binary (`node dist/cli.js …`, built by `npm run build`) against the
// netns router lab, on both iptables backends, over telnet (all tests) and SSH (discovery and
// usage exactness). One lab per backend, reused by the tests in order. Every assertion compares
// with the lab's ground truth: its host list, its nftables oracle, its iptables-save.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { labSkipReason, startLab, type IptablesBackend, type Lab } from './lab.js';
import { CLI_PATH as CLI, Cli, byIp, type Protocol, type Run, type UsageJson, type HostsJson, type ReportJson } from './lantop-cli.js';

const skip = labSkipReason();

function assertNoNegatives(snapshot: UsageJson, where: string): void {
  for (const h of snapshot.hosts) {
    for (const key of ['downBytes', 'upBytes', 'downBps', 'upBps', 'downShare', 'upShare'] as const) {
      assert.ok(Number.isFinite(h[key]) && h[key] >= 0, `${where}: ${h.ip} ${key} = ${h[key]}`);
    }
  }
  assert.ok(snapshot.totals.downBytes >= 0 && snapshot.totals.upBytes >= 0, `${where}: negative totals`);
}

/** Control characters other than \n (and \r where a pty translates newlines). */
function controlChars(text: string, allowCr = false): string[] {
  const found: string[] = [];
  for (const ch of text) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '\n' || (allowCr && ch === '\r')) continue;
    if (c < 0x20 || (c >= 0x7f && c < 0xa0)) found.push(JSON.stringify(ch));
  }
  return found;
}

/** Per-host delta lantop counted between two snapshots must equal the oracle's IP-level bytes. */
function assertExact(lab: Lab, before: UsageJson, afterSnap: UsageJson, truth: Awaited<ReturnType<Lab['oracle']>>, where: string): void {
  const b = byIp(before.hosts);
  const a = byIp(afterSnap.hosts);
  for (const host of lab.hosts) {
    const t = truth[host.ip];
    assert.ok(t, `${where}: oracle has no ${host.ip}`);
    const row = a.get(host.ip);
    assert.ok(row, `${where}: lantop lists no ${host.ip}: ${JSON.stringify(afterSnap.hosts)}`);
    const prev = b.get(host.ip) ?? { downBytes: 0, upBytes: 0 };
    assert.equal(row.downBytes - prev.downBytes, t.downBytes, `${where}: ${host.name} download bytes (lantop vs oracle)`);
    assert.equal(row.upBytes - prev.upBytes, t.upBytes, `${where}: ${host.name} upload bytes (lantop vs oracle)`);
  }
}

const latencies: Array<{ where: string; ms: number }> = [];
function noteLatency(where: string, s: UsageJson): void {
  if (s.pollLatencyMs !== null) latencies.push({ where, ms: s.pollLatencyMs });
}

for (const backend of ['legacy', 'nft'] as const satisfies readonly IptablesBackend[]) {
  describe(`lantop e2e (${backend})`, { skip, timeout: 170_000 }, () => {
    let lab: Lab;
    const clis: Cli[] = [];
    const cli = (protocol: Protocol = 'telnet', timeoutMs?: number) => {
      const c = new Cli(lab, protocol, timeoutMs);
      clis.push(c);
      return c;
    };

    before(async () => {
      assert.ok(existsSync(CLI), `${CLI} is missing: run \`npm run build\` first`);
      lab = await startLab({ hosts: 3, backend, password: `e2e-${backend}` });
    });
    after(async () => {
      await lab?.stop();
      for (const c of clis) c.cleanup();
      if (backend === 'nft' && latencies.length > 0) {
        const ms = latencies.map((l) => l.ms).sort((x, y) => x - y);
        process.stderr.write(`e2e poll latency (pollLatencyMs): n=${ms.length} min=${ms[0]} median=${ms[Math.floor(ms.length / 2)]} max=${ms[ms.length - 1]}\n`);
      }
    });

    for (const protocol of ['telnet', 'ssh'] as const) {
      test(`discovery over ${protocol}: lantop lists exactly the lab's devices`, async () => {
        await lab.refreshArp();
        const r = await cli(protocol).ok(['hosts', '--json']);
        const listed = JSON.parse(r.stdout) as HostsJson;
        const got = byIp(listed.hosts);
        const expected = [
          ...lab.hosts.map((h) => ({ ip: h.ip, mac: h.mac, hostname: h.hostname === '' ? null : h.hostname })),
          { ip: lab.console.ip, mac: lab.console.mac, hostname: null },
        ];
        assert.deepEqual([...got.keys()].sort(), expected.map((e) => e.ip).sort(), 'the IPs lantop lists');
        for (const e of expected) {
          const row = got.get(e.ip);
          assert.ok(row);
          assert.equal(row.mac?.toLowerCase(), e.mac.toLowerCase(), `${e.ip} MAC`);
          assert.equal(row.hostname, e.hostname, `${e.ip} hostname`);
        }
        assert.ok(lab.hosts.some((h) => h.hostname === ''), 'the lab has a host without a name');
      });
    }

    for (const layout of ['flat', 'split', 'tree'] as const) {
      test(`setup twice, flush, teardown (${layout} layout): idempotent and leaves the firewall as it was`, async () => {
        const c = cli();
        const pristine = await lab.iptablesSave();
        const dry = await c.ok(['setup', '--dry-run', '--layout', layout]);
        assert.match(dry.stdout, /TRAFFIC/);
        assert.equal(await lab.iptablesSave(), pristine, '--dry-run changed nothing');

        await c.ok(['setup', '--yes', '--layout', layout]);
        const once = await lab.iptablesSave();
        const lines = once.split('\n');
        const inChain = (chain: string) => lines.filter((l) => l.startsWith(`-A ${chain} `));
        for (const h of lab.hosts) {
          if (layout === 'flat') {
            assert.equal(inChain('TRAFFIC').filter((l) => l.includes(`-d ${h.ip}/32`) && l.includes('-i ppp0')).length, 1, `one download rule for ${h.ip}\n${once}`);
            assert.equal(inChain('TRAFFIC').filter((l) => l.includes(`-s ${h.ip}/32`) && l.includes('-o ppp0')).length, 1, `one upload rule for ${h.ip}\n${once}`);
          } else {
            // The tree keeps each host's rules in its address group's chain (the lab's hosts: .10–.12, group 0).
            const [down, up] = layout === 'tree' ? ['TRAFFIC_DOWN_0', 'TRAFFIC_UP_0'] : ['TRAFFIC_DOWN', 'TRAFFIC_UP'];
            assert.equal(inChain(down).filter((l) => l.includes(`-d ${h.ip}/32`) && l.endsWith('-j RETURN')).length, 1, `one download rule for ${h.ip}\n${once}`);
            assert.equal(inChain(up).filter((l) => l.includes(`-s ${h.ip}/32`) && l.endsWith('-j RETURN')).length, 1, `one upload rule for ${h.ip}\n${once}`);
          }
        }
        if (layout === 'tree') {
          // Group rules only (the console's .254 makes a second group), the hosts' group among them.
          assert.ok(inChain('TRAFFIC_DOWN').every((l) => /^-A TRAFFIC_DOWN -d 198\.51\.100\.\d+\/28 -m comment --comment lantop -j TRAFFIC_DOWN_\d+$/.test(l)), `group rules only\n${once}`);
          assert.ok(inChain('TRAFFIC_UP').every((l) => /^-A TRAFFIC_UP -s 198\.51\.100\.\d+\/28 -m comment --comment lantop -j TRAFFIC_UP_\d+$/.test(l)), `group rules only\n${once}`);
          assert.ok(inChain('TRAFFIC_DOWN').includes('-A TRAFFIC_DOWN -d 198.51.100.0/28 -m comment --comment lantop -j TRAFFIC_DOWN_0'), `the hosts' group\n${once}`);
        }
        if (layout !== 'flat') {
          assert.equal(inChain('TRAFFIC').filter((l) => l.includes('-i ppp0') && l.endsWith('-j TRAFFIC_DOWN')).length, 1, `downloads go to TRAFFIC_DOWN\n${once}`);
          assert.equal(inChain('TRAFFIC').filter((l) => l.includes('-o ppp0') && l.endsWith('-j TRAFFIC_UP')).length, 1, `uploads go to TRAFFIC_UP\n${once}`);
        }
        assert.equal(lines.filter((l) => /^-A FORWARD .*-j TRAFFIC$/.test(l)).length, 1, 'one FORWARD jump');

        const second = await c.ok(['setup', '--yes']);
        assert.match(second.stderr, /Nothing to do/, 'the layout on the router is kept when none is asked for');
        assert.equal(await lab.iptablesSave(), once, 'second setup changed nothing');
        const allRules = lines.filter((l) => /^-A TRAFFIC/.test(l));
        assert.equal(new Set(allRules).size, allRules.length, 'no duplicate rules');

        await c.ok(['flush', '--yes']);
        const flushed = await lab.iptablesSave();
        assert.deepEqual(flushed.split('\n').filter((l) => /^-A TRAFFIC/.test(l)), [], "lantop's chains are empty");
        assert.ok(flushed.split('\n').includes(':TRAFFIC - [0:0]'), `TRAFFIC chain stays\n${flushed}`);
        assert.equal(flushed.split('\n').filter((l) => /^-A FORWARD .*-j TRAFFIC$/.test(l)).length, 1, 'the jump stays');

        await c.ok(['teardown', '--yes']);
        assert.equal(await lab.iptablesSave(), pristine, 'teardown restores iptables-save byte for byte');
      });
    }

    test('flat, split and tree count the same bytes: each equals the oracle exactly', async () => {
      for (const layout of ['flat', 'split', 'tree'] as const) {
        const c = cli();
        await c.ok(['setup', '--yes', '--layout', layout]);
        const baseline = await c.usage();
        await lab.resetOracle();
        await lab.transfer('h1', { downBytes: 300_000, upBytes: 40_000 });
        await lab.transfer('h3', { downBytes: 5_000, upBytes: 90_000 });
        const truth = await lab.settle();
        const after = await c.usage();
        assertExact(lab, baseline, after, truth, `${layout} layout`);
        await c.ok(['teardown', '--yes']);
      }
    });

    for (const protocol of ['telnet', 'ssh'] as const) {
      test(`setup → traffic → usage over ${protocol}: bytes equal the oracle exactly`, async () => {
        const c = cli(protocol);
        await c.ok(['setup', '--yes']);
        const baseline = await c.usage();
        noteLatency(`${backend}/${protocol}`, baseline);
        await lab.resetOracle();
        await lab.transfer('h1', { downBytes: 400_000, upBytes: 30_000 });
        await lab.transfer('h2', { downBytes: 60_000, upBytes: 250_000 });
        await lab.transfer('h3', { downBytes: 1_000, upBytes: 2_000 });
        const truth = await lab.settle();
        const after = await c.usage();
        noteLatency(`${backend}/${protocol}`, after);
        assert.equal(after.connection, 'connected');
        assertExact(lab, baseline, after, truth, protocol);
        assertNoNegatives(after, protocol);
        for (const h of lab.hosts) assert.equal(byIp(after.hosts).get(h.ip)?.counted, true, `${h.ip} counted`);
        const downShare = after.hosts.reduce((s, h) => s + h.downShare, 0);
        const upShare = after.hosts.reduce((s, h) => s + h.upShare, 0);
        // Shares are rounded to 4 decimals each: the sum is 1 within n × 0.00005.
        const tolerance = after.hosts.length * 0.00005 + 1e-9;
        assert.ok(Math.abs(downShare - 1) <= tolerance, `download shares add up to ${downShare}`);
        assert.ok(Math.abs(upShare - 1) <= tolerance, `upload shares add up to ${upShare}`);
        for (const h of after.hosts) {
          assert.ok(Math.abs(h.downShare - h.downBytes / after.totals.downBytes) <= 0.00005 + 1e-9, `${h.ip} downShare`);
          assert.ok(Math.abs(h.upShare - h.upBytes / after.totals.upBytes) <= 0.00005 + 1e-9, `${h.ip} upShare`);
        }
        assert.equal(after.totals.downBytes, after.hosts.reduce((s, h) => s + h.downBytes, 0));
      });
    }

    test('router reboot during polling: reconnects, no negative values, history keeps the bytes', async () => {
      const c = cli();
      await c.ok(['setup', '--yes']);
      const baseline = await c.usage();
      await lab.resetOracle();
      await lab.transfer('h1', { downBytes: 200_000, upBytes: 20_000 });
      const truth = await lab.settle();
      const pre = await c.usage();
      assertExact(lab, baseline, pre, truth, 'before reboot');

      const { lines } = await c.watch({
        intervalMs: 500,
        count: 60,
        timeoutMs: 60_000,
        during: () => lab.reboot({ downMs: 1500 }),
        // Stop after a connected poll that follows a poll that was not connected.
        until: (ls) => ls.some((l, i) => i > 0 && l.connection !== 'connected') && ls.at(-1)?.connection === 'connected' && ls.length >= 3,
      });
      assert.ok(lines.some((l) => l.connection !== 'connected'), `the watch saw the connection drop: ${lines.map((l) => l.connection).join(',')}`);
      const last = lines.at(-1);
      assert.ok(last);
      assert.equal(last.connection, 'connected', `reconnected: ${lines.map((l) => l.connection).join(',')}`);
      lines.forEach((l, i) => assertNoNegatives(l, `watch poll ${i}`));
      // Counters restart at zero after the reboot: lantop's cumulative bytes never go down.
      for (let i = 1; i < lines.length; i++) {
        const prev = byIp(lines[i - 1]!.hosts);
        for (const h of lines[i]!.hosts) {
          const p = prev.get(h.ip);
          if (p) assert.ok(h.downBytes >= p.downBytes && h.upBytes >= p.upBytes, `poll ${i}: ${h.ip} went down`);
        }
      }
      const h1 = lab.hosts[0]!;
      const lastH1 = byIp(last.hosts).get(h1.ip);
      assert.equal(lastH1?.downBytes, byIp(pre.hosts).get(h1.ip)?.downBytes, 'no bytes invented or lost across the reboot (no traffic after it)');

      // After the reboot, traffic is counted again (rules back) and adds to the history.
      await lab.resetOracle();
      await c.ok(['setup', '--yes']);
      const postBase = await c.usage();
      await lab.transfer('h2', { downBytes: 70_000, upBytes: 9_000 });
      const truth2 = await lab.settle();
      const post = await c.usage();
      assertExact(lab, postBase, post, truth2, 'after reboot');

      const report = JSON.parse((await c.ok(['report', '--json', '--period', 'all'])).stdout) as ReportJson;
      const rep = byIp(report.hosts);
      for (const h of lab.hosts) {
        const live = byIp(post.hosts).get(h.ip);
        assert.equal(rep.get(h.ip)?.downBytes ?? 0, live?.downBytes ?? 0, `history of ${h.name} download = lantop's cumulative count`);
        assert.equal(rep.get(h.ip)?.upBytes ?? 0, live?.upBytes ?? 0, `history of ${h.name} upload = lantop's cumulative count`);
      }
      assert.ok((rep.get(h1.ip)?.downBytes ?? 0) >= truth[h1.ip]!.downBytes, 'pre-reboot bytes are in the history');
    });

    for (const fault of ['telnetd killed', 'LAN flapped'] as const) {
      test(`${fault} during usage --watch: reconnects and loses no bytes`, async () => {
        // A LAN outage shorter than the command timeout is bridged by TCP itself (no reconnect
        // needed); this one outlasts lantop's 2 s timeout, so the session must be rebuilt.
        const c = fault === 'LAN flapped' ? cli('telnet', 2000) : cli();
        await c.ok(['setup', '--yes']);
        await lab.resetOracle();
        const { lines } = await c.watch({
          intervalMs: 500,
          count: 60,
          timeoutMs: 60_000,
          during: async () => {
            const faultDone = fault === 'telnetd killed' ? lab.killTelnetd({ downMs: 2500 }) : lab.flapLan(5000);
            await Promise.all([faultDone, lab.transfer('h1', { downBytes: 150_000, upBytes: 15_000 }).then(() => lab.transfer('h3', { downBytes: 5_000, upBytes: 80_000 }))]);
            await lab.settle();
          },
          until: (ls) => ls.some((l) => l.connection !== 'connected') && ls.at(-1)?.connection === 'connected',
        });
        const truth = await lab.oracle();
        const states = lines.map((l) => l.connection);
        assert.ok(states.some((s) => s === 'reconnecting' || s === 'connecting'), `the watch showed reconnecting: ${states.join(',')}`);
        assert.equal(states.at(-1), 'connected', `connected again: ${states.join(',')}`);
        lines.forEach((l, i) => assertNoNegatives(l, `watch poll ${i}`));
        assertExact(lab, lines[0]!, lines.at(-1)!, truth, fault);
      });
    }

    test('hostile lease names: nothing runs on the router, nothing raw reaches the output', async () => {
      const hostile = lab.hostileHostnames();
      const leases = hostile.map((hostname, i) => {
        const h = lab.hosts[i];
        return h ? { mac: h.mac, ip: h.ip, hostname } : { mac: `02:1a:b0:00:01:${(0x10 + i).toString(16)}`, ip: `198.51.100.${100 + i}`, hostname };
      });
      await lab.setLeases(leases);
      const c = cli();
      const outputs: Array<[string, Run, boolean]> = [];
      const hostsJson = await c.ok(['hosts', '--json']);
      JSON.parse(hostsJson.stdout);
      outputs.push(['hosts --csv', await c.ok(['hosts', '--csv']), false]);
      await c.ok(['setup', '--yes']);
      await lab.transfer('h1', { downBytes: 10_000, upBytes: 1_000 });
      outputs.push(['usage (plain)', await c.ok(['usage', '--interval', '500']), false]);
      outputs.push(['usage --csv', await c.ok(['usage', '--csv', '--count', '1']), false]);
      outputs.push(['report --csv', await c.ok(['report', '--csv', '--period', 'all']), false]);
      const ttyHosts = await c.runTty(['hosts']);
      assert.equal(ttyHosts.code, 0, ttyHosts.stdout + ttyHosts.stderr);
      outputs.push(['hosts (tty table)', ttyHosts, true]);
      const ttyReport = await c.runTty(['report', '--period', 'all']);
      assert.equal(ttyReport.code, 0, ttyReport.stdout + ttyReport.stderr);
      outputs.push(['report (tty table)', ttyReport, true]);

      assert.equal(lab.markerExists(), false, 'a hostile name was executed on the router or here');
      const routerAlive = await c.usage();
      assert.equal(routerAlive.connection, 'connected', 'the router did not reboot');
      for (const [what, r, isTty] of outputs) {
        assert.deepEqual(controlChars(r.stdout, isTty), [], `${what} stdout has control characters:\n${JSON.stringify(r.stdout.slice(0, 2000))}`);
        assert.deepEqual(controlChars(r.stderr, isTty), [], `${what} stderr has control characters`);
        assert.ok(!r.stdout.includes('\u001b'), `${what}: ESC in stdout`);
      }
      // The tables really showed the hosts (the check above is not vacuous).
      assert.match(ttyHosts.stdout, new RegExp(lab.hosts[0]!.ip.replace(/\./g, '\\.')));
      await c.ok(['teardown', '--yes']);
    });
  });
}
