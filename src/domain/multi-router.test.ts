import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineSnapshots } from './multi-router.js';
import { CHAINED, HOME, homeSnapshot, LAPTOP_MAC, OFFICE, officeSnapshot, row, snap, up } from '../../test/helpers/multi-router-fixtures.js';

const traffic = (downBytes: number, upBytes: number, downBps: number, upBps: number) => ({ downBytes, upBytes, downBps, upBps });

test('combine: chained routers count each byte once, on the upstream router', () => {
  const view = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot())], CHAINED);
  // home's 6000/600 already hold office's 5000/500 (under office's WAN address): nothing of office is added.
  assert.deepEqual(view.total, traffic(6000, 600, 60, 6));
  const [home, office] = view.routers;
  assert.deepEqual(home!.totals, traffic(6000, 600, 60, 6));
  assert.deepEqual(office!.totals, traffic(4500, 450, 45, 4));
  assert.equal(home!.isInTotal, true);
  assert.equal(office!.isInTotal, false);
  assert.equal(office!.upstreamKey, HOME);
  assert.equal(office!.countedByKey, HOME);
  // home's row for office's address is marked "via office"; office's rows are shown, not added.
  assert.deepEqual(home!.rows.map((r) => [r.host.ip, r.viaRouterKey, r.isInTotal]), [['192.168.1.50', OFFICE, true], ['192.168.1.10', null, true]]);
  assert.deepEqual(office!.rows.map((r) => [r.host.hostname, r.isInTotal, r.host.downShare]), [['phone', false, 3000 / 4500], ['laptop', false, 1500 / 4500]]);
  assert.equal(view.rule, 'home counts the line, office\'s traffic included (under "via office"); office\'s devices are shown, not added');
  assert.deepEqual(view.notices, []);
  assert.equal(view.atMs, 1_700_000_001_000);
});

test('combine: a roaming laptop (same MAC on both routers) is one device with its traffic per router', () => {
  const view = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot())], CHAINED);
  const laptops = view.devices.filter((d) => d.mac === LAPTOP_MAC);
  assert.equal(laptops.length, 1);
  const laptop = laptops[0]!;
  assert.equal(laptop.isRoaming, true);
  assert.equal(laptop.identity, LAPTOP_MAC);
  assert.deepEqual(laptop.perRouter.map((r) => [r.routerKey, r.host.downBytes, r.host.upBytes]), [[HOME, 1000, 100], [OFFICE, 1500, 150]]);
  // Its own traffic: each of its bytes is on one router's row only.
  assert.deepEqual(laptop.total, traffic(2500, 250, 25, 2));
  assert.equal(view.devices.length, 3);
  assert.equal(view.devices.find((d) => d.viaRouterKey === OFFICE)?.hostname, 'office-ap');
  assert.equal(view.devices.filter((d) => d.isRoaming).length, 1);
});

test('combine: with the upstream down, the router below counts its devices in the total', () => {
  const view = combineSnapshots([{ routerKey: HOME, label: 'home', snapshot: homeSnapshot(), state: 'down', reason: 'connection lost' }, up(OFFICE, 'office', officeSnapshot())], CHAINED);
  assert.deepEqual(view.total, traffic(4500, 450, 45, 4));
  const [home, office] = view.routers;
  // A down router contributes nothing, not even its last numbers.
  assert.deepEqual(home!.rows, []);
  assert.deepEqual(home!.totals, traffic(0, 0, 0, 0));
  assert.equal(home!.reason, 'connection lost');
  assert.equal(office!.isInTotal, true);
  assert.equal(office!.countedByKey, null);
  assert.deepEqual(office!.rows.map((r) => r.isInTotal), [true, true]);
  assert.equal(view.rule, 'home is down: office\'s devices count in the total until it is back');
  assert.equal(view.devices.find((d) => d.mac === LAPTOP_MAC)!.isRoaming, false);
});

test('combine: independent routers add up; one down is listed with its reason and adds nothing', () => {
  const a = snap('a', [row('192.168.1.10', { mac: 'aa:00:00:00:00:01', downBytes: 700, upBytes: 70, downBps: 7, upBps: 1 })]);
  const b = snap('b', [row('192.168.1.10', { downBytes: 300, upBytes: 30, downBps: 3, upBps: 0 })]);
  const both = combineSnapshots([up('a:23', 'a', a), up('b:23', 'b', b)]);
  assert.deepEqual(both.total, traffic(1000, 100, 10, 1));
  assert.equal(both.rule, 'each router counts its own devices; the total is the sum of them');
  // The same private address without a MAC on two LANs is two devices.
  assert.equal(both.devices.length, 2);
  const oneDown = combineSnapshots([up('a:23', 'a', a), { routerKey: 'b:23', label: 'b', snapshot: null, state: 'down', reason: 'Login failed: wrong password' }]);
  assert.deepEqual(oneDown.total, traffic(700, 70, 7, 1));
  assert.deepEqual(oneDown.routers.map((r) => [r.label, r.state, r.reason]), [['a', 'up', null], ['b', 'down', 'Login failed: wrong password']]);
  assert.equal(oneDown.rule, 'each router counts its own devices; the total is the sum of those up');
});

test('combine: no routers, or none up, count nothing', () => {
  const empty = combineSnapshots([]);
  assert.deepEqual(empty.total, traffic(0, 0, 0, 0));
  assert.deepEqual(empty.devices, []);
  assert.equal(empty.atMs, 0);
  assert.equal(empty.rule, 'no router is up: nothing is counted');
  const noneUp = combineSnapshots([{ routerKey: 'a:23', label: 'a', snapshot: null, state: 'down' }]);
  assert.equal(noneUp.routers[0]!.reason, 'not connected');
  assert.equal(noneUp.rule, 'no router is up: nothing is counted');
});

test('combine: an up router with an empty snapshot counts zero; three routers one behind the other count on the top one', () => {
  const c = snap('c', [row('192.168.3.5', { mac: 'cc:00:00:00:00:01', downBytes: 200, upBytes: 20 })]);
  const office = snap(OFFICE, [...officeSnapshot().hosts, row('192.168.2.60', { mac: '02:00:00:00:00:60', downBytes: 250, upBytes: 25 })]);
  const topology = { upstreamOf: { [OFFICE]: HOME, 'c:23': OFFICE }, uplinkAddressesOf: { [OFFICE]: ['192.168.1.50'], 'c:23': ['192.168.2.60'] } };
  const view = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', office), up('c:23', 'lab', c)], topology);
  assert.deepEqual(view.total, traffic(6000, 600, 60, 6));
  assert.deepEqual(view.routers.map((r) => [r.label, r.isInTotal, r.countedByKey]), [['home', true, null], ['office', false, HOME], ['lab', false, HOME]]);
  assert.equal(view.routers[1]!.rows.find((r) => r.host.ip === '192.168.2.60')!.viaRouterKey, 'c:23');
  assert.match(view.rule, /^home counts the line, office and lab's traffic included/);
  const emptyUp = combineSnapshots([up('a:23', 'a', snap('a', []))]);
  assert.deepEqual(emptyUp.total, traffic(0, 0, 0, 0));
  assert.equal(emptyUp.rule, "the total is this router's");
});

test('combine: upstream loops, unknown upstreams and a missing uplink row are notices, not wrong totals', () => {
  const loop = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot())], { upstreamOf: { [HOME]: OFFICE, [OFFICE]: HOME } });
  assert.deepEqual(loop.total, traffic(10500, 1050, 105, 10));
  assert.match(loop.notices[0]!, /loop \(home → office → home\)/);
  const unknown = combineSnapshots([up(OFFICE, 'office', officeSnapshot())], { upstreamOf: { [OFFICE]: 'profile home' } });
  assert.deepEqual(unknown.total, traffic(4500, 450, 45, 4));
  assert.match(unknown.notices[0]!, /office: its upstream profile home is not in this view/);
  const noRow = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot())], { upstreamOf: { [OFFICE]: HOME } });
  assert.deepEqual(noRow.total, traffic(6000, 600, 60, 6));
  assert.match(noRow.notices[0]!, /office's address on home's LAN is not known/);
});

test('combine: a login address that is a device of another router suggests the setting and changes no number', () => {
  const view = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot())], { uplinkAddressesOf: { [OFFICE]: ['192.168.1.50'] } });
  assert.deepEqual(view.total, traffic(10500, 1050, 105, 10));
  assert.equal(view.notices.length, 1);
  assert.match(view.notices[0]!, /office's address 192\.168\.1\.50 is a device of home: if office's WAN is on home's LAN, set its upstream to home/);
  const independent = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot())], { upstreamOf: { [OFFICE]: 'none' }, uplinkAddressesOf: { [OFFICE]: ['192.168.1.50'] } });
  assert.deepEqual(independent.notices, []);
  assert.equal(independent.rule, 'each router counts its own devices; the total is the sum of them');
});
