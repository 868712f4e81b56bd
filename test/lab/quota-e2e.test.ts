// test-file-timeout: 480 (three flows of ~100 s each, two with a 1-minute block; waits for the lab lock)
// Quotas that act, end to end (issue 16, "Tests (lab, real traffic)"), as a user does it: the REAL
// lantop binary (`node dist/cli.js`) against the netns lab router, with real traffic. setup; a
// person; a rolling 1-minute quota on h1 that notifies at 50 % and 100 % and blocks; a webhook and
// an email channel pointing at servers this test runs on loopback (HTTP, SMTP with STARTTLS and a
// login; the password only in LANTOP_SMTP_PASSWORD). `lantop usage --watch` runs as the enforcer
// while h1 and h2 stream from the ISP: h1 crosses its quota, both alerts arrive once each at both
// channels, h1's traffic stops while h2's goes on, and the owner's session still works (`hosts`,
// `block --list` with the block's expiry and its audit row by quota). lantop is SIGKILLed while h1 is
// blocked; at the block's expiry (one window length: quotaBlockUntilMs) the router itself lets h1
// through again, and the next lantop start removes the expired rule and audits it. `unblock --all`
// restores forwarding after a manual block; teardown leaves the firewall as before setup. Bad input
// through the real CLI (unknown device, -5GB, 2PB, fortnight, 0h; blocking the owner or the router)
// exits 2 with a clear message and changes nothing. iptables lab router over telnet and SSH; the
// openwrt-fw4 variant (nft) over SSH.
//
// Timing: a rolling N-minute quota counts the minute buckets that start in its window
// (docs/quotas.md, "Where the usage comes from"), so a 1-minute one counts the current clock minute,
// and its crossings are keyed by the minute slot. The streams start early in a minute so that the
// enforcer's check (every 10 s) sees the crossing in the same minute they started.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { labSkipReason, startLab, variantSkipReason, type Lab, type LabHost } from './lab.js';
import { CLI_PATH, Cli, type Protocol, type Run } from './lantop-cli.js';
import { firewall, forwardingScripts, inNs, reaches as reachesWith, Stream } from './lab-forwarding.js';
import { startHttpRecorder, type HttpRecorder } from '../helpers/http-recorder.js';
import { makeSelfSignedCert, readMail, startSmtpRecorder, type SelfSignedCert, type SmtpRecorder } from '../helpers/smtp-recorder.js';

const PORT = 47_124;
const SMTP_USER = 'alerts';
const SMTP_PASSWORD = 'sm tp:pässword';
const LIMIT_BYTES = 1_000_000; // 1MB; the streams move ~220 kB/s per host
const SCRIPTS = forwardingScripts(PORT, { chunkBytes: 4000, upChunkBytes: 400 });
const reaches = (lab: Lab, host: LabHost) => reachesWith(lab, host, SCRIPTS);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// In the ISP: every connection gets 4000 bytes every 20 ms and its input is read.
// In a LAN host: one long connection, 400 bytes up every 20 ms, the bytes received printed every 100 ms.
// A fresh connection that must see the server's first bytes within 1.5 s (exit 0), else exit 1.


const shown = (text: string) => JSON.stringify(text.slice(-1500));

/** The lab's Cli with the SMTP password in the environment (never in argv). */
class QuotaCli extends Cli {
  override env(): NodeJS.ProcessEnv {
    return { ...super.env(), LANTOP_SMTP_PASSWORD: SMTP_PASSWORD };
  }
  async must(args: readonly string[]): Promise<Run> {
    const r = await this.run(args, 60_000);
    assert.equal(r.code, 0, `lantop ${args.join(' ')} → exit ${r.code}; stdout ${shown(r.stdout)}; stderr ${shown(r.stderr)}`);
    return r;
  }
  async json<T>(args: readonly string[]): Promise<T> {
    return JSON.parse((await this.must([...args, '--json'])).stdout) as T;
  }
}

interface QuotaJson {
  quotas: Array<{ id: number; subject: Record<string, string>; limitBytes: number; direction: string; period: string; thresholds: unknown[] }>;
}
interface BlockListJson {
  blocks: Array<{ identity: string | null; mac: string | null; addresses: string[]; untilMs: number | null; expired: boolean }>;
  audit: Array<{ atMs: number; action: string; identity: string; reason: string; by: string; quotaId: number | null; untilMs: number | null }>;
}
interface AlertBody {
  version: number;
  kind: string;
  router: string;
  subject: { kind: string; id: string; name: string | null; label: string };
  quotaId: number | null;
  percent: number | null;
  direction: string | null;
  used: { bytes: number; text: string } | null;
  limit: { bytes: number; text: string } | null;
  left: { bytes: number; text: string } | null;
  until: { ms: number; iso: string } | null;
  title: string;
  message: string;
}

/** What `quota list --json` says that no traffic changes. */
const quotaShape = (q: QuotaJson) => q.quotas.map(({ id, subject, limitBytes, direction, period, thresholds }) => ({ id, subject, limitBytes, direction, period, thresholds }));


async function until(what: string, check: () => boolean, timeoutMs: number, detail: () => string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) assert.fail(`${what} within ${timeoutMs} ms; ${detail()}`);
    await sleep(200);
  }
}

/** `lantop usage --watch --json` as the long-running enforcer; its stderr kept for messages. */
function startEnforcer(cli: QuotaCli): { child: ChildProcess; stderr: () => string; lines: () => number } {
  const child = spawn(process.execPath, cli.argv(['usage', '--watch', '--json', '--interval', '1000']), { env: cli.env(), stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  let lines = 0;
  child.stderr!.on('data', (b: Buffer) => (err = (err + b.toString('utf8')).slice(-4000)));
  child.stdout!.on('data', (b: Buffer) => (lines += b.toString('utf8').split('\n').length - 1));
  return { child, stderr: () => err, lines: () => lines };
}

async function badInputsChangeNothing(cli: QuotaCli, h1: LabHost): Promise<void> {
  const before = quotaShape(await cli.json<QuotaJson>(['quota', 'list']));
  const cases: Array<[string[], RegExp]> = [
    [['quota', 'add', 'no-such-device', '--limit', '1MB', '--period', '1m'], /No device 'no-such-device'/],
    [['quota', 'add', h1.hostname, '--limit', '-5GB', '--period', '1m'], /--limit: size must be positive, got "-5GB"/],
    [['quota', 'add', h1.hostname, '--limit=-5GB', '--period', '1m'], /--limit: size must be positive/],
    [['quota', 'add', h1.hostname, '--limit', '0', '--period', '1m'], /--limit: size must be at least 1 byte/],
    [['quota', 'add', h1.hostname, '--limit', '2PB', '--period', '1m'], /--limit: size "2PB" is over the 1 PB limit/],
    [['quota', 'add', h1.hostname, '--limit', '1MB', '--period', 'fortnight'], /--period: cannot read period "fortnight"; use day, week/],
    [['quota', 'add', h1.hostname, '--limit', '1MB', '--period', '0h'], /--period: a rolling period must be at least 1 minute/],
    [['person', 'add', 'Zed', 'no-such-device'], /No device 'no-such-device'/],
  ];
  for (const [args, why] of cases) {
    const r = await cli.run(args);
    assert.equal(r.code, 2, `lantop ${args.join(' ')} must exit 2: stdout ${shown(r.stdout)} stderr ${shown(r.stderr)}`);
    assert.match(r.stderr, why, `lantop ${args.join(' ')}: a clear message`);
    assert.doesNotMatch(r.stderr, /\n\s+at .*\.js:\d+/, `lantop ${args.join(' ')}: no stack trace`);
  }
  assert.deepEqual(quotaShape(await cli.json<QuotaJson>(['quota', 'list'])), before, 'bad input changed no quota');
  assert.deepEqual((await cli.json<{ persons: Array<{ name: string }> }>(['person', 'list'])).persons.map((p) => p.name).sort(), ['Ana', 'Ben'], 'nor a person');
}

interface Servers {
  hook: HttpRecorder;
  smtp: SmtpRecorder;
}

const bodies = (s: Servers) => s.hook.requests.map((r) => JSON.parse(r.body) as AlertBody);
const mailBodies = (s: Servers) =>
  s.smtp.mails.map((m) => {
    const mail = readMail(m.raw);
    return { subject: mail.subject, json: JSON.parse(mail.body.slice(mail.body.indexOf('{'))) as AlertBody, isSecure: m.isSecure, user: m.user };
  });
const kinds = (list: AlertBody[]) => list.map((b) => (b.kind === 'quota-threshold' ? `${b.kind}:${b.percent}:q${b.quotaId}` : `${b.kind}:q${b.quotaId}`));

/** The whole user story on one lab over one protocol. */
async function quotaFlow(lab: Lab, protocol: Protocol, isNft: boolean, servers: Servers, cert: SelfSignedCert): Promise<void> {
  const cli = new QuotaCli(lab, protocol, 8000);
  const children: ChildProcess[] = [];
  const t0 = Date.now();
  const mark = (what: string) => process.stderr.write(`  [${protocol}${isNft ? '/nft' : ''}] ${((Date.now() - t0) / 1000).toFixed(1)} s ${what}\n`);
  servers.hook.requests.length = 0;
  servers.smtp.mails.length = 0;
  try {
    const [h1, h2] = [lab.hosts[0]!, lab.hosts[1]!];
    await lab.refreshArp();
    const pristine = await firewall(lab, isNft);

    // 1. setup; the history learns the devices; persons, quotas and alert channels.
    await cli.must(['setup', '--yes']);
    await cli.must(['usage', '--json', '--count', '2', '--interval', '500']);
    await cli.must(['person', 'add', 'Ben', h1.mac]);
    await cli.must(['person', 'add', 'Ana', h2.ip]);
    await cli.must(['quota', 'add', h1.hostname, '--limit', '1MB', '--period', '1m', '--notify', '50', '--notify', '100', '--block']);
    await cli.must(['quota', 'add', 'Ana', '--limit', '1GB', '--period', 'day']);
    const quotas = await cli.json<QuotaJson>(['quota', 'list']);
    assert.deepEqual(quotaShape(quotas)[0], {
      id: 1,
      subject: { kind: 'device', identity: h1.mac.toLowerCase() },
      limitBytes: LIMIT_BYTES,
      direction: 'total',
      period: '1m',
      thresholds: [{ percent: 50, notify: true, block: false }, { percent: 100, notify: true, block: true }],
    });
    await cli.must(['alert', 'add', 'webhook', `${servers.hook.url}/hook/lantop`]);
    const email = ['alert', 'add', 'email', '--smtp', `smtp://127.0.0.1:${servers.smtp.port}`, '--from', 'lantop@example.net', '--to', 'owner@example.net', '--smtp-user', SMTP_USER, '--require-tls', '--ca-file', cert.certPath];
    await cli.must(email);
    assert.ok(!email.join(' ').includes(SMTP_PASSWORD));
    await badInputsChangeNothing(cli, h1);
    mark('set up');

    // 2. The enforcer and real traffic from h1 and h2, started early in a clock minute (see above).
    const server = inNs(lab.ispNs, SCRIPTS.server);
    children.push(server);
    await new Promise<void>((resolve, reject) => {
      server.stdout!.once('data', () => resolve());
      server.once('exit', (code) => reject(new Error(`stream server exited ${code}`)));
    });
    const enforcer = startEnforcer(cli);
    children.push(enforcer.child);
    await until('the enforcer polls', () => enforcer.lines() >= 2, 20_000, enforcer.stderr);
    const second = new Date().getSeconds();
    if (second > 42) await sleep((61 - second) * 1000);
    const s1 = new Stream(inNs(h1.ns, SCRIPTS.stream));
    const s2 = new Stream(inNs(h2.ns, SCRIPTS.stream));
    children.push(s1.child, s2.child);
    mark('traffic started');

    // 3. Alerts at 50 % and 100 % and the block, at the webhook and by email.
    const expected = ['quota-threshold:50:q1', 'quota-threshold:100:q1', 'block:q1'];
    const detail = () => `webhook: ${JSON.stringify(kinds(bodies(servers)))}, mails: ${servers.smtp.mails.length}; lantop stderr ${shown(enforcer.stderr())}`;
    await until('the alerts and the block arrive at the webhook', () => expected.every((k) => kinds(bodies(servers)).includes(k)), 40_000, detail);
    await until('and by email', () => servers.smtp.mails.length >= 3, 20_000, detail);
    const blockedAt = Date.now();
    mark('alerts arrived, h1 blocked');
    const hooks = bodies(servers);
    const at50 = hooks.find((b) => b.percent === 50)!;
    const at100 = hooks.find((b) => b.percent === 100)!;
    const blockBody = hooks.find((b) => b.kind === 'block')!;
    for (const b of [at50, at100]) {
      assert.equal(b.version, 1);
      assert.equal(b.router, `${lab.routerIp}:${protocol === 'ssh' ? lab.sshPort : lab.telnetPort}`);
      assert.deepEqual([b.subject.kind, b.subject.id, b.subject.name], ['device', h1.mac.toLowerCase(), h1.hostname]);
      assert.equal(b.direction, 'total');
      assert.equal(b.limit?.bytes, LIMIT_BYTES);
      assert.ok(b.used !== null && b.used.bytes >= (LIMIT_BYTES * b.percent!) / 100, `used ${JSON.stringify(b.used)} at ${b.percent} %`);
      assert.equal(b.left?.bytes, Math.max(0, LIMIT_BYTES - b.used.bytes));
      assert.match(b.title, new RegExp(`${b.percent} %`));
      assert.ok(b.message.includes(h1.hostname) && b.message.includes(b.used.text), b.message);
    }
    assert.equal(servers.hook.requests[0]!.path, '/hook/lantop');
    assert.match(String(servers.hook.requests[0]!.headers['content-type']), /application\/json/);
    assert.deepEqual([blockBody.subject.id, blockBody.quotaId], [h1.mac.toLowerCase(), 1]);
    assert.ok(blockBody.until !== null, 'the block alert carries its end');
    const untilMs = blockBody.until.ms;
    assert.ok(Math.abs(untilMs - (blockedAt + 60_000)) < 15_000, `a rolling 1-minute quota blocks for one window length: until ${blockBody.until.iso}`);

    // h1's running stream and new connections stop; h2's go on.
    await sleep(300);
    assert.equal(await s1.growth(1500), 0, "h1's running stream stopped");
    assert.ok((await s2.growth(1000)) > 50_000, "h2's stream goes on");
    assert.equal(await reaches(lab, h1), false, 'h1 cannot open a connection');
    assert.equal(await reaches(lab, h2), true, 'h2 can');

    // The owner's session keeps working: hosts and block --list while h1 is blocked.
    const hosts = await cli.json<{ hosts: Array<{ ip: string }> }>(['hosts']);
    assert.ok(hosts.hosts.some((h) => h.ip === h1.ip) && hosts.hosts.some((h) => h.ip === lab.console.ip));
    const listed = await cli.json<BlockListJson>(['block', '--list']);
    assert.deepEqual(listed.blocks.map((b) => [b.identity, b.expired]), [[h1.mac.toLowerCase(), false]], 'the block');
    // Its expiry as the router holds it: --datestop has whole seconds, an nft timeout is read back as what is left.
    assert.ok(Math.abs(listed.blocks[0]!.untilMs! - untilMs) <= 1000, `the block's expiry on the router: ${listed.blocks[0]!.untilMs} vs ${untilMs}`);
    assert.ok(listed.blocks[0]!.addresses.includes(h1.ip));
    const auditRow = listed.audit.find((a) => a.action === 'block');
    assert.deepEqual(auditRow && [auditRow.identity, auditRow.by, auditRow.quotaId, auditRow.untilMs], [h1.mac.toLowerCase(), 'quota', 1, untilMs], JSON.stringify(listed.audit));
    assert.match(auditRow!.reason, /quota 1 .*100 %/);

    // Refusals while blocked: the owner's address and the router's; nothing changes.
    const blockedFirewall = await firewall(lab, isNft);
    assert.doesNotMatch(blockedFirewall, /-A INPUT .*LANTOP|hook input[^\n]*\n[^}]*lantop_block/, 'INPUT untouched');
    for (const [device, why] of [[lab.console.ip, /connects from/], [lab.routerIp, /router's own/]] as const) {
      const r = await cli.run(['block', device, '--for', '1m']);
      assert.equal(r.code, 2, `block ${device} must be refused: ${shown(r.stderr)}`);
      assert.match(r.stderr, why);
      assert.match(r.stderr, /Nothing was changed/);
    }
    assert.equal(await firewall(lab, isNft), blockedFirewall, 'refusals changed nothing');

    // Once each: more checks ran (every 10 s) while h1 stayed over its quota.
    await sleep(Math.max(0, blockedAt + 12_000 - Date.now()));
    assert.deepEqual(kinds(bodies(servers)).sort(), [...expected].sort(), 'each alert once at the webhook');
    const mails = mailBodies(servers);
    assert.deepEqual(kinds(mails.map((m) => m.json)).sort(), [...expected].sort(), 'each alert once by email');
    for (const m of mails) {
      assert.equal(m.subject, m.json.title, 'the subject is the title');
      assert.deepEqual([m.isSecure, m.user], [true, SMTP_USER], 'STARTTLS and the login');
    }
    assert.deepEqual(mails.find((m) => m.json.percent === 50)!.json.used, at50.used, 'the email carries the same event');
    mark('asserted the block');

    // 4. SIGKILL lantop while h1 is blocked; the router lifts the block at its expiry by itself.
    enforcer.child.kill('SIGKILL');
    for (const s of [s1, s2]) s.child.kill('SIGKILL');
    await sleep(Math.max(0, untilMs + 1500 - Date.now()));
    assert.equal(await reaches(lab, h1), true, "h1's traffic flows again at the block's expiry, no lantop running");
    if (!isNft) assert.match(await lab.iptablesSave(), new RegExp(`-A LANTOP_BLOCK -m mac --mac-source ${h1.mac}`, 'i'), 'the expired rule is still there: the kernel stopped matching it');
    mark('lifted by the router');
    const hooksBefore = servers.hook.requests.length;
    await cli.must(['usage', '--json', '--count', '2', '--interval', '1000']);
    if (!isNft) {
      assert.doesNotMatch(await lab.iptablesSave(), new RegExp(`--mac-source ${h1.mac}`, 'i'), 'the next start removed the expired rule');
      const unblockAlerts = bodies(servers).slice(hooksBefore);
      assert.deepEqual(kinds(unblockAlerts), ['unblock:q1'], 'the expiry alert (naming the quota that set the block), nothing else');
    } else assert.equal(servers.hook.requests.length, hooksBefore, 'nft: the set element timed out, nothing to remove or alert');
    const afterRestart = await cli.json<BlockListJson>(['block', '--list']);
    assert.deepEqual(afterRestart.blocks, []);
    if (!isNft) {
      const expiredRow = afterRestart.audit.find((a) => a.action === 'expired');
      assert.deepEqual(expiredRow && [expiredRow.identity, expiredRow.by, expiredRow.quotaId, expiredRow.reason], [h1.mac.toLowerCase(), 'quota', 1, 'the block ended'], JSON.stringify(afterRestart.audit));
      assert.ok(Math.abs(expiredRow!.untilMs! - untilMs) <= 1000, 'with the expiry it had');
    }
    assert.equal(await reaches(lab, h1), true);
    mark('expired block removed at start');

    // 5. unblock --all after a fresh manual block; teardown.
    await cli.must(['block', h1.hostname, '--for', '10m']);
    assert.equal(await reaches(lab, h1), false, 'manual block');
    await cli.must(['unblock', '--all']);
    assert.equal(await reaches(lab, h1), true, 'unblock --all restores forwarding');
    assert.equal(await reaches(lab, h2), true);
    await cli.must(['teardown', '--yes']);
    assert.equal(await firewall(lab, isNft), pristine, 'teardown leaves the firewall as before setup');
    mark('done');
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await cli.run(['unblock', '--all']).catch(() => undefined);
    cli.cleanup();
  }
}

const cliMissing = existsSync(CLI_PATH) ? null : `no build at ${CLI_PATH} (run npm run build)`;
let servers: Servers;
let cert: SelfSignedCert;

async function startServers(): Promise<void> {
  cert = makeSelfSignedCert();
  servers = { hook: await startHttpRecorder(), smtp: await startSmtpRecorder({ key: cert.key, cert: cert.cert, users: { [SMTP_USER]: SMTP_PASSWORD } }) };
}
async function stopServers(): Promise<void> {
  await servers?.hook.close();
  await servers?.smtp.close();
  cert?.dispose();
}

describe('quotas that act on the iptables lab router', { skip: labSkipReason() || cliMissing || false, timeout: 330_000 }, () => {
  let lab: Lab;
  before(async () => {
    await startServers();
    lab = await startLab({ hosts: 2, backend: 'legacy', password: 'quota-pw' });
  }, { timeout: 120_000 });
  after(async () => {
    await lab?.stop();
    await stopServers();
  });
  test('telnet: quota → alerts once at webhook and SMTP → block; kill; router-side expiry; expired rule removed at start; unblock --all; teardown; bad input', { timeout: 150_000 }, () => quotaFlow(lab, 'telnet', false, servers, cert));
  test('ssh: the same', { timeout: 150_000 }, () => quotaFlow(lab, 'ssh', false, servers, cert));
});

describe('quotas that act on the OpenWrt fw4 lab router (nftables)', { skip: variantSkipReason('openwrt-fw4') ?? cliMissing ?? false, timeout: 200_000 }, () => {
  let lab: Lab;
  before(async () => {
    await startServers();
    lab = await startLab({ hosts: 2, variant: 'openwrt-fw4', password: 'quota-owrt' });
  }, { timeout: 120_000 });
  after(async () => {
    await lab?.stop();
    await stopServers();
  });
  test('ssh: quota → alerts → block by set element; kill; the timeout lifts it; unblock --all; teardown; bad input', { timeout: 150_000 }, () => quotaFlow(lab, 'ssh', true, servers, cert));
});
