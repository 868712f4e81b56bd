import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { defaultRouteInterface, parseRouteTable } from './route-table.js';

const ROUTER = `Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT
ppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0
br0\t0064A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0
ppp0\t017100CB\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0
`;

test('the default route names the WAN interface', () => {
  assert.equal(defaultRouteInterface(ROUTER), 'ppp0');
  assert.equal(parseRouteTable(ROUTER).length, 3);
});

test('lowest metric wins; down routes and hostile interface names are ignored', () => {
  const text = `Iface Destination Gateway Flags RefCnt Use Metric Mask MTU Window IRTT
eth1 00000000 0101A8C0 0002 0 0 5 00000000 0 0 0
eth0 00000000 0101A8C0 0003 0 0 10 00000000 0 0 0
wan;reboot 00000000 0101A8C0 0003 0 0 0 00000000 0 0 0
`;
  assert.equal(defaultRouteInterface(text), 'eth0');
  assert.equal(defaultRouteInterface('cat: /proc/net/route: No such file'), null);
});

test('never throws on arbitrary text', () => {
  fc.assert(fc.property(fc.string(), (s) => {
    parseRouteTable(s);
    defaultRouteInterface(s);
  }));
});
