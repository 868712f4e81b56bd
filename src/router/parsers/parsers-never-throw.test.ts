// Property tests: no parser throws, whatever the router sends — random text, control bytes,
// or any prefix of a real capture (a connection that dropped mid-output).
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { parseArpTableReport } from './arp-table.js';
import { parseIpv6NeighboursReport } from './ipv6-neighbours.js';
import { parseLanHostsReport } from './lan-hosts.js';
import { parseDhcpLeasesReport } from './dhcp-leases.js';
import { parseIptablesListing } from './iptables-listing.js';
import { classifyRouterOutput } from './router-errors.js';
import { detectFirmware } from '../firmware/detect-firmware.js';
import { parseConntrack } from './conntrack.js';
import { readNetDev } from './net-dev.js';
import { parseConnectionTableAnswer, parseReverseLookup, parseAccountingSwitch } from '../conntrack-commands.js';
import { parseOffloadAnswers } from '../offload-probes.js';
import { parseWanAnswer } from '../wan-commands.js';
import { readFixture } from '../../../test/fixtures.js';

const parsers: Array<[string, (text: string) => unknown]> = [
  ['parseArpTableReport', parseArpTableReport],
  ['parseIpv6NeighboursReport', parseIpv6NeighboursReport],
  ['parseLanHostsReport', parseLanHostsReport],
  ['parseDhcpLeasesReport', (t) => parseDhcpLeasesReport(t, { nowSeconds: 1_700_000_000 })],
  ['parseIptablesListing', parseIptablesListing],
  ['classifyRouterOutput', classifyRouterOutput],
  // Issue 19: the connection table, the WAN counters, the fast-path probes.
  ['parseConntrack', parseConntrack],
  ['parseConnectionTableAnswer', parseConnectionTableAnswer],
  ['parseAccountingSwitch', parseAccountingSwitch],
  ['parseReverseLookup', (t) => parseReverseLookup(t, '203.0.113.1')],
  ['readNetDev', readNetDev],
  ['parseWanAnswer', (t) => parseWanAnswer(t, 'ppp0', 0)],
  ['parseOffloadAnswers', (t) => parseOffloadAnswers(t, 0)],
  ['detectFirmware', (t) => {
    const ids = ['release', 'commands', 'iptables-version', 'iptables-comment', 'nvram-dd-board', 'proc-net-arp', 'lease-files', 'leases'] as const;
    const answers = [...ids.map((id) => ({ id, command: id, where: 'shell' as const, output: t })), ...(['help', 'iptables-version', 'arp-show', 'lanhosts'] as const).map((id) => ({ id, command: id, where: 'cli' as const, output: t }))];
    detectFirmware({ loginMode: 'cli', shellRoute: { enter: 'sh', exit: 'exit' }, shellEntriesTried: ['sh'], answers });
    return detectFirmware({ loginMode: 'shell', shellRoute: null, shellEntriesTried: [], answers });
  }],
];

const captures = [
  'iptables/1.8.9-legacy/iptables-L-v-x-n.txt',
  'iptables/1.8.9-nft/iptables-L-TRAFFIC-v-n.txt',
  'iptables/1.4.21-broadcom/iptables-L-TRAFFIC-v-x-n-console-noise.txt',
  'generic-linux/debian-12/ip-s-neigh.txt',
  'generic-linux/debian-12/arp-n.txt',
  'busybox/1.35.0/busybox-ip-6-neigh.txt',
  'iptables/1.8.9-nft/dual-stack-read.txt',
  'busybox/1.35.0/dumpleases.txt',
  'dnsmasq/2.90/dhcp.leases',
  'isc-dhcpd/4.4/dhcpd.leases',
  'broadcom-cli/cms-cli-lanhosts/lanhosts-show-all.txt',
  'conntrack/openwrt-luci-5909/proc-net-nf_conntrack.txt',
  'conntrack/vuurmuur-ip-conntrack/ip_conntrack.txt',
  'conntrack/lantop-lab/lantop-command-acct-on.txt',
].map(readFixture);

// Characters that matter to these parsers, so random text often looks almost right.
const nearMiss = fc.string({
  unit: fc.constantFrom(...'0123456789abcdef:./- \t\n*!()[]<>#Chainpolicy referencesK M G lease{};"\\\r\u0000\u001b'.split('')),
  maxLength: 400,
});

describe('no parser throws', () => {
  for (const [name, parse] of parsers) {
    test(`${name}: random unicode and near-miss text`, () => {
      fc.assert(fc.property(fc.oneof(fc.string({ unit: 'binary', maxLength: 300 }), nearMiss), (text) => void parse(text)), { numRuns: 300 });
    });
    test(`${name}: every truncation and splice of real captures`, () => {
      fc.assert(
        fc.property(fc.constantFrom(...captures), fc.nat(), fc.nat(), (capture, a, b) => {
          const cut = capture.slice(0, a % (capture.length + 1));
          void parse(cut);
          void parse(capture.slice(b % (capture.length + 1)));
          void parse(cut + capture.slice(b % (capture.length + 1)));
        }),
        { numRuns: 200 },
      );
    });
  }

  test('non-string input is tolerated', () => {
    for (const [, parse] of parsers) {
      // @ts-expect-error: hostile callers
      assert.doesNotThrow(() => parse(undefined));
    }
  });

  test('a 10,000-rule listing parses completely (linear; speed is measured in bench, not here)', () => {
    const header = 'Chain TRAFFIC (1 references)\n    pkts      bytes target     prot opt in     out     source               destination         \n';
    const lines: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const ip = `198.51.${100 + Math.floor(i / 250)}.${(i % 250) + 1}`;
      lines.push(`${String(i * 7).padStart(8)} ${String(i * 7000).padStart(8)}            0    --  ppp0   *       0.0.0.0/0            ${ip.padEnd(19)} `);
    }
    const listing = parseIptablesListing(header + lines.join('\n') + '\n');
    assert.equal(listing.chains[0]!.rules.length, 10_000);
    assert.equal(listing.chains[0]!.rules[9_999]!.bytes, 9_999 * 7000);
  });
});
