// test-file-timeout: 400
// End-to-end, issue 20: the REAL lantop (`node dist/cli.js`) against two chained lab routers
// (chained-lab.ts): A, and B whose WAN is on A's LAN. Profiles a and b (b: `upstream a`), set up
// over SSH, then `usage --routers a,b --json`: each device's bytes between two reads equal its
// host's oracle exactly, B's WAN address on A is the row "via b" and carries exactly B's hosts'
// bytes, and the overall total counts each byte once (= A's total). Then B reboots during
// `usage --routers a,b --watch --json`: B is shown down, A keeps counting, B comes back by itself
// and counts exactly again. Every child is killed and both routers removed in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { B_WAN_IP, startChainedLab, type ChainedLab } from './chained-lab.js';
import { labSkipReason, type OracleCounts } from './lab.js';
import { CLI_PATH, type Run } from './lantop-cli.js';

const skip = labSkipReason();

interface Bytes { downBytes: number; upBytes: number }
interface MultiView {
  routers: Array<{ key: string; label: string; state: 'up' | 'down'; reason?: string; upstream: string | null; countedBy: string | null; inTotal: boolean; totals: Bytes }>;
  devices: Array<{ identity: string; mac: string | null; roaming: boolean; perRouter: Array<Bytes & { router: string; ip: string; via?: string; inTotal: boolean }>; total: Bytes }>;
  total: Bytes;
  rule: string;
  notices: string[];
}

/** One config dir and history DB for both profiles; passwords through LANTOP_PASSWORD_<PROFILE>. */
class MultiCli {
  readonly dir = mkdtempSync(join(tmpdir(), 'lantop-chained-'));
  constructor(private readonly lab: ChainedLab) {}

  env(password?: string): NodeJS.ProcessEnv {
    return {
      ...process.env, LANTOP_CONFIG_DIR: join(this.dir, 'config'), LANTOP_DB: join(this.dir, 'history.sqlite'), NO_COLOR: '1',
      LANTOP_PASSWORD_A: this.lab.a.password, LANTOP_PASSWORD_B: this.lab.b.password, ...(password ? { LANTOP_PASSWORD: password } : {}),
    };
  }

  spawn(args: readonly string[], password?: string): ChildProcessByStdio<null, Readable, Readable> {
    return spawn(process.execPath, [CLI_PATH, '--no-color', ...args], { env: this.env(password), stdio: ['ignore', 'pipe', 'pipe'] });
  }

  async ok(args: readonly string[], password?: string, timeoutMs = 60_000): Promise<Run> {
    const r = await collect(this.spawn(args, password), timeoutMs);
    assert.equal(r.code, 0, `lantop ${args.join(' ')} exited ${r.code}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\n${this.lab.a.diagnostics()}\n${this.lab.b.diagnostics()}`);
    return r;
  }

  async view(): Promise<MultiView> {
    return JSON.parse((await this.ok(['usage', '--routers', 'a,b', '--json', '--count', '1', '--timeout', '8000'])).stdout) as MultiView;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function collect(child: ChildProcessByStdio<null, Readable, Readable>, timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
    });
  });
}

/** Routers are keyed by address:port in the JSON; the tests name them by profile (label). */
const keyOf = (view: MultiView, label: string): string | undefined => view.routers.find((r) => r.label === label)?.key;

function row(view: MultiView, label: string, ip: string): (Bytes & { via?: string; inTotal: boolean }) | undefined {
  const key = keyOf(view, label);
  for (const d of view.devices) for (const r of d.perRouter) if (r.router === key && r.ip === ip) return r;
  return undefined;
}

function delta(after: Bytes | undefined, before: Bytes | undefined): Bytes {
  return { downBytes: (after?.downBytes ?? 0) - (before?.downBytes ?? 0), upBytes: (after?.upBytes ?? 0) - (before?.upBytes ?? 0) };
}

const truthOf = (oracle: OracleCounts, ip: string): Bytes => ({ downBytes: oracle[ip]?.downBytes ?? 0, upBytes: oracle[ip]?.upBytes ?? 0 });
const bytesOf = (x: Bytes): Bytes => ({ downBytes: x.downBytes, upBytes: x.upBytes });
const add = (x: Bytes, y: Bytes): Bytes => ({ downBytes: x.downBytes + y.downBytes, upBytes: x.upBytes + y.upBytes });
const routerOf = (view: MultiView, label: string): MultiView['routers'][number] => {
  const r = view.routers.find((x) => x.label === label);
  assert.ok(r, `router ${label} in the view: ${JSON.stringify(view.routers)}`);
  return r;
};

/** One round: baseline view, exact transfers on both routers, view; every per-device delta = its oracle. */
async function exactRound(c: MultiCli, lab: ChainedLab, where: string, transfers: { h1: Bytes; h3: Bytes; h4: Bytes }): Promise<{ before: MultiView; after: MultiView; figures: string }> {
  const { a, b } = lab;
  const before = await c.view();
  await a.resetOracle();
  await b.resetOracle();
  await a.transfer('h1', transfers.h1);
  await b.transfer('h3', transfers.h3);
  await b.transfer('h4', transfers.h4);
  const oa = await a.settle();
  const ob = await b.settle();
  const after = await c.view();
  const [h1, h2] = a.hosts;
  const [h3, h4] = b.hosts;
  const t1 = truthOf(oa, h1!.ip);
  const t3 = truthOf(ob, h3!.ip);
  const t4 = truthOf(ob, h4!.ip);
  assert.ok(t1.downBytes >= transfers.h1.downBytes && t3.downBytes >= transfers.h3.downBytes, `${where}: the oracle saw the transfers`);
  const ctx = `${where}\nbefore: ${JSON.stringify(before)}\nafter: ${JSON.stringify(after)}`;
  assert.deepEqual(delta(row(after, 'a', h1!.ip), row(before, 'a', h1!.ip)), t1, `${where}: h1 on a (lantop vs oracle)\n${ctx}`);
  assert.deepEqual(delta(row(after, 'a', h2!.ip), row(before, 'a', h2!.ip)), truthOf(oa, h2!.ip), `${where}: h2 on a (idle)`);
  assert.deepEqual(delta(row(after, 'b', h3!.ip), row(before, 'b', h3!.ip)), t3, `${where}: h3 on b (lantop vs oracle)\n${ctx}`);
  assert.deepEqual(delta(row(after, 'b', h4!.ip), row(before, 'b', h4!.ip)), t4, `${where}: h4 on b (lantop vs oracle)`);
  // B's WAN on A: exactly what B's hosts moved (NAT keeps sizes; B itself sends nothing to the WAN).
  const uplink = row(after, 'a', B_WAN_IP);
  assert.ok(uplink, `${where}: B's WAN address ${B_WAN_IP} is a device of a\n${ctx}`);
  assert.equal(uplink.via, keyOf(after, 'b'), `${where}: B's uplink row on a is marked via b`);
  assert.deepEqual(delta(uplink, row(before, 'a', B_WAN_IP)), add(t3, t4), `${where}: B's uplink on a = h3 + h4 (oracle)`);
  // Who counts what: b is counted by a, so the total is a's, each byte once.
  const ra = routerOf(after, 'a');
  const rb = routerOf(after, 'b');
  assert.deepEqual([ra.state, rb.state, rb.upstream, rb.countedBy, ra.inTotal, rb.inTotal], ['up', 'up', ra.key, ra.key, true, false], `${where}: routers`);
  assert.match(after.rule, /a counts the line, b's traffic included/, `${where}: the rule in words`);
  assert.deepEqual(bytesOf(after.total), bytesOf(ra.totals), `${where}: total = a's total (b not added)`);
  const all = add(add(t1, truthOf(oa, h2!.ip)), add(t3, t4));
  assert.deepEqual(delta(after.total, before.total), all, `${where}: total delta = every host's oracle once`);
  const figures = `${where}: h1 ${t1.downBytes}/${t1.upBytes}, h3 ${t3.downBytes}/${t3.upBytes}, h4 ${t4.downBytes}/${t4.upBytes}, via-b row ${add(t3, t4).downBytes}/${add(t3, t4).upBytes}, total delta ${all.downBytes}/${all.upBytes} (down/up bytes)`;
  return { before, after, figures };
}

test('two chained routers: exact per device, nothing counted twice, one reboots while the other counts', { skip, timeout: 380_000 }, async () => {
  assert.ok(existsSync(CLI_PATH), `${CLI_PATH} is missing: run \`npm run build\` first`);
  const lab = await startChainedLab({ a: { hosts: 2, password: 'chain-a' }, bPassword: 'chain-b' });
  const c = new MultiCli(lab);
  const children: Array<ReturnType<MultiCli['spawn']>> = [];
  try {
    for (const [profile, host, extra] of [['a', lab.a.routerIp, []], ['b', lab.b.routerIp, [['upstream', 'a']]]] as const) {
      for (const [key, value] of [['host', host], ['port', '22'], ['protocol', 'ssh'], ['user', 'admin'], ['wan', 'ppp0'], ...extra]) {
        await c.ok(['--profile', profile, 'config', 'set', key, value]);
      }
    }
    await c.ok(['--profile', 'a', 'setup', '--yes', '--timeout', '8000'], lab.a.password);
    await c.ok(['--profile', 'b', 'setup', '--yes', '--timeout', '8000'], lab.b.password);

    const first = await exactRound(c, lab, 'round 1', {
      h1: { downBytes: 300_000, upBytes: 40_000 }, h3: { downBytes: 200_000, upBytes: 60_000 }, h4: { downBytes: 5_000, upBytes: 70_000 },
    });
    process.stdout.write(`# ${first.figures}\n`);

    // B reboots during --watch: B shows down, A keeps counting (h1 moves bytes meanwhile), B comes back.
    const child = c.spawn(['usage', '--routers', 'a,b', '--watch', '--json', '--interval', '1000', '--timeout', '5000']);
    children.push(child);
    const lines: MultiView[] = [];
    let buffered = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const firstLine = new Promise<void>((resolve) => {
      child.stdout.on('data', (d: Buffer) => {
        buffered += d.toString('utf8');
        for (let nl = buffered.indexOf('\n'); nl >= 0; nl = buffered.indexOf('\n')) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line) lines.push(JSON.parse(line) as MultiView);
        }
        if (lines.length > 0) resolve();
      });
    });
    const deadline = (ms: number, what: string): Promise<never> => new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} within ${ms} ms\nlines: ${lines.length}\nstderr: ${stderr}`)), ms).unref());
    await Promise.race([firstLine, deadline(30_000, 'a first --watch view')]);
    const rebootAt = lines.length;
    const h1 = lab.a.hosts[0]!;
    await Promise.all([
      lab.b.reboot({ downMs: 6_000 }),
      (async () => { for (let i = 0; i < 4; i++) { await lab.a.transfer('h1', { downBytes: 100_000, upBytes: 10_000 }); await new Promise((r) => setTimeout(r, 1_000)); } })(),
    ]);
    const states = (): string => lines.map((l) => `${routerOf(l, 'a').state}/${routerOf(l, 'b').state}`).join(' ');
    const backUp = (): boolean => {
      const downAt = lines.findIndex((l, i) => i >= rebootAt && routerOf(l, 'b').state === 'down');
      return downAt >= 0 && lines.slice(downAt).some((l) => routerOf(l, 'b').state === 'up');
    };
    for (let waited = 0; !backUp(); waited += 500) {
      if (waited > 90_000) assert.fail(`B did not show down and then up again: ${states()}\nstderr: ${stderr}`);
      await new Promise((r) => setTimeout(r, 500));
    }
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
    const during = lines.slice(rebootAt);
    const downLines = during.filter((l) => routerOf(l, 'b').state === 'down');
    assert.ok(downLines.length > 0, `b was shown down: ${states()}`);
    for (const l of during) assert.equal(routerOf(l, 'a').state, 'up', `a stayed up: ${states()}`);
    const h1Before = row(lines[rebootAt - 1]!, 'a', h1.ip)?.downBytes ?? 0;
    const h1Down = Math.max(...downLines.map((l) => row(l, 'a', h1.ip)?.downBytes ?? 0));
    const h1Last = row(lines.at(-1)!, 'a', h1.ip)?.downBytes ?? 0;
    assert.ok(h1Last - h1Before >= 400_000, `a kept counting h1 across b's reboot: ${h1Before} → ${h1Last}`);
    // While b is down its devices count in the total through a's uplink row; b adds nothing itself.
    for (const l of downLines) assert.deepEqual(bytesOf(l.total), bytesOf(routerOf(l, 'a').totals), 'total while b is down = a\'s');
    process.stdout.write(`# reboot: ${during.length} views, b down in ${downLines.length}, h1 on a ${h1Before} → (while b down, up to ${h1Down}) → ${h1Last} down bytes; states ${states()}\n`);

    // After the reboot (b's counters zeroed, lantop re-installs its rules): exact again.
    const second = await exactRound(c, lab, 'after b\'s reboot', {
      h1: { downBytes: 50_000, upBytes: 7_000 }, h3: { downBytes: 120_000, upBytes: 30_000 }, h4: { downBytes: 9_000, upBytes: 1_000 },
    });
    process.stdout.write(`# ${second.figures}\n`);

    // Roaming: h2 moves bytes on a, then unplugs and joins b (same MAC, new address): one device,
    // its bytes on a's row then on b's, each exact; on a the second part is in b's uplink row, once.
    const h2 = lab.a.hosts[1]!;
    const oldIp = h2.ip;
    const r0 = await c.view();
    await lab.a.resetOracle();
    await lab.a.transfer('h2', { downBytes: 80_000, upBytes: 8_000 });
    const onA = truthOf(await lab.a.settle(), oldIp);
    const r1 = await c.view();
    assert.deepEqual(delta(row(r1, 'a', oldIp), row(r0, 'a', oldIp)), onA, 'roaming h2 on a (lantop vs oracle)');
    const newIp = '198.51.100.132';
    await lab.b.roamFromA(h2, newIp, [...lab.b.hosts, h2].map((h) => ({ mac: h.mac, ip: h.ip, hostname: h.hostnameBytes })));
    await c.view(); // b's lantop meets the newcomer
    const r2 = await c.view();
    await lab.a.resetOracle();
    await lab.b.resetOracle();
    await lab.a.transfer('h2', { downBytes: 150_000, upBytes: 25_000 });
    const onB = truthOf(await lab.a.settle(), newIp);
    const r3 = await c.view();
    const ctx = `\nr2: ${JSON.stringify(r2.devices)}\nr3: ${JSON.stringify(r3.devices)}`;
    assert.deepEqual(delta(row(r3, 'b', newIp), row(r2, 'b', newIp)), onB, `roaming h2 on b (lantop vs oracle)${ctx}`);
    assert.deepEqual(delta(row(r3, 'a', oldIp), row(r0, 'a', oldIp)), onA, `roaming h2: its row on a keeps a's part only${ctx}`);
    assert.deepEqual(delta(row(r3, 'a', B_WAN_IP), row(r2, 'a', B_WAN_IP)), onB, 'b\'s uplink on a carries h2\'s part on b');
    assert.deepEqual(delta(r3.total, r2.total), onB, 'total: h2\'s part on b counted once');
    const device = r3.devices.filter((d) => d.mac === h2.mac);
    assert.equal(device.length, 1, `h2 is one device: ${JSON.stringify(device)}`);
    assert.equal(device[0]!.roaming, true, 'h2 is marked roaming');
    assert.deepEqual(device[0]!.perRouter.map((p) => [p.router, p.ip]).sort(), [[keyOf(r3, 'a'), oldIp], [keyOf(r3, 'b'), newIp]].sort(), 'h2 has one row per router');
    process.stdout.write(`# roaming h2: on a ${onA.downBytes}/${onA.upBytes}, then on b ${onB.downBytes}/${onB.upBytes} (down/up bytes); one device, roaming, total ${device[0]!.total.downBytes}/${device[0]!.total.upBytes}\n`);
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- lab A ---\n${lab.a.diagnostics()}\n--- lab B ---\n${lab.b.diagnostics()}`;
    throw error;
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await lab.stop();
    c.cleanup();
  }
});
