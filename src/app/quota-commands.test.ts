// The quota and person commands against a real database seeded by recorded polls: in process
// through the commands' functions (a fake clock), and through the real CLI (src/cli.ts under tsx).

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { FakeClock } from '../domain/clock.js';
import { resolveSettings, type GlobalFlags } from '../config/resolve.js';
import { HistoryStore } from '../store/history-store.js';
import { servicesOf, type Services } from './services.js';
import { runPersonAdd, runPersonList, runPersonRemove, runQuotaAdd, runQuotaEdit, runQuotaList, runQuotaRemove } from './quota-commands.js';
import { Harness, HOUR, identityOf, MIN, useStoreDir } from '../../test/store/history-harness.js';

// Calendar periods are in the system zone: fix it (Node applies a TZ set at run time).
process.env.TZ = 'UTC';
const tmp = useStoreDir();
const HOST = '198.51.100.1';
const KEY = `${HOST}:23`;
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Wednesday 13 March 2024, 10:00 UTC: the harness's hosts moved bytes from 09:00 on.
const NOW = Date.UTC(2024, 2, 13, 10);

function seed(startMs = NOW - HOUR, polls = 61): { store: HistoryStore; h: Harness } {
  const store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost', autoPrune: false });
  const h = new Harness(store, startMs, KEY);
  h.run(polls, MIN);
  return { store, h };
}

function servicesFor(nowMs = NOW, flags: Partial<GlobalFlags> = { host: HOST }): { services: Services; out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
  const settings = resolveSettings({ ...flags, db: tmp.dbPath } as GlobalFlags, {}, undefined, 'default');
  const services = servicesOf({
    settings,
    profiles: null,
    password: { isKnown: true, get: async () => 'unused' },
    clock: new FakeClock(nowMs),
    io: { stdout, stderr: new PassThrough(), stdin: new PassThrough() },
    env: {},
  });
  return { services, out: () => text };
}

/** The rows of the quota tables, to show that a refused command wrote nothing. */
function tables(): string {
  const store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost' });
  try {
    return JSON.stringify([store.quotas.listQuotas(KEY), store.quotas.listPersons(KEY)]);
  } finally {
    store.close();
  }
}

const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(`${e.message} ${e.nextStep ?? ''}`);

describe('quota commands in process', () => {
  test('add by MAC, address and name; list shows used, left and reset from the history', () => {
    const { store, h } = seed();
    const truth = h.truth(identityOf(0), Date.UTC(2024, 2, 13), NOW + MIN);
    store.close();
    const { services, out } = servicesFor();
    assert.equal(runQuotaAdd(services, 'AA-BB-CC-00-00-0A', { limit: '1MB', period: 'day', block: true }), 0);
    assert.equal(runQuotaAdd(services, '198.51.100.11', { limit: '2 MiB', direction: 'down', period: 'cycle', cycleDay: '31', notify: ['50', '90%'] }), 0);
    assert.equal(runQuotaAdd(services, 'HOST-2', { limit: '1GB', direction: 'up', period: '2h' }), 0);
    assert.equal(runQuotaAdd(services, 'line', { limit: '10GB', period: 'month' }), 0);
    assert.match(out(), /Quota 1 added: host-0, 1\.00 MB total per day; notify at 80%, 100%; block at 100%\./);
    assert.match(out(), /Quota 2 added: host-1, 2\.10 MB down per cycle:31; notify at 50%, 90%\./);
    assert.match(out(), /Quota 3 added: host-2, 1\.00 GB up per 2h/);

    const json = servicesFor();
    assert.equal(runQuotaList(json.services, { json: true }), 0);
    const listed = JSON.parse(json.out()) as { router: string; quotas: Array<Record<string, unknown>> };
    assert.equal(listed.router, KEY);
    const [q1, q2, q3, q4] = listed.quotas;
    assert.deepEqual(q1?.subject, { kind: 'device', identity: 'aa:bb:cc:00:00:0a' });
    assert.equal(q1?.usedBytes, truth[0] + truth[1]);
    assert.equal(q1?.leftBytes, Math.max(0, 1e6 - truth[0] - truth[1]));
    assert.equal(q1?.windowStartMs, Date.UTC(2024, 2, 13));
    assert.equal(q1?.reset, '2024-03-14T00:00:00.000Z');
    assert.deepEqual(q2?.subject, { kind: 'device', identity: 'aa:bb:cc:00:00:0b' });
    assert.equal(q2?.period, 'cycle:31');
    assert.deepEqual(q3?.subject, { kind: 'device', identity: 'ip:198.51.100.12' });
    // The rolling quota resets when its oldest bytes leave the window: the first poll after the
    // seed's first counted the minute from NOW − 1 h on.
    assert.equal(q3?.resetMs, NOW - HOUR + 2 * HOUR);
    assert.deepEqual(q4?.subject, { kind: 'line' });
    assert.ok((q4?.usedBytes as number) > (q1?.usedBytes as number));

    const table = servicesFor();
    runQuotaList(table.services, {});
    assert.match(table.out(), /^ *ID +WHO +LIMIT +PERIOD +USED +LEFT/m);
    assert.match(table.out(), /whole line/);
  });

  test('crossed thresholds show in the list', () => {
    seed().store.close();
    const { services } = servicesFor();
    runQuotaAdd(services, 'host-0', { limit: '100B', period: '24h', block: true });
    const json = servicesFor();
    runQuotaList(json.services, { json: true });
    const [q] = (JSON.parse(json.out()) as { quotas: Array<{ crossed: number[]; isOver: boolean; leftBytes: number }> }).quotas;
    assert.deepEqual([q?.crossed, q?.isOver, q?.leftBytes], [[80, 100], true, 0]);
  });

  test('edit changes a quota in place: the id stays, what is not given stays, kept crossings do not alert again', () => {
    seed().store.close();
    const { services, out } = servicesFor();
    runQuotaAdd(services, 'host-0', { limit: '1GB', period: 'cycle', cycleDay: '15', notify: ['50', '80'], block: true });
    const windowStartMs = Date.UTC(2024, 2, 15 - 29); // any window: crossings are kept by percent
    let store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost' });
    store.quotas.recordCrossing(1, windowStartMs, 50, NOW);
    store.quotas.recordCrossing(1, windowStartMs, 80, NOW);
    store.close();

    assert.equal(runQuotaEdit(services, '1', { limit: '2GB', direction: 'down', notify: ['50', '90'], block: false }), 0);
    assert.match(out(), /Quota 1 changed: host-0, 2\.00 GB down per cycle:15; notify at 50%, 90%\.\n/);
    assert.equal(runQuotaEdit(services, '1', { cycleDay: '20' }), 0, '--cycle-day alone moves the cycle');
    assert.match(out(), /Quota 1 changed: host-0, 2\.00 GB down per cycle:20; notify at 50%, 90%\./);
    store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost' });
    try {
      const [quota] = store.quotas.listQuotas(KEY);
      assert.deepEqual(quota, {
        id: 1,
        routerKey: KEY,
        subject: { kind: 'device', identity: 'aa:bb:cc:00:00:0a' },
        limitBytes: 2e9,
        direction: 'down',
        period: { kind: 'cycle', startDay: 20 },
        thresholds: [{ percent: 50, notify: true, block: false }, { percent: 90, notify: true, block: false }],
        createdMs: NOW,
      });
      assert.deepEqual(store.quotas.crossingsOf(1, windowStartMs), [], 'a new cycle day is a new window');
    } finally {
      store.close();
    }

    store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost' });
    store.quotas.recordCrossing(1, windowStartMs, 50, NOW);
    store.quotas.recordCrossing(1, windowStartMs, 90, NOW);
    store.close();
    assert.equal(runQuotaEdit(services, '1', { limit: '500MB', block: true }), 0);
    assert.match(out(), /Quota 1 changed: host-0, 500 MB down per cycle:20; notify at 50%, 90%; block at 100%\./);
    store = HistoryStore.open({ path: tmp.dbPath, hostname: 'testhost' });
    try {
      assert.deepEqual(store.quotas.crossingsOf(1, windowStartMs), [50, 90], 'the same period and percents keep their crossings');
    } finally {
      store.close();
    }

    const before = tables();
    assert.throws(() => runQuotaEdit(services, '1', {}), usage(/say what to change.*--limit/));
    assert.throws(() => runQuotaEdit(services, '7', { limit: '1GB' }), usage(/No quota 7/));
    assert.throws(() => runQuotaEdit(services, 'x', { limit: '1GB' }), usage(/quota edit: 'x' is not a quota id/));
    assert.throws(() => runQuotaEdit(services, '1', { limit: '-1GB' }), usage(/--limit: size must be positive/));
    assert.throws(() => runQuotaEdit(services, '1', { period: 'fortnight' }), usage(/--period: cannot read period/));
    assert.throws(() => runQuotaEdit(services, '1', { period: 'day', cycleDay: '3' }), usage(/--cycle-day goes with --period cycle/));
    assert.throws(() => runQuotaEdit(services, '1', { notify: ['0'] }), usage(/--notify/));
    assert.throws(() => runQuotaEdit(services, '1', { direction: 'sideways' }), usage(/--direction/));
    runQuotaAdd(services, 'host-1', { limit: '1GB', period: 'day' });
    assert.throws(() => runQuotaEdit(services, '2', { cycleDay: '3' }), usage(/--cycle-day goes with --period cycle, not "day"/));
    const other = servicesFor(NOW, { host: '198.51.100.2' });
    assert.throws(() => runQuotaEdit(other.services, '1', { limit: '1GB' }), usage(/No quota 1 for 198\.51\.100\.2:23/));
    runQuotaRemove(services, '2');
    assert.equal(tables(), before, 'nothing changed by the refused edits');
  });

  test('bad input is refused with the reason, and nothing is written', () => {
    seed().store.close();
    const before = tables();
    const { services } = servicesFor();
    const add = (who: string, o: Parameters<typeof runQuotaAdd>[2]) => () => runQuotaAdd(services, who, { limit: '1GB', period: 'day', ...o });
    assert.throws(add('host-0', { limit: '-5GB' }), usage(/--limit: size must be positive/));
    assert.throws(add('host-0', { limit: '0' }), usage(/at least 1 byte/));
    assert.throws(add('host-0', { limit: '2PB' }), usage(/1 PB/));
    assert.throws(add('host-0', { period: 'fortnight' }), usage(/--period: cannot read period/));
    assert.throws(add('host-0', { period: 'cycle' }), usage(/start day/));
    assert.throws(add('host-0', { period: '0h' }), usage(/at least 1 minute/));
    assert.throws(add('host-0', { period: '9000h' }), usage(/8760h/));
    assert.throws(add('host-0', { period: 'cycle', cycleDay: '32' }), usage(/--cycle-day/));
    assert.throws(add('host-0', { notify: ['0'] }), usage(/--notify/));
    assert.throws(add('host-0', { direction: 'sideways' }), usage(/--direction/));
    assert.throws(add('nosuchhost', {}), usage(/No device 'nosuchhost'.*Known devices: host-\d.*person list/));
    assert.throws(add('host', {}), usage(/Did you mean: host-\d/));
    assert.throws(add('aa:bb:cc:99:99:99', {}), usage(/No device/));
    assert.throws(add('person:Nobody', {}), usage(/No person 'Nobody'/));
    assert.throws(() => runQuotaRemove(services, '99'), usage(/No quota 99/));
    assert.throws(() => runQuotaRemove(services, 'abc'), usage(/not a quota id/));
    assert.throws(() => runPersonAdd(services, 'Ben', ['host-0', 'nosuchhost']), usage(/No device 'nosuchhost'/));
    assert.throws(() => runPersonAdd(services, 'line', ['host-0']), usage(/cannot be a person's name/));
    assert.throws(() => runPersonAdd(services, 'Ben', []), usage(/at least one device/));
    assert.throws(() => runPersonRemove(services, 'Ben'), usage(/No person 'Ben'/));
    assert.equal(tables(), before);
    const noHost = servicesFor(NOW, {});
    assert.throws(() => runQuotaList(noHost.services, {}), usage(/No router address/));
  });

  test('an address two devices were seen with is ambiguous, and the candidates are named', () => {
    const { store, h } = seed();
    h.clock.advance(MIN);
    // host-1 took host-0's address (a DHCP lease that moved): both rows last had 198.51.100.10.
    h.poll({ hosts: [{ ip: '198.51.100.10', mac: 'aa:bb:cc:00:00:0b', hostname: 'host-1' }] });
    store.close();
    const { services } = servicesFor();
    assert.throws(() => runQuotaAdd(services, '198.51.100.10', { limit: '1GB', period: 'day' }), usage(/matches 2 devices by address: host-\d.*host-\d.*MAC/));
  });

  test('persons: add, add devices, a quota on a person, list, remove refused while a quota is on them', () => {
    const { store, h } = seed();
    const today = Date.UTC(2024, 2, 13);
    const truth = [0, 1].map((i) => h.truth(identityOf(i), today, NOW + MIN));
    store.close();
    const { services, out } = servicesFor();
    assert.equal(runPersonAdd(services, 'Ben', ['host-0']), 0);
    assert.equal(runPersonAdd(services, 'Ben', ['aa:bb:cc:00:00:0b', 'host-0']), 0);
    assert.match(out(), /Person added: Ben = host-0\.\nDevices added: Ben = host-0, host-1\./);
    assert.equal(runQuotaAdd(services, 'Ben', { limit: '5GB', direction: 'down', period: 'day' }), 0);
    assert.match(out(), /Quota 1 added: Ben \(person\), 5\.00 GB down per day/);

    const json = servicesFor();
    runQuotaList(json.services, { json: true });
    const [q] = (JSON.parse(json.out()) as { quotas: Array<{ usedBytes: number }> }).quotas;
    assert.equal(q?.usedBytes, truth[0]![0] + truth[1]![0]);

    const people = servicesFor();
    runPersonList(people.services, { json: true });
    assert.deepEqual(JSON.parse(people.out()), {
      router: KEY,
      persons: [
        {
          name: 'Ben',
          identities: ['aa:bb:cc:00:00:0a', 'aa:bb:cc:00:00:0b'],
          devices: [
            { identity: 'aa:bb:cc:00:00:0a', hostname: 'host-0', ip: '198.51.100.10', mac: 'aa:bb:cc:00:00:0a' },
            { identity: 'aa:bb:cc:00:00:0b', hostname: 'host-1', ip: '198.51.100.11', mac: 'aa:bb:cc:00:00:0b' },
          ],
        },
      ],
    });
    const table = servicesFor();
    runPersonList(table.services, {});
    assert.match(table.out(), /PERSON +DEVICE\nBen +host-0 \(198\.51\.100\.10, aa:bb:cc:00:00:0a\)\n +host-1/);

    assert.throws(() => runPersonRemove(services, 'Ben'), usage(/quota 1.*quota remove 1/));
    assert.equal(runQuotaAdd(services, 'host-0', { limit: '1GB', period: 'day' }), 0, 'a device of a person can have its own quota');
    assert.equal(runQuotaRemove(services, '1'), 0);
    assert.equal(runPersonRemove(services, 'Ben'), 0);
    assert.match(out(), /Quota 1 removed\.\nPerson Ben removed\./);
    assert.equal(tables(), JSON.stringify([[{ id: 2, routerKey: KEY, subject: { kind: 'device', identity: 'aa:bb:cc:00:00:0a' }, limitBytes: 1e9, direction: 'total', period: { kind: 'day' }, thresholds: [{ percent: 80, notify: true, block: false }, { percent: 100, notify: true, block: false }], createdMs: NOW }], []]));
  });

  test('a name that is both a person and a device must say which', () => {
    seed().store.close();
    const { services } = servicesFor();
    runPersonAdd(services, 'host-2', ['host-0']);
    assert.throws(() => runQuotaAdd(services, 'host-2', { limit: '1GB', period: 'day' }), usage(/both a person and a device.*person:host-2 or device:ip:198\.51\.100\.12/));
    assert.equal(runQuotaAdd(services, 'person:host-2', { limit: '1GB', period: 'day' }), 0);
    assert.equal(runQuotaAdd(services, 'device:host-2', { limit: '1GB', period: 'day' }), 0);
  });
});

describe('the real CLI', () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli.ts'), '--host', HOST, '--db', tmp.dbPath, ...args], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1', LANTOP_CONFIG_DIR: join(tmp.path, 'config') },
      timeout: 60_000,
    });

  test('quota and person commands: add, list --json, remove; errors exit 2 and change nothing', () => {
    // Hosts seen ten minutes ago, by the real clock the CLI runs on.
    seed(Date.now() - 10 * MIN, 5).store.close();
    const person = cli(['person', 'add', 'Ben', 'host-0', '198.51.100.11']);
    assert.equal(person.status, 0, person.stderr);
    const add = cli(['quota', 'add', 'Ben', '--limit', '50GB', '--period', 'cycle', '--cycle-day', '15', '--notify', '50', '--notify', '90', '--block']);
    assert.equal(add.status, 0, add.stderr);
    assert.match(add.stdout, /Quota 1 added: Ben \(person\), 50\.0 GB total per cycle:15; notify at 50%, 90%; block at 100%\./);
    const list = cli(['quota', 'list', '--json']);
    assert.equal(list.status, 0, list.stderr);
    const [q] = (JSON.parse(list.stdout) as { quotas: Array<{ usedBytes: number; thresholds: unknown[] }> }).quotas;
    assert.ok((q?.usedBytes ?? 0) > 0, 'usage from the seeded history');
    assert.equal(q?.thresholds.length, 3);

    const bad = cli(['quota', 'add', 'nosuchhost', '--limit', '5GB', '--period', 'day']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /No device 'nosuchhost'/);
    const negative = cli(['quota', 'add', 'host-0', '--limit', '-5GB', '--period', 'day']);
    assert.equal(negative.status, 2);
    assert.match(negative.stderr, /size must be positive/);
    const missing = cli(['quota', 'add', 'host-0', '--period', 'day']);
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /--limit/);
    const direction = cli(['quota', 'add', 'host-0', '--limit', '5GB', '--period', 'day', '--direction', 'sideways']);
    assert.equal(direction.status, 2);
    assert.equal(JSON.parse(cli(['quota', 'list', '--json']).stdout).quotas.length, 1, 'nothing added by the refused commands');

    const edit = cli(['quota', 'edit', '1', '--limit', '60GB', '--direction', 'down', '--notify', '75', '--no-block']);
    assert.equal(edit.status, 0, edit.stderr);
    assert.match(edit.stdout, /Quota 1 changed: Ben \(person\), 60\.0 GB down per cycle:15; notify at 75%\./);
    const [edited] = (JSON.parse(cli(['quota', 'list', '--json']).stdout) as { quotas: Array<{ id: number; limitBytes: number; thresholds: unknown[] }> }).quotas;
    assert.deepEqual([edited?.id, edited?.limitBytes, edited?.thresholds], [1, 60e9, [{ percent: 75, notify: true, block: false }]]);
    assert.equal(cli(['quota', 'edit', '1', '--block']).status, 0);
    const noChange = cli(['quota', 'edit', '1']);
    assert.equal(noChange.status, 2);
    assert.match(noChange.stderr, /say what to change/);
    assert.equal(cli(['quota', 'edit', '9', '--limit', '1GB']).status, 2);

    assert.equal(cli(['person', 'remove', 'Ben']).status, 2, 'a quota is on Ben');
    assert.equal(cli(['quota', 'remove', '1']).status, 0);
    const removed = cli(['person', 'remove', 'Ben']);
    assert.equal(removed.status, 0, removed.stderr);
    const people = cli(['person', 'list', '--json']);
    assert.deepEqual(JSON.parse(people.stdout), { router: KEY, persons: [] });
  });
});
