import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNeverBlock, neverBlockFactsOf, parseNeverBlockList, type NeverBlockFacts } from './never-block.js';

const FACTS: NeverBlockFacts = {
  ownerAddresses: ['198.51.100.2'],
  ownerMacs: ['02:00:5e:00:00:02'],
  routerAddresses: ['198.51.100.1', '2001:db8:1::1'],
  routerMacs: ['02:00:5e:10:00:01'],
  neverBlock: ['02:00:5E:00:00:99', '198.51.100.50'],
};

test('a device of no one special may be blocked', () => {
  assert.deepEqual(checkNeverBlock({ identity: '02:00:5e:00:00:10', mac: '02:00:5e:00:00:10', addresses: ['198.51.100.10', '2001:db8:1::10'] }, FACTS), { isAllowed: true });
});

test("the owner's address or MAC is refused, with the reason", () => {
  const byAddress = checkNeverBlock({ identity: 'ip:198.51.100.2', mac: null, addresses: ['198.51.100.2'] }, FACTS);
  assert.equal(byAddress.isAllowed, false);
  assert.match(!byAddress.isAllowed ? byAddress.reason : '', /198\.51\.100\.2 is the device lantop itself connects from/);
  const byMac = checkNeverBlock({ identity: '02:00:5e:00:00:02', mac: '02:00:5E:00:00:02', addresses: [] }, FACTS);
  assert.equal(byMac.isAllowed, false);
});

test("the router's addresses and MACs are refused, IPv6 in any spelling", () => {
  const v6 = checkNeverBlock({ identity: 'ip:2001:db8:1::1', mac: null, addresses: ['2001:0db8:0001:0000:0000:0000:0000:0001'] }, FACTS);
  assert.match(!v6.isAllowed ? v6.reason : '', /router's own/);
  assert.equal(checkNeverBlock({ identity: 'x', mac: '02:00:5e:10:00:01', addresses: [] }, FACTS).isAllowed, false);
});

test('the never-block list is honoured and parsed strictly', () => {
  const hit = checkNeverBlock({ identity: 'ip:198.51.100.50', mac: null, addresses: ['198.51.100.50'] }, FACTS);
  assert.match(!hit.isAllowed ? hit.reason : '', /never-block list/);
  assert.deepEqual(parseNeverBlockList('02-00-5E-00-00-99, 198.51.100.50 2001:db8::1,,'), { macs: ['02:00:5e:00:00:99'], addresses: ['198.51.100.50', '2001:db8::1'], invalid: [] });
  assert.deepEqual(parseNeverBlockList('laptop,198.51.100.300').invalid, ['laptop', '198.51.100.300']);
});

test('the facts from the connection and the router: the owner by its local address and the MACs it has, the router with its peer', () => {
  const facts = neverBlockFactsOf({
    localAddress: '198.51.100.2',
    remoteAddress: '198.51.100.1',
    hosts: [{ mac: '02:00:5e:00:00:02', addresses: ['198.51.100.2'] }, { mac: null, addresses: ['198.51.100.2'] }, { mac: '02:00:5e:00:00:03', addresses: ['198.51.100.3'] }],
    router: { addresses: ['2001:db8:1::1'], macs: ['02:00:5e:10:00:01'] },
    neverBlock: ['198.51.100.50'],
  });
  assert.deepEqual(facts, { ownerAddresses: ['198.51.100.2'], ownerMacs: ['02:00:5e:00:00:02'], routerAddresses: ['198.51.100.1', '2001:db8:1::1'], routerMacs: ['02:00:5e:10:00:01'], neverBlock: ['198.51.100.50'] });
  // The peer is not listed twice when the router's interfaces already name it.
  assert.deepEqual(neverBlockFactsOf({ localAddress: null, remoteAddress: '198.51.100.1', hosts: [], router: { addresses: ['198.51.100.1'], macs: [] }, neverBlock: [] }).routerAddresses, ['198.51.100.1']);
});

test("an unknown owner address refuses every block: nothing would keep the owner's own device out", () => {
  const verdict = checkNeverBlock({ identity: '02:00:5e:00:00:10', mac: '02:00:5e:00:00:10', addresses: ['198.51.100.10'] }, { ...FACTS, ownerAddresses: [], ownerMacs: [] });
  assert.equal(verdict.isAllowed, false);
  assert.match(!verdict.isAllowed ? verdict.reason : '', /cannot tell which address it connects from/);
});
