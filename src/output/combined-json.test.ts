import { test } from 'node:test';
import assert from 'node:assert/strict';
import { combineSnapshots } from '../domain/multi-router.js';
import { combinedCsv, combinedJson } from './combined-json.js';
import { snapshotJson } from './json.js';
import { CHAINED, HOME, homeSnapshot, LAPTOP_MAC, OFFICE, OFFICE_WAN_MAC, officeSnapshot, up } from '../../test/helpers/multi-router-fixtures.js';

const garageDown = { routerKey: '192.168.1.60:23', label: 'garage', snapshot: null, state: 'down' as const, reason: 'connect ECONNREFUSED 192.168.1.60:23' };

test('combined JSON: routers with their usage documents, devices across routers, one total and the rule', () => {
  const home = homeSnapshot();
  const doc = combinedJson(combineSnapshots([up(HOME, 'home', home), up(OFFICE, 'office', officeSnapshot()), garageDown], CHAINED));
  assert.deepEqual(Object.keys(doc), ['schema', 'at', 'routers', 'devices', 'total', 'rule', 'notices']);
  assert.equal(doc.schema, 1);
  assert.equal(doc.at, new Date(1_700_000_001_000).toISOString());
  assert.deepEqual(
    doc.routers.map(({ usage: _usage, ...r }) => r),
    [
      { key: HOME, label: 'home', state: 'up', upstream: null, countedBy: null, inTotal: true, totals: { downBytes: 6000, upBytes: 600, downBps: 60, upBps: 6 } },
      { key: OFFICE, label: 'office', state: 'up', upstream: HOME, countedBy: HOME, inTotal: false, totals: { downBytes: 4500, upBytes: 450, downBps: 45, upBps: 4 } },
      { key: '192.168.1.60:23', label: 'garage', state: 'down', reason: 'connect ECONNREFUSED 192.168.1.60:23', upstream: null, countedBy: null, inTotal: false, totals: { downBytes: 0, upBytes: 0, downBps: 0, upBps: 0 } },
    ],
  );
  // Each router's own document is exactly what `usage --json` prints for it.
  assert.deepEqual(doc.routers[0]!.usage, snapshotJson(home));
  assert.equal(doc.routers[2]!.usage, null);
  assert.deepEqual(doc.total, { downBytes: 6000, upBytes: 600, downBps: 60, upBps: 6 });
  assert.match(doc.rule, /^home counts the line/);
  assert.deepEqual(doc.notices, []);
  const laptop = doc.devices.find((d) => d.mac === LAPTOP_MAC)!;
  assert.deepEqual(laptop, {
    identity: LAPTOP_MAC,
    name: 'laptop',
    mac: LAPTOP_MAC,
    roaming: true,
    perRouter: [
      { router: HOME, ip: '192.168.1.10', downBytes: 1000, upBytes: 100, downBps: 10, upBps: 1, downShare: 0.1667, upShare: 0.1667, inTotal: true },
      { router: OFFICE, ip: '192.168.2.11', downBytes: 1500, upBytes: 150, downBps: 15, upBps: 1, downShare: 0.3333, upShare: 0.3333, inTotal: false },
    ],
    total: { downBytes: 2500, upBytes: 250, downBps: 25, upBps: 2 },
  });
  const uplink = doc.devices.find((d) => d.mac === OFFICE_WAN_MAC)!;
  assert.equal(uplink.via, OFFICE);
  assert.equal(uplink.perRouter[0]!.via, OFFICE);
  assert.equal(doc.devices.length, 3);
  // JSON-safe all the way (no undefined, no NaN).
  assert.deepEqual(JSON.parse(JSON.stringify(doc)), doc);
});

test('combined CSV: one row per (router, device) with the router in every row; down routers have none', () => {
  const view = combineSnapshots([up(HOME, 'home', homeSnapshot()), up(OFFICE, 'office', officeSnapshot()), garageDown], CHAINED);
  const at = new Date(1_700_000_001_000).toISOString();
  assert.equal(
    combinedCsv(view),
    [
      'at,router,ip,mac,hostname,down_bytes,up_bytes,down_bps,up_bps,down_share,up_share,counted,identity,via,in_total,router_key',
      `${at},home,192.168.1.50,${OFFICE_WAN_MAC},office-ap,5000,500,50,5,0.8333,0.8333,true,${OFFICE_WAN_MAC},office,true,${HOME}`,
      `${at},home,192.168.1.10,${LAPTOP_MAC},laptop,1000,100,10,1,0.1667,0.1667,true,${LAPTOP_MAC},,true,${HOME}`,
      `${at},office,192.168.2.10,bb:bb:bb:bb:bb:01,phone,3000,300,30,3,0.6667,0.6667,true,bb:bb:bb:bb:bb:01,,false,${OFFICE}`,
      `${at},office,192.168.2.11,${LAPTOP_MAC},laptop,1500,150,15,1,0.3333,0.3333,true,${LAPTOP_MAC},,false,${OFFICE}`,
      '',
    ].join('\n'),
  );
  assert.equal(combinedCsv(view, false).split('\n')[0]!.startsWith(at), true);
});
