// Which counting backend users mode gets (issue 18), chosen as devices mode chooses its backend:
// iptables in the shell unless the gateway is nftables-only, else nft; neither: an error saying so.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { firmwareForOverride } from '../router/firmware/families.js';
import { RouterError } from '../errors.js';
import { usersBackendFor } from './users-poller-for.js';

describe('usersBackendFor', () => {
  test('a gateway with iptables: iptables; OpenWrt fw4 (nftables-only): nft', () => {
    const linux = firmwareForOverride('generic-linux');
    assert.equal(usersBackendFor(linux, 22).kind, 'iptables');
    const fw4 = firmwareForOverride('openwrt-fw4');
    assert.equal(usersBackendFor(fw4, 22).kind, 'nftables');
    assert.deepEqual(usersBackendFor(fw4, 22).listingParts(), [{ section: 'nft', command: 'nft -a list table inet lantop_users 2>&1' }]);
  });

  test('iptables and nft with the profile saying nftables-only: nft; nft alone: nft; neither: a RouterError', () => {
    const both = firmwareForOverride('generic-linux');
    both.commands.nft = { command: 'nft', where: 'shell' };
    both.capabilities.nftOnly = true;
    assert.equal(usersBackendFor(both, 22).kind, 'nftables');
    both.capabilities.nftOnly = false;
    assert.equal(usersBackendFor(both, 22).kind, 'iptables');
    both.commands.iptables = null;
    assert.equal(usersBackendFor(both, 22).kind, 'nftables');
    both.commands.nft = null;
    assert.throws(() => usersBackendFor(both, 22), RouterError);
  });
});
