// The quota enforcer over a real history database (polls recorded by the accountant): a crossing
// alerts once (also after a restart), a blocking threshold blocks until the period's end with an
// audit row, the owner and the router are never blocked (a line quota blocks everyone else), an
// expired block is removed and audited, and a failing router command is a notice, never a throw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AlertEvent } from '../domain/alert-event.js';
import { utcZone } from '../domain/periods.js';
import { buildThresholds, type Quota } from '../domain/quota.js';
import type { Snapshot } from '../domain/snapshot.js';
import type { BlockEntry, BlockTarget } from '../router/backends/block.js';
import type { HistoryStore } from '../store/history-store.js';
import { DAY, Harness, HOUR, identityOf, IPS, MACS, T0, useStoreDir } from '../../test/store/history-harness.js';
import { host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { QuotaEnforcer } from './quota-enforcer.js';
import type { BlockPort } from './quota-blocking.js';

const tmp = useStoreDir();
const KEY = '198.51.100.1:23';
const START = T0 + 10 * HOUR;

class FakeBlocks implements BlockPort {
  entries: BlockEntry[] = [];
  blocked: BlockTarget[] = [];
  unblocked: string[] = [];
  removedExpired = 0;
  failWith: Error | null = null;
  async block(target: BlockTarget) {
    if (this.failWith) throw this.failWith;
    this.blocked.push(target);
    this.entries = [...this.entries.filter((e) => e.identity !== target.identity), { identity: target.identity, mac: target.mac, addresses: target.addresses, untilMs: target.untilMs, isExpired: false }];
    return { entries: this.entries, notes: [] };
  }
  async unblock(which: string) {
    this.unblocked.push(which);
    this.entries = this.entries.filter((e) => which !== 'all' && e.identity !== which);
    return { entries: this.entries, notes: [] };
  }
  // No listBlocks: the enforcer reads the router's blocks only through removeExpiredBlocks (one
  // read a minute, RouterClient), which says what it removed.
  async removeExpiredBlocks() {
    this.removedExpired += 1;
    const removed = this.entries.filter((e) => e.isExpired);
    this.entries = this.entries.filter((e) => !e.isExpired);
    return { entries: this.entries, notes: [], removed };
  }
  async routerOwnAddresses() {
    return { addresses: ['198.51.100.1'], macs: ['02:00:5e:00:00:01'], notes: [] };
  }
}

function snapshotOf(): Snapshot {
  return makeSnapshot(IPS.map((ip, i) => host(ip, { mac: MACS[i] ?? null, hostname: `host-${i}` })));
}

function setup(store: HistoryStore, h: Harness, options: { localAddress?: string | null; blocks?: FakeBlocks } = {}) {
  const events: AlertEvent[] = [];
  const blocks = options.blocks ?? new FakeBlocks();
  const enforcer = new QuotaEnforcer({
    routerKey: KEY,
    store,
    client: blocks,
    session: { localAddress: options.localAddress === undefined ? '198.51.100.200' : options.localAddress, remoteAddress: '198.51.100.1' },
    clock: h.clock,
    sink: { send: (e) => events.push(e) },
    neverBlock: [],
    zone: utcZone,
  });
  const poll = async (count = 1) => {
    h.run(count, 30_000);
    enforcer.afterPoll(snapshotOf(), true);
    await enforcer.idle();
  };
  return { events, blocks, enforcer, poll };
}

function addQuota(store: HistoryStore, over: Partial<Quota>): Quota {
  return store.quotas.addQuota({
    routerKey: KEY,
    subject: { kind: 'device', identity: identityOf(0) },
    limitBytes: 1e9,
    direction: 'total',
    period: { kind: 'day' },
    thresholds: buildThresholds([80], true),
    createdMs: START,
    ...over,
  });
}

test('a device crosses 80 % (one alert), then 100 %: blocked until midnight, audited; a restart repeats nothing', async () => {
  const store = tmp.open();
  try {
    const h = new Harness(store, START, KEY);
    h.run(21, 30_000); // ten minutes
    const used = h.truth(identityOf(0), T0, T0 + DAY);
    const quota = addQuota(store, { limitBytes: Math.ceil((used[0] + used[1]) / 0.85) });
    const { events, blocks, enforcer, poll } = setup(store, h);
    await poll();
    assert.deepEqual(events.map((e) => [e.kind, e.percent, e.quotaId]), [['quota-threshold', 80, quota.id]]);
    assert.equal(events[0]!.subject.name, 'host-0');
    const shown = enforcer.decorate(snapshotOf());
    assert.equal(shown.quotas?.length, 1);
    assert.ok(shown.quotas![0]!.percent >= 80 && shown.quotas![0]!.percent < 100);
    assert.equal(shown.quotas![0]!.resetMs, T0 + DAY);
    assert.match(shown.notices.at(-1)!.text, /^host-0 \(aa:bb:cc:00:00:0a\) at 80 % of the traffic quota; .* used; resets 2024-03-05 00:00 UTC/);

    await poll(); // within 10 s of the last check: not evaluated again
    h.clock.advance(10_000);
    await poll(); // evaluated again: 80 % already recorded
    assert.equal(events.length, 1, 'the crossing alerts once');

    await poll(20);
    assert.deepEqual(events.slice(1).map((e) => e.kind), ['block'], '100 % blocks (notify was asked at 80 % only)');
    assert.equal(blocks.blocked.length, 1);
    assert.deepEqual(blocks.blocked[0], { identity: identityOf(0), mac: MACS[0], addresses: [IPS[0]], untilMs: T0 + DAY });
    const audit = store.quotas.listAudit(KEY);
    assert.deepEqual(audit.map((a) => [a.action, a.identity, a.by, a.quotaId, a.untilMs]), [['block', identityOf(0), 'quota', quota.id, T0 + DAY]]);
    const after = enforcer.decorate(snapshotOf());
    assert.equal(after.hosts[0]!.blockedUntilMs, T0 + DAY);
    assert.equal(after.hosts[1]!.blockedUntilMs, undefined);
    assert.equal(after.quotas![0]!.isBlocked, true);

    const restarted = setup(store, h, { blocks });
    await restarted.poll();
    assert.deepEqual(restarted.events, [], 'a restart does not repeat alerts or blocks');
    assert.equal(blocks.blocked.length, 1);
  } finally {
    store.close();
  }
});

test('a line quota blocks every device but the owner (refused, said once) and the router', async () => {
  const store = tmp.open();
  try {
    const h = new Harness(store, START, KEY);
    h.run(5, 30_000);
    addQuota(store, { subject: { kind: 'line' }, limitBytes: 10, thresholds: buildThresholds([], true) });
    const { blocks, enforcer, poll } = setup(store, h, { localAddress: IPS[1] });
    await poll();
    assert.deepEqual(blocks.blocked.map((b) => b.identity).sort(), [identityOf(0), identityOf(2)].sort());
    const refusals = enforcer.decorate(snapshotOf()).notices.filter((n) => /lantop itself connects from/.test(n.text));
    assert.equal(refusals.length, 1);
    h.clock.advance(10_000);
    await poll();
    assert.equal(blocks.blocked.length, 2, 'not retried every poll');
    assert.equal(enforcer.decorate(snapshotOf()).notices.filter((n) => /lantop itself connects from/.test(n.text)).length, 1);
  } finally {
    store.close();
  }
});

test('expired blocks are removed at start and audited; hand block and unblock; a failing router is a notice', async () => {
  const store = tmp.open();
  try {
    const h = new Harness(store, START, KEY);
    h.run(3, 30_000);
    const blocks = new FakeBlocks();
    blocks.entries = [{ identity: identityOf(2), mac: null, addresses: [IPS[2]!], untilMs: START - 1000, isExpired: true }];
    const { events, enforcer, poll } = setup(store, h, { blocks });
    await poll();
    assert.equal(blocks.removedExpired, 1);
    assert.deepEqual(store.quotas.listAudit(KEY).map((a) => [a.action, a.identity]), [['expired', identityOf(2)]]);
    assert.deepEqual(events.map((e) => e.kind), ['unblock']);
    h.clock.advance(60_000);
    await poll();
    assert.equal(blocks.removedExpired, 2, 'a minute on: one read again, nothing removed');
    assert.equal(store.quotas.listAudit(KEY).length, 1, 'nothing more audited');
    assert.equal(events.length, 1);

    const done = await enforcer.blockByHand(identityOf(1), HOUR);
    assert.equal(done.isDone, true, done.message);
    assert.equal(blocks.blocked.at(-1)!.untilMs, h.clock.now() + HOUR);
    assert.equal(enforcer.decorate(snapshotOf()).hosts[1]!.blockedUntilMs, h.clock.now() + HOUR);
    assert.equal((await enforcer.blockByHand(identityOf(0), HOUR)).isDone, true);
    const owner = await setup(store, h, { localAddress: IPS[0], blocks }).enforcer.blockByHand(identityOf(0), HOUR);
    assert.equal(owner.isDone, false);
    assert.match(owner.message, /lantop itself connects from/);
    assert.equal((await enforcer.unblockByHand(identityOf(1))).isDone, true);
    assert.deepEqual(blocks.unblocked, [identityOf(1)]);
    assert.deepEqual(store.quotas.listAudit(KEY).map((a) => [a.action, a.by]), [['expired', 'quota'], ['block', 'hand'], ['block', 'hand'], ['unblock', 'hand']]);

    blocks.failWith = new Error('iptables: No chain/target/match by that name.');
    addQuota(store, { subject: { kind: 'device', identity: identityOf(2) }, limitBytes: 10, thresholds: buildThresholds([], true) });
    h.clock.advance(10_000);
    await poll();
    const last = enforcer.decorate(snapshotOf()).notices.at(-1)!;
    assert.equal(last.level, 'error');
    assert.match(last.text, /could not block host-2: iptables: No chain/);
  } finally {
    store.close();
  }
});

test('a rolling quota alerts once while the usage stays over a threshold, and again only after it fell below', async () => {
  const store = tmp.open();
  try {
    const h = new Harness(store, START, KEY);
    h.run(21, 30_000); // ten minutes of traffic
    const used = h.truth(identityOf(0), h.clock.now() - 10 * 60_000, h.clock.now() + 1);
    // 10 % of the limit is a tenth of what ten minutes carry: far over it while traffic goes on.
    const quota = addQuota(store, { period: { kind: 'rolling', minutes: 10 }, limitBytes: used[0] + used[1], thresholds: buildThresholds([10], false) });
    const { events, enforcer, poll } = setup(store, h);
    await poll();
    assert.deepEqual(events.map((e) => [e.kind, e.percent, e.quotaId]), [['quota-threshold', 10, quota.id]]);
    // 25 more minutes over the threshold, across two and a half window lengths: nothing new.
    await poll(50);
    assert.equal(events.length, 1, 'no repeat while the usage stays over the threshold');
    // Quiet for longer than the window: the usage falls to nothing and the threshold re-arms.
    h.clock.advance(20 * 60_000);
    h.poll({}, () => [0, 0]);
    enforcer.afterPoll(snapshotOf(), true);
    await enforcer.idle();
    assert.equal(enforcer.decorate(snapshotOf()).quotas![0]!.usedBytes, 0);
    assert.equal(events.length, 1);
    // Traffic again: the climb over 10 % is a new crossing.
    await poll(21);
    assert.deepEqual(events.slice(1).map((e) => [e.kind, e.percent]), [['quota-threshold', 10]]);
  } finally {
    store.close();
  }
});

test("an expired block's audit row names the quota (or the hand) that set it, from the block's own audit row", async () => {
  const store = tmp.open();
  try {
    const h = new Harness(store, START, KEY);
    h.run(3, 30_000);
    const until = START - 10_000;
    // The router keeps whole seconds: its expiry reads up to a second off the audited one.
    store.quotas.addAudit({ atMs: START - HOUR, routerKey: KEY, action: 'block', identity: identityOf(2), addresses: [IPS[2]!], reason: 'quota 7 (host-2) reached 100 %', quotaId: 7, by: 'quota', untilMs: until - 400 });
    store.quotas.addAudit({ atMs: START - HOUR, routerKey: KEY, action: 'block', identity: identityOf(1), addresses: [IPS[1]!], reason: 'by hand', quotaId: null, by: 'hand', untilMs: until });
    const blocks = new FakeBlocks();
    blocks.entries = [
      { identity: identityOf(2), mac: null, addresses: [IPS[2]!], untilMs: until, isExpired: true },
      { identity: identityOf(1), mac: null, addresses: [IPS[1]!], untilMs: until, isExpired: true },
    ];
    const { events, poll } = setup(store, h, { blocks });
    await poll();
    const expired = store.quotas.listAudit(KEY).filter((a) => a.action === 'expired');
    assert.deepEqual(expired.map((a) => [a.identity, a.quotaId, a.by]), [[identityOf(2), 7, 'quota'], [identityOf(1), null, 'hand']]);
    assert.deepEqual(events.map((e) => [e.kind, e.quotaId]), [['unblock', 7], ['unblock', null]]);
  } finally {
    store.close();
  }
});

test('a blocked device that moves to a new address is blocked there too, until the same end, as the same quota or hand', async () => {
  const store = tmp.open();
  try {
    const h = new Harness(store, START, KEY);
    h.run(3, 30_000);
    const { blocks, enforcer, poll } = setup(store, h);
    await poll();
    assert.equal((await enforcer.blockByHand(identityOf(1), HOUR)).isDone, true);
    const until = blocks.blocked.at(-1)!.untilMs;
    // The same device (its MAC) on a new lease.
    const moved = makeSnapshot(IPS.map((ip, i) => host(i === 1 ? '198.51.100.77' : ip, { mac: MACS[i] ?? null, hostname: `host-${i}` })));
    h.clock.advance(1000);
    enforcer.afterPoll(moved, true);
    await enforcer.idle();
    assert.equal(blocks.blocked.length, 2);
    assert.deepEqual(blocks.blocked[1], { identity: identityOf(1), mac: MACS[1], addresses: ['198.51.100.77'], untilMs: until });
    const last = store.quotas.listAudit(KEY).at(-1)!;
    assert.deepEqual([last.action, last.by, last.untilMs], ['block', 'hand', until]);
    assert.match(last.reason, /address changed to 198\.51\.100\.77/);
    // Seen again on the same address: nothing more to do.
    h.clock.advance(1000);
    enforcer.afterPoll(moved, true);
    await enforcer.idle();
    assert.equal(blocks.blocked.length, 2);
  } finally {
    store.close();
  }
});

test("with the connection's local address unknown, the enforcer refuses to block (it could be the owner's) and says why", async () => {
  const store = tmp.open();
  try {
    const h = new Harness(store, START, KEY);
    h.run(3, 30_000);
    const { blocks, enforcer, poll } = setup(store, h, { localAddress: null });
    await poll();
    const result = await enforcer.blockByHand(identityOf(1), HOUR);
    assert.equal(result.isDone, false);
    assert.match(result.message, /cannot tell which address it connects from/);
    assert.equal(blocks.blocked.length, 0, 'nothing sent to the router');
  } finally {
    store.close();
  }
});
