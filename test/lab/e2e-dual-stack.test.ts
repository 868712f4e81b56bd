// test-file-timeout: 600
// Issue 15, end to end: the REAL lantop (`node dist/cli.js`, no flags beyond the connection) on
// the lab's dual-stack routers — the OpenWrt 24.10 nft-only router (fw4, no iptables at all) and
// the Broadcom-style CMS router with iptables + ip6tables — over telnet and SSH:
//   detect → hosts (IPv4 and IPv6 addresses under one MAC) → setup → traffic over both families
//   (stable and temporary IPv6 sources) → usage --json --by-family = the oracle per device and
//   family, byte for byte → (OpenWrt) fw4 reload: counting goes on, nothing lost → fw4 flush: the
//   table is re-created on the next poll and the history keeps the bytes → reboot → teardown:
//   the ruleset is what it was before setup.
// The oracle counts in each LAN host (lab-oracle.ts), so no router firewall change touches it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { startLab, variantSkipReason, type Lab, type LabVariantName, type OracleDevices } from './lab.js';
import { CLI_PATH, Cli, type Protocol, type Run } from './lantop-cli.js';

const RUN_TIMEOUT_MS = 30_000;

interface FamilyRow {
  identity: string;
  mac: string | null;
  addresses: string[];
  downBytes: number;
  upBytes: number;
  down4Bytes: number;
  up4Bytes: number;
  down6Bytes: number;
  up6Bytes: number;
}
interface UsageFamilies {
  hosts: FamilyRow[];
  notices: Array<{ level: string; text: string }>;
}
interface HostsRows {
  hosts: Array<{ identity: string; ip: string; mac: string | null; addresses: string[] }>;
}
interface ReportFamilies {
  hosts: Array<{ identity: string; mac: string | null; downBytes: number; upBytes: number; down6Bytes?: number; up6Bytes?: number }>;
}

function shown(text: string, max = 900): string {
  return JSON.stringify(text.length > max ? `…${text.slice(-max)}` : text);
}

async function lantop(cli: Cli, args: readonly string[]): Promise<Run> {
  const r = await cli.run(args, RUN_TIMEOUT_MS);
  assert.equal(r.code, 0, `lantop ${args.join(' ')} → exit ${r.code}; stdout ${shown(r.stdout)}; stderr ${shown(r.stderr)}`);
  return r;
}

async function json<T>(cli: Cli, args: readonly string[]): Promise<T> {
  const r = await lantop(cli, args);
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new assert.AssertionError({ message: `not JSON from lantop ${args.join(' ')}: ${shown(r.stdout)}` });
  }
}

const usage = (cli: Cli) => json<UsageFamilies>(cli, ['usage', '--json', '--by-family', '--count', '1']);

/** Per device (MAC) and family: lantop's deltas between two usage snapshots = the oracle's. */
function assertFamiliesExact(lab: Lab, before: UsageFamilies, after: UsageFamilies, truthBefore: OracleDevices, truthAfter: OracleDevices, where: string): void {
  const wrong: string[] = [];
  const row = (u: UsageFamilies, mac: string) => u.hosts.find((h) => h.mac === mac);
  for (const host of lab.hosts) {
    const a = row(after, host.mac);
    const b = row(before, host.mac);
    const t1 = truthAfter[host.name]!;
    const t0 = truthBefore[host.name]!;
    const pairs: Array<[string, number, number]> = [
      ['down4', (a?.down4Bytes ?? 0) - (b?.down4Bytes ?? 0), t1.ipv4.downBytes - t0.ipv4.downBytes],
      ['up4', (a?.up4Bytes ?? 0) - (b?.up4Bytes ?? 0), t1.ipv4.upBytes - t0.ipv4.upBytes],
      ['down6', (a?.down6Bytes ?? 0) - (b?.down6Bytes ?? 0), t1.ipv6.downBytes - t0.ipv6.downBytes],
      ['up6', (a?.up6Bytes ?? 0) - (b?.up6Bytes ?? 0), t1.ipv6.upBytes - t0.ipv6.upBytes],
    ];
    for (const [what, counted, truth] of pairs) if (counted !== truth) wrong.push(`${host.name} ${what} ${counted} ≠ oracle ${truth}`);
  }
  assert.deepEqual(wrong, [], `${where}: per device and family vs oracle: ${wrong.join('; ')}; lantop ${shown(JSON.stringify(after.hosts), 1600)}; notices ${shown(JSON.stringify(after.notices))}`);
}

/** Traffic over both families: IPv4 through NAT, IPv6 from the stable and the temporary address. */
async function traffic(lab: Lab, scale: number): Promise<void> {
  for (const [i, host] of lab.hosts.entries()) {
    const k = (i + 1) * scale;
    await lab.transfer(host, { downBytes: 150_000 * k, upBytes: 30_000 * k });
    await lab.transfer(host, { downBytes: 90_000 * k, upBytes: 20_000 * k, family: 6, source: 'stable' });
    await lab.transfer(host, { downBytes: 40_000 * k, upBytes: 11_000 * k, family: 6, source: 'temporary' });
  }
  await lab.settle();
}

/** The ruleset lantop must leave as it found it: nft on OpenWrt, iptables + ip6tables elsewhere. */
async function firewallDump(lab: Lab, isOpenwrt: boolean): Promise<string> {
  if (isOpenwrt) return lab.nftRuleset();
  return `${await lab.iptablesSave()}\n--- ip6tables ---\n${await lab.ip6tablesSave()}`;
}

interface Row {
  variant: LabVariantName;
  protocols: Protocol[];
}
const ROWS: Row[] = [
  { variant: 'openwrt-fw4', protocols: ['telnet', 'ssh'] },
  { variant: 'dual-stack', protocols: ['telnet', 'ssh'] },
];

const only = (process.env['LANTOP_DUAL_ONLY'] ?? '').split(',').map((x) => x.trim()).filter(Boolean);

for (const row of ROWS.filter((r) => only.length === 0 || only.includes(r.variant))) {
  const skip = variantSkipReason(row.variant) ?? (existsSync(CLI_PATH) ? null : `no build at ${CLI_PATH} (run npm run build)`);
  const isOpenwrt = row.variant === 'openwrt-fw4';
  describe(`dual stack end to end: ${row.variant}`, { skip: skip ?? false }, () => {
    let lab: Lab;
    before(async () => {
      lab = await startLab({ variant: row.variant, hosts: 3 });
    }, { timeout: 120_000 });
    after(async () => {
      await lab?.stop();
    }, { timeout: 60_000 });

    for (const protocol of row.protocols) {
      test(`${protocol}: hosts under one MAC, setup, usage = oracle per family${isOpenwrt ? ', fw4 reload and flush' : ''}, reboot, teardown`, { timeout: 280_000 }, async () => {
        const cli = new Cli(lab, protocol);
        try {
          const pristine = await firewallDump(lab, isOpenwrt);
          await lab.refreshArp();

          // detect + hosts: every lab device once, by MAC, with its IPv4 and both IPv6 addresses.
          const hosts = await json<HostsRows>(cli, ['hosts', '--json']);
          for (const host of lab.hosts) {
            const entries = hosts.hosts.filter((h) => h.mac === host.mac);
            assert.ok(entries.length > 0, `hosts: ${host.name} missing: ${shown(JSON.stringify(hosts.hosts))}`);
            const addresses = entries[0]!.addresses;
            for (const a of [host.ip, host.ip6!, host.tempIp6!]) assert.ok(addresses.includes(a), `hosts: ${host.name} lacks ${a}: ${JSON.stringify(addresses)}`);
            assert.ok(entries.every((e) => e.identity === host.mac), 'one identity per device');
          }
          if (isOpenwrt) {
            const doctor = await lantop(cli, ['doctor', '--transcript', join(cli.dir, 'doctor.txt')]);
            assert.match(doctor.stdout + doctor.stderr, /nftables/i, 'doctor names the nftables backend');
          }

          await lantop(cli, ['setup', '--yes']);
          const setUp = await firewallDump(lab, isOpenwrt);
          if (isOpenwrt) {
            assert.match(setUp, /table inet lantop \{/, 'lantop\'s own table');
            assert.match(setUp, /table inet fw4 \{/, 'fw4 untouched');
          } else {
            assert.match(setUp, /-A FORWARD -j TRAFFIC/);
            assert.match(setUp.split('--- ip6tables ---')[1]!, /-A FORWARD -j TRAFFIC/, 'ip6tables has the same chain');
          }

          // Phase 1: traffic over both families, counted exactly per device and family.
          let u0 = await usage(cli);
          let o0 = await lab.oracleByHost();
          await traffic(lab, 1);
          let u1 = await usage(cli);
          let o1 = await lab.oracleByHost();
          assertFamiliesExact(lab, u0, u1, o0, o1, 'after setup');
          const phaseBytes: number[] = [];
          const totalOf = (o: OracleDevices) => Object.values(o).reduce((s, d) => s + d.total.downBytes + d.total.upBytes, 0);
          phaseBytes.push(totalOf(o1) - totalOf(o0));

          if (isOpenwrt) {
            // fw4 reload rewrites only table inet fw4: lantop's table and counters stay.
            await lab.fw4('reload');
            assert.match(await lab.nftRuleset(), /table inet lantop \{/, 'fw4 reload keeps lantop\'s table');
            [u0, o0] = [u1, o1];
            await traffic(lab, 1);
            u1 = await usage(cli);
            o1 = await lab.oracleByHost();
            assertFamiliesExact(lab, u0, u1, o0, o1, 'after fw4 reload');
            phaseBytes.push(totalOf(o1) - totalOf(o0));

            // fw4 flush deletes every table, lantop's too; the next poll re-creates it.
            await lab.fw4('flush');
            assert.doesNotMatch(await lab.nftRuleset(), /table inet lantop/);
            await lab.fw4('start');
            const healed = await usage(cli);
            assert.match(await lab.nftRuleset(), /table inet lantop \{/, 're-created on the next poll');
            o0 = await lab.oracleByHost();
            await traffic(lab, 2);
            u1 = await usage(cli);
            o1 = await lab.oracleByHost();
            assertFamiliesExact(lab, healed, u1, o0, o1, 'after fw4 flush');
            phaseBytes.push(totalOf(o1) - totalOf(o0));
          }

          // Reboot: the router comes back with its boot firewall only; the next poll re-installs.
          await lab.reboot();
          await lab.refreshArp();
          const afterBoot = await usage(cli);
          o0 = await lab.oracleByHost();
          await traffic(lab, 1);
          u1 = await usage(cli);
          o1 = await lab.oracleByHost();
          assertFamiliesExact(lab, afterBoot, u1, o0, o1, 'after reboot');
          phaseBytes.push(totalOf(o1) - totalOf(o0));

          // The history kept every counted phase: the report's devices add up to at least the
          // phases' bytes (and the IPv6 share is there).
          const report = await json<ReportFamilies>(cli, ['report', '--json', '--by-family', '--period', 'today']);
          const labMacs = new Set(lab.hosts.map((h) => h.mac));
          const reported = report.hosts.filter((h) => h.mac !== null && labMacs.has(h.mac));
          const reportedBytes = reported.reduce((s, h) => s + h.downBytes + h.upBytes, 0);
          const counted = phaseBytes.reduce((s, b) => s + b, 0);
          assert.ok(reportedBytes >= counted, `report keeps every phase: ${reportedBytes} < ${counted}`);
          assert.ok(reported.every((h) => (h.down6Bytes ?? 0) > 0), `report splits IPv6: ${shown(JSON.stringify(reported))}`);

          await lantop(cli, ['teardown', '--yes']);
          assert.equal(await firewallDump(lab, isOpenwrt), pristine, 'teardown leaves the ruleset as it was');
        } finally {
          cli.cleanup();
        }
      });
    }
  });
}
