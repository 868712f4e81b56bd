// The built package entry (dist/index.js) exposes the library API named in issue 5.
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('the package entry exports the pure parsers and the planner', async () => {
  const lib = await import('lantop');
  for (const name of ['parseArpTable', 'parseLanHosts', 'parseDhcpLeases', 'parseIptablesListing', 'discoverHosts', 'detectFirmware', 'planSetup', 'readHostCounters', 'Accountant', 'sanitizeText']) {
    assert.equal(typeof (lib as Record<string, unknown>)[name], 'function', name);
  }
  const listing = lib.parseIptablesListing('Chain TRAFFIC (1 references)\n    pkts      bytes target     prot opt in     out     source               destination\n       3      180            all  --  ppp0   *       0.0.0.0/0            198.51.100.10\n');
  assert.equal(listing.chains[0]?.rules[0]?.bytes, 180);
  assert.equal(listing.chains[0]?.rules[0]?.destination, '198.51.100.10');
});
