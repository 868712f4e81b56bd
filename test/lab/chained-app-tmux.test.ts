// test-file-timeout: 400
// Issue 20's "done when", in the app: the REAL lantop (`node dist/cli.js --routers a,b`) in a real
// terminal (tmux) against two chained lab routers (chained-lab.ts: B's WAN on A's LAN, profile b
// `upstream a`). The combined live view shows both routers' devices with a ROUTER column and B's
// uplink row on A as "via b"; the bytes the app counts are exact — read back from the history the
// app itself records for each router (`--profile X report --json`, the same database), since the
// screen shows rounded units — per device against each host's oracle, B's uplink row = B's hosts,
// nothing counted twice; B reboots while the app runs: B shows down, A's rows keep moving, B comes
// back by itself and counts exactly again; a device that roams from A to B is one device, listed
// under "Roaming" with a row per router. Every process is killed and both routers removed in finally.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { B_WAN_IP, startChainedLab, type ChainedLab } from './chained-lab.js';
import { labSkipReason, type OracleCounts } from './lab.js';
import { CLI_PATH, type Run } from './lantop-cli.js';
import { hasTmux, tmuxSession, type TmuxSession } from '../helpers/tmux.js';

const skip = labSkipReason() || (!hasTmux && 'tmux not installed');

interface Bytes { downBytes: number; upBytes: number }
type PerIp = Record<string, Bytes>;

test('the app on two chained routers: combined live view, exact per device from what it recorded, one reboots while the other counts, a roaming device once', { skip, timeout: 380_000 }, async () => {
  assert.ok(existsSync(CLI_PATH), `${CLI_PATH} is missing: run \`npm run build\` first`);
  const lab: ChainedLab = await startChainedLab({ a: { hosts: 2, password: 'chain-a' }, bPassword: 'chain-b' });
  const dir = mkdtempSync(join(tmpdir(), 'lantop-chained-app-'));
  const env = { LANTOP_CONFIG_DIR: join(dir, 'config'), LANTOP_DB: join(dir, 'history.sqlite'), NO_COLOR: '1', LANTOP_PASSWORD_A: lab.a.password, LANTOP_PASSWORD_B: lab.b.password };
  const cli = (args: readonly string[], password?: string): Promise<Run> =>
    new Promise((resolve) => {
      const child = spawn(process.execPath, [CLI_PATH, '--no-color', ...args], { env: { ...process.env, ...env, ...(password ? { LANTOP_PASSWORD: password } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
    });
  const ok = async (args: readonly string[], password?: string) => {
    const r = await cli(args, password);
    assert.equal(r.code, 0, `lantop ${args.join(' ')}: ${r.stderr}`);
    return r;
  };
  /** What the app recorded for a router today, per address (the history the app writes as it polls). */
  const recorded = async (profile: 'a' | 'b'): Promise<PerIp> => {
    const doc = JSON.parse((await ok(['--profile', profile, 'report', '--json', '--period', 'today'])).stdout) as { hosts: Array<{ ip: string | null; downBytes: number; upBytes: number }> };
    return Object.fromEntries(doc.hosts.filter((h) => h.ip !== null).map((h) => [h.ip!, { downBytes: h.downBytes, upBytes: h.upBytes }]));
  };
  const delta = (after: PerIp, before: PerIp, ip: string): Bytes => ({ downBytes: (after[ip]?.downBytes ?? 0) - (before[ip]?.downBytes ?? 0), upBytes: (after[ip]?.upBytes ?? 0) - (before[ip]?.upBytes ?? 0) });
  const truth = (o: OracleCounts, ip: string): Bytes => ({ downBytes: o[ip]?.downBytes ?? 0, upBytes: o[ip]?.upBytes ?? 0 });
  const add = (x: Bytes, y: Bytes): Bytes => ({ downBytes: x.downBytes + y.downBytes, upBytes: x.upBytes + y.upBytes });
  // The app polls each router every 2 s: two polls after the transfers settled are in the history.
  const afterPolls = () => new Promise((r) => setTimeout(r, 5_000));
  let app: TmuxSession | null = null;
  const figures: string[] = [];
  try {
    for (const [profile, host, extra] of [['a', lab.a.routerIp, []], ['b', lab.b.routerIp, [['upstream', 'a']]]] as const) {
      for (const [key, value] of [['host', host], ['port', '22'], ['protocol', 'ssh'], ['user', 'admin'], ['wan', 'ppp0'], ...extra]) await ok(['--profile', profile, 'config', 'set', key, value]);
    }
    await ok(['--profile', 'a', 'setup', '--yes', '--timeout', '8000'], lab.a.password);
    await ok(['--profile', 'b', 'setup', '--yes', '--timeout', '8000'], lab.b.password);

    const envLine = Object.entries(env).map(([k, v]) => `${k}='${v}'`).join(' ');
    app = tmuxSession('chained-app', `env ${envLine} ${process.execPath} ${CLI_PATH} --routers a,b --timeout 5000`, { columns: 130, rows: 40 });
    await app.waitFor((s) => /2 routers: a ● up · b ● up/.test(s), 'the menu with both routers up', 40_000);
    app.keys('2');
    const [h1, h2] = lab.a.hosts;
    const [h3, h4] = lab.b.hosts;
    const live = await app.waitFor((s) => /all routers · 2 of 2 up/.test(s) && s.includes(h1!.ip) && s.includes(h3!.ip) && s.includes(B_WAN_IP), 'the combined live view with both routers\' devices', 30_000);
    assert.match(live, /ROUTER/);
    assert.match(live, /via b/, 'B\'s uplink row on A is "via b"');

    /** One exact round: what the app recorded between two points = each host's oracle; B's uplink on A = B's hosts. */
    const exactRound = async (where: string, transfers: { h1: Bytes; h3: Bytes; h4: Bytes }) => {
      await afterPolls();
      const [a0, b0] = [await recorded('a'), await recorded('b')];
      await lab.a.resetOracle();
      await lab.b.resetOracle();
      await lab.a.transfer('h1', transfers.h1);
      await lab.b.transfer('h3', transfers.h3);
      await lab.b.transfer('h4', transfers.h4);
      const oa = await lab.a.settle();
      const ob = await lab.b.settle();
      await afterPolls();
      const [a1, b1] = [await recorded('a'), await recorded('b')];
      const [t1, t2, t3, t4] = [truth(oa, h1!.ip), truth(oa, h2!.ip), truth(ob, h3!.ip), truth(ob, h4!.ip)];
      assert.ok(t1.downBytes >= transfers.h1.downBytes && t3.downBytes >= transfers.h3.downBytes, `${where}: the oracle saw the transfers`);
      assert.deepEqual(delta(a1, a0, h1!.ip), t1, `${where}: h1 on a`);
      assert.deepEqual(delta(a1, a0, h2!.ip), t2, `${where}: h2 on a (idle)`);
      assert.deepEqual(delta(b1, b0, h3!.ip), t3, `${where}: h3 on b`);
      assert.deepEqual(delta(b1, b0, h4!.ip), t4, `${where}: h4 on b`);
      assert.deepEqual(delta(a1, a0, B_WAN_IP), add(t3, t4), `${where}: b's uplink row on a = h3 + h4`);
      figures.push(`${where}: h1 ${t1.downBytes}/${t1.upBytes}, h3 ${t3.downBytes}/${t3.upBytes}, h4 ${t4.downBytes}/${t4.upBytes}, via b ${add(t3, t4).downBytes}/${add(t3, t4).upBytes} (down/up bytes)`);
    };
    await exactRound('round 1', { h1: { downBytes: 300_000, upBytes: 40_000 }, h3: { downBytes: 200_000, upBytes: 60_000 }, h4: { downBytes: 5_000, upBytes: 70_000 } });
    // The screen's total counts each byte once: B's subtotal is shown but not added.
    assert.match(app.screen(), /subtotal \(not added\)/);

    // B reboots while the app runs: b shows down, a's rows keep moving, b comes back by itself.
    const rowOf = (s: string, ip: string) => s.split('\n').find((l) => l.includes(` ${ip} `)) ?? '';
    const h1Before = rowOf(app.screen(), h1!.ip);
    await Promise.all([
      lab.b.reboot({ downMs: 6_000 }),
      (async () => {
        for (let i = 0; i < 4; i++) {
          await lab.a.transfer('h1', { downBytes: 400_000, upBytes: 10_000 });
          await new Promise((r) => setTimeout(r, 1_000));
        }
      })(),
    ]);
    const down = await app.waitFor((s) => /all routers · 1 of 2 up/.test(s) && /b: down|b ✗ down/.test(s), 'b shown down', 60_000).catch(() => null);
    const downSeen = down !== null;
    await app.waitFor((s) => /all routers · 2 of 2 up/.test(s), 'b back up', 90_000);
    assert.ok(downSeen, 'b was shown down during its reboot');
    assert.notEqual(rowOf(app.screen(), h1!.ip), h1Before, 'a kept counting h1 during b\'s reboot');
    await exactRound('after b\'s reboot', { h1: { downBytes: 50_000, upBytes: 7_000 }, h3: { downBytes: 120_000, upBytes: 30_000 }, h4: { downBytes: 9_000, upBytes: 1_000 } });

    // Roaming: h2 moves to b (same MAC, new address): one device, a row per router, listed under Roaming.
    const newIp = '198.51.100.132';
    await lab.b.roamFromA(h2!, newIp, [...lab.b.hosts, h2!].map((h) => ({ mac: h.mac, ip: h.ip, hostname: h.hostnameBytes })));
    // The app looks for new devices every 30 s (domain/poller.ts); b then counts the newcomer.
    await app.waitFor((s) => s.includes(newIp), 'h2 on b in the combined view', 45_000);
    await afterPolls();
    const [a0, b0] = [await recorded('a'), await recorded('b')];
    await lab.a.resetOracle();
    await lab.a.transfer('h2', { downBytes: 150_000, upBytes: 25_000 });
    const onB = truth(await lab.a.settle(), newIp);
    await afterPolls();
    const [a1, b1] = [await recorded('a'), await recorded('b')];
    assert.deepEqual(delta(b1, b0, newIp), onB, 'roaming h2 on b (what the app recorded vs the oracle)');
    assert.deepEqual(delta(a1, a0, B_WAN_IP), onB, 'b\'s uplink on a carries h2\'s part on b, once');
    const roaming = await app.waitFor((s) => /Roaming/.test(s), 'the Roaming section', 20_000);
    figures.push(`roaming h2 on b: ${onB.downBytes}/${onB.upBytes}; screen:\n${roaming.split('\n').filter((l) => l.trim() !== '').slice(0, 24).join('\n')}`);
    app.keys('q');
    await app.waitFor((s) => /q Quit/.test(s), 'back at the menu');
    app.keys('q');
    assert.equal(await app.exitCode(15_000), '0');
    process.stdout.write(`# ${figures.join('\n# ')}\n`);
  } catch (error) {
    if (error instanceof Error) error.message += `\n--- screen ---\n${app?.screen() ?? ''}\n--- lab A ---\n${lab.a.diagnostics()}\n--- lab B ---\n${lab.b.diagnostics()}`;
    throw error;
  } finally {
    app?.close();
    await lab.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
