// test-file-timeout: 600 (two labs; waits for the lab lock)
// Blocking end to end (issue 16): the REAL lantop binary (`node dist/cli.js`) against the netns lab
// router, with real traffic: a slow stream from the ISP to each LAN host (bytes both ways every
// 20 ms) and fresh connections as probes. Blocking h1 stops h1's running stream and new
// connections, h2's go on, lantop still logs in (INPUT untouched) and unblocks; a `--for 5s` block
// lifts by itself on the router (kernel time match / set element timeout) with no lantop running,
// and the next `block --list` shows it expired and removes it; refusals (the owner's address, the
// router's) change nothing; teardown leaves the firewall as before setup. iptables lab router over
// telnet and SSH; the openwrt-fw4 variant (nft only) over SSH and telnet.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { labSkipReason, startLab, variantSkipReason, type Lab, type LabHost } from './lab.js';
import { CLI_PATH, Cli, type Protocol, type Run } from './lantop-cli.js';
import { firewall, forwardingScripts, inNs, reaches as reachesWith, Stream } from './lab-forwarding.js';

const PORT = 47_123;
const SCRIPTS = forwardingScripts(PORT, { chunkBytes: 1000, upChunkBytes: 200 });
const reaches = (lab: Lab, host: LabHost) => reachesWith(lab, host, SCRIPTS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// In the ISP: every connection gets 1000 bytes every 20 ms and its input is read (and counted).
// In a LAN host: one long connection, 200 bytes up every 20 ms, the bytes received printed every 100 ms.
// A fresh connection that must see the server's first bytes within 1.5 s (exit 0), else exit 1.


function shown(text: string): string {
  return JSON.stringify(text.slice(-1500));
}

async function lantop(cli: Cli, args: readonly string[]): Promise<Run> {
  const r = await cli.run(args, 60_000);
  assert.equal(r.code, 0, `lantop ${args.join(' ')} → exit ${r.code}; stdout ${shown(r.stdout)}; stderr ${shown(r.stderr)}`);
  return r;
}

interface ListJson {
  blocks: Array<{ identity: string | null; mac: string | null; addresses: string[]; untilMs: number | null; expired: boolean }>;
  audit: Array<{ action: string; identity: string }>;
}

async function list(cli: Cli): Promise<ListJson> {
  return JSON.parse((await lantop(cli, ['block', '--list', '--json'])).stdout) as ListJson;
}


/** The whole flow on one lab over one protocol. `full`: also the timed lift and teardown. */
async function blockFlow(lab: Lab, protocol: Protocol, isNft: boolean, full: boolean): Promise<void> {
  const cli = new Cli(lab, protocol, 8000);
  const children: ChildProcess[] = [];
  try {
    const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
    await lab.refreshArp();
    const pristine = await firewall(lab, isNft);
    if (full) await lantop(cli, ['setup', '--yes']);
    const server = inNs(lab.ispNs, SCRIPTS.server);
    children.push(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`stream server exited ${code}`)));
    });
    const s1 = new Stream(inNs(h1.ns, SCRIPTS.stream));
    const s2 = new Stream(inNs(h2.ns, SCRIPTS.stream));
    children.push(s1.child, s2.child);
    assert.ok((await s1.growth(1000)) > 10_000 && (await s2.growth(300)) > 3_000, 'both streams run before the block');

    // Block h1 by its name as `hosts` shows it: its running stream and new connections stop; h2's go on.
    const blocked = await lantop(cli, ['block', h1.hostname, '--for', '10m']);
    assert.match(blocked.stderr, /Blocked/);
    const blockedFirewall = await firewall(lab, isNft);
    if (isNft) assert.match(blockedFirewall, /table inet lantop_block \{[\s\S]*hook forward priority filter - 10;/);
    else {
      assert.match(blockedFirewall, /-A FORWARD -j LANTOP_BLOCK\n/);
      assert.match(blockedFirewall, new RegExp(`-A LANTOP_BLOCK -m mac --mac-source ${h1.mac} -m time --datestop \\S+ (?:--kerneltz )?-m comment --comment "?lantop-block:${h1.mac}@\\d+"? -j DROP`, 'i'));
    }
    assert.doesNotMatch(blockedFirewall, /-A INPUT .*LANTOP|hook input[^\n]*\n[^}]*lantop_block/, 'INPUT untouched');
    await sleep(300);
    assert.equal(await s1.growth(1500), 0, "h1's running stream stopped");
    assert.ok((await s2.growth(1000)) > 10_000, "h2's stream goes on");
    assert.equal(await reaches(lab, h1), false, 'h1 cannot open a connection');
    assert.equal(await reaches(lab, h2), true, 'h2 can');
    const listed = await list(cli);
    assert.deepEqual(listed.blocks.map((b) => [b.identity, b.expired]), [[h1.mac, false]]);
    assert.ok(listed.blocks[0]!.addresses.includes(h1.ip));
    assert.ok(listed.audit.some((a) => a.action === 'block' && a.identity === h1.mac), 'the audit log has the block');

    // Refusals: the owner's address (lantop connects from the console) and the router's: nothing changes.
    for (const [device, why] of [[lab.console.ip, /connects from/], [lab.console.mac, /connects from/], [lab.routerIp, /router's own/]] as const) {
      const r = await cli.run(['block', device, '--for', '1m']);
      assert.equal(r.code, 2, `block ${device} must be refused: ${shown(r.stderr)}`);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /Nothing was changed/);
    }
    assert.equal(await firewall(lab, isNft), blockedFirewall, 'refusals changed nothing');
    const usage = await cli.run(['block', h2.hostname]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--for DURATION/);

    // Unblock by MAC: h1's connections work again.
    await lantop(cli, ['unblock', h1.mac]);
    assert.equal(await reaches(lab, h1), true, 'h1 reaches the WAN after unblock');
    assert.deepEqual((await list(cli)).blocks, []);

    if (full) {
      // A 5 s block lifts by itself on the router: no lantop process runs in between.
      await lantop(cli, ['block', h2.ip, '--for', '5s']);
      assert.equal(await reaches(lab, h2), false, 'h2 blocked');
      await sleep(6500);
      assert.equal(await reaches(lab, h2), true, 'the router lifted the block at its expiry by itself');
      const afterExpiry = await list(cli);
      if (!isNft) assert.deepEqual(afterExpiry.blocks.map((b) => [b.identity, b.expired]), [[h2.mac, true]], 'the expired rule is listed as expired');
      assert.deepEqual((await list(cli)).blocks, [], 'and removed by that list');

      // unblock --all restores forwarding for every device.
      await lantop(cli, ['block', h1.mac, '--for', '1h']);
      await lantop(cli, ['block', h2.mac, '--for', '1h']);
      assert.equal(await reaches(lab, h2), false);
      await lantop(cli, ['unblock', '--all']);
      assert.equal(await reaches(lab, h1), true, 'h1 after unblock --all');
      assert.equal(await reaches(lab, h2), true, 'h2 after unblock --all');

      // teardown: accounting and blocking objects gone, the firewall as before setup.
      await lantop(cli, ['block', h1.mac, '--for', '1h']);
      await lantop(cli, ['teardown', '--yes']);
      assert.equal(await firewall(lab, isNft), pristine, 'teardown leaves the firewall as before setup');
      assert.equal(await reaches(lab, h1), true);
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    // A failed run must not leave the next one with a blocked host.
    await cli.run(['unblock', '--all']).catch(() => undefined);
    cli.cleanup();
  }
}

const cliMissing = existsSync(CLI_PATH) ? null : `no build at ${CLI_PATH} (run npm run build)`;

describe('blocking on the iptables lab router', { skip: labSkipReason() || cliMissing || false, timeout: 300_000 }, () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ hosts: 2, backend: 'legacy', password: 'block-pw' });
  }, { timeout: 120_000 });
  after(async () => {
    await lab?.stop();
  });
  test('telnet: block stops h1 both ways, not h2; refusals; timed lift by the kernel; unblock --all; teardown', { timeout: 150_000 }, () => blockFlow(lab, 'telnet', false, true));
  test('ssh: block and unblock, refusals', { timeout: 100_000 }, () => blockFlow(lab, 'ssh', false, false));
});

describe('blocking on the OpenWrt fw4 lab router (nftables)', { skip: variantSkipReason('openwrt-fw4') ?? cliMissing ?? false, timeout: 300_000 }, () => {
  let lab: Lab;
  before(async () => {
    lab = await startLab({ hosts: 2, variant: 'openwrt-fw4', password: 'block-owrt' });
  }, { timeout: 120_000 });
  after(async () => {
    await lab?.stop();
  });
  test('ssh: block stops h1 both ways, not h2; refusals; timed lift by the set timeout; unblock --all; teardown', { timeout: 150_000 }, () => blockFlow(lab, 'ssh', true, true));
  test('telnet: block and unblock, refusals', { timeout: 100_000 }, () => blockFlow(lab, 'telnet', true, false));
});
