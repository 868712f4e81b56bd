import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseIptablesListing } from './iptables-listing.js';
import { readFixture } from '../../../test/fixtures.js';

function traffic(text: string) {
  const listing = parseIptablesListing(text);
  const chain = listing.chains.find((c) => c.name === 'TRAFFIC');
  assert.ok(chain, 'TRAFFIC chain parsed');
  return { listing, chain };
}

describe('iptables 1.8.9 real captures (legacy and nf_tables)', () => {
  for (const backend of ['legacy', 'nft']) {
    test(`${backend}: -L TRAFFIC -v -x -n reads every column for what it is`, () => {
      const { listing, chain } = traffic(readFixture(`iptables/1.8.9-${backend}/iptables-L-TRAFFIC-v-x-n.txt`));
      assert.deepEqual(listing.errors, []);
      assert.deepEqual(listing.skipped, []);
      assert.equal(chain.references, 1);
      assert.equal(chain.policy, null);
      assert.equal(chain.rules.length, 14);
      const [down, up, tagged, , commentFirst, notLan, udp, gre, frag, longTarget, , huge] = chain.rules;
      // Accounting rule: empty target column, prot printed as "0" by 1.8.9 with -n.
      assert.equal(down!.target, null);
      assert.equal(down!.prot, '0');
      assert.equal(down!.opt, '--');
      assert.equal(down!.in, 'ppp0');
      assert.equal(down!.out, '*');
      assert.equal(down!.source, '0.0.0.0/0');
      assert.equal(down!.destination, '198.51.100.10');
      assert.ok(down!.pkts > 0 && down!.bytes > down!.pkts, 'real pings were counted');
      assert.equal(down!.isExact, true);
      assert.equal(up!.source, '198.51.100.10');
      assert.equal(up!.out, 'ppp0');
      assert.equal(tagged!.comment, 'lantop');
      assert.equal(tagged!.extra, '');
      assert.equal(commentFirst!.comment, 'comment first');
      assert.equal(commentFirst!.extra, 'tcp dpt:443');
      assert.equal(commentFirst!.prot, '6');
      assert.equal(notLan!.source, '!198.51.100.0/24');
      assert.equal(notLan!.comment, 'not from lan');
      assert.equal(udp!.destination, '!198.51.100.12');
      assert.equal(udp!.prot, '17');
      assert.equal(gre!.in, '!ppp0');
      assert.equal(gre!.prot, '47');
      assert.equal(frag!.target, 'RETURN');
      assert.equal(frag!.opt, '-f');
      assert.equal(longTarget!.target, 'LANTOP_A_VERY_LONG_CHAIN');
      assert.equal(longTarget!.destination, '198.51.100.13');
      // Counters set with -c: far above 2^32 and still exact.
      assert.equal(huge!.pkts, 4294967296);
      assert.equal(huge!.bytes, 5000000000000);
      assert.equal(huge!.isExact, true);
    });

    test(`${backend}: --line-numbers`, () => {
      const { chain } = traffic(readFixture(`iptables/1.8.9-${backend}/iptables-L-TRAFFIC-v-x-n-line-numbers.txt`));
      assert.deepEqual(chain.rules.map((r) => r.num), Array.from({ length: 14 }, (_, i) => i + 1));
      assert.equal(chain.rules[9]!.target, 'LANTOP_A_VERY_LONG_CHAIN');
      assert.equal(chain.rules[0]!.target, null);
    });

    test(`${backend}: without -x counters carry K/M/G suffixes and are marked inexact`, () => {
      const exact = traffic(readFixture(`iptables/1.8.9-${backend}/iptables-L-TRAFFIC-v-x-n.txt`)).chain;
      const { chain } = traffic(readFixture(`iptables/1.8.9-${backend}/iptables-L-TRAFFIC-v-n.txt`));
      assert.equal(chain.rules.length, exact.rules.length);
      const big = chain.rules[11]!; // "4295M 5000G"
      assert.equal(big.pkts, 4295e6);
      assert.equal(big.bytes, 5000e9);
      assert.equal(big.isExact, false);
      const k = chain.rules[10]!; // " 123K   99M"
      assert.equal(k.pkts, 123e3);
      assert.equal(k.bytes, 99e6);
      assert.equal(k.isExact, false);
      const small = chain.rules[12]!; // "99999 99999": below the scaling threshold, exact
      assert.equal(small.pkts, 99999);
      assert.equal(small.isExact, true);
      // The approximation is within iptables' rounding (half a unit) of the exact value.
      for (const [i, rule] of chain.rules.entries()) {
        const truth = exact.rules[i]!;
        const unit = rule.isExact ? 0 : truth.bytes >= 1e13 ? 1e12 : truth.bytes >= 1e10 ? 1e9 : truth.bytes >= 1e7 ? 1e6 : 1e3;
        assert.ok(Math.abs(rule.bytes - truth.bytes) <= unit / 2, `rule ${i}: ${rule.bytes} vs ${truth.bytes}`);
        assert.equal(rule.target, truth.target);
        assert.equal(rule.destination, truth.destination);
      }
    });

    test(`${backend}: -L -v -x -n lists every chain with policies and policy counters`, () => {
      const listing = parseIptablesListing(readFixture(`iptables/1.8.9-${backend}/iptables-L-v-x-n.txt`));
      assert.deepEqual(listing.chains.map((c) => c.name), ['INPUT', 'FORWARD', 'OUTPUT', 'LANTOP_A_VERY_LONG_CHAIN', 'TRAFFIC']);
      const forward = listing.chains[1]!;
      assert.equal(forward.policy, 'ACCEPT');
      assert.equal(forward.references, null);
      const printed = /Chain FORWARD \(policy ACCEPT (\d+) packets, (\d+) bytes\)/.exec(readFixture(`iptables/1.8.9-${backend}/iptables-L-v-x-n.txt`));
      assert.ok(printed);
      assert.equal(forward.policyPkts, Number(printed[1]));
      assert.equal(forward.policyBytes, Number(printed[2]));
      assert.equal(forward.rules[0]!.target, 'TRAFFIC');
      assert.equal(forward.rules[1]!.extra, 'ctstate RELATED,ESTABLISHED');
      assert.equal(listing.chains[3]!.rules.length, 0);
    });

    test(`${backend}: plain -L TRAFFIC -n (no counters, no in/out)`, () => {
      const { chain } = traffic(readFixture(`iptables/1.8.9-${backend}/iptables-L-TRAFFIC-n.txt`));
      assert.equal(chain.rules.length, 14);
      assert.equal(chain.rules[0]!.target, null);
      assert.equal(chain.rules[0]!.destination, '198.51.100.10');
      assert.equal(chain.rules[5]!.source, '!198.51.100.0/24');
      assert.equal(chain.rules[8]!.target, 'RETURN');
      assert.equal(chain.rules[0]!.in, '*');
    });

    test(`${backend}: ip6tables listing`, () => {
      const listing = parseIptablesListing(readFixture(`iptables/1.8.9-${backend}/ip6tables-L-v-x-n.txt`));
      assert.equal(listing.chains.length, 3);
      assert.deepEqual(listing.skipped, []);
    });

    test(`${backend}: error text is an error, not an empty listing`, () => {
      const listing = parseIptablesListing('iptables: No chain/target/match by that name.\n');
      assert.deepEqual(listing.chains, []);
      assert.deepEqual(listing.errors, ['iptables: No chain/target/match by that name.']);
    });
  }

  test('nft: the "# Warning: iptables-legacy tables present" line is a warning', () => {
    const { listing, chain } = traffic(readFixture('iptables/1.8.9-nft/iptables-L-TRAFFIC-v-x-n-with-legacy-warning.txt'));
    assert.deepEqual(listing.warnings, ['# Warning: iptables-legacy tables present, use iptables-legacy to see them']);
    assert.equal(chain.rules.length, 14);
    assert.deepEqual(listing.skipped, []);
  });

  test('nft: a chain iptables-nft cannot show is an error', () => {
    const listing = parseIptablesListing(readFixture('iptables/1.8.9-nft/iptables-errors.txt'));
    assert.ok(listing.errors.some((e) => e.includes("is incompatible, use 'nft' tool")));
  });
});

describe('older iptables layouts', () => {
  test('1.4.21 (Broadcom): prot "all", comment with trailing blank, negated prot glued', () => {
    const { chain } = traffic(readFixture('iptables/1.4.21-broadcom/iptables-L-TRAFFIC-v-x-n.txt'));
    assert.equal(chain.rules.length, 7);
    assert.equal(chain.rules[0]!.prot, 'all');
    assert.equal(chain.rules[0]!.target, null);
    assert.equal(chain.rules[2]!.comment, 'lantop');
    assert.equal(chain.rules[2]!.bytes, 3100000000);
    assert.equal(chain.rules[4]!.prot, '!tcp');
    assert.equal(chain.rules[4]!.destination, '!198.51.100.4');
    assert.equal(chain.rules[6]!.bytes, 4800000000000);
  });

  test('1.4.21: K/M/G with line numbers', () => {
    const { chain } = traffic(readFixture('iptables/1.4.21-broadcom/iptables-L-TRAFFIC-v-n-line-numbers.txt'));
    assert.deepEqual(chain.rules.map((r) => [r.num, r.pkts, r.bytes, r.isExact]), [
      [1, 8123, 10e6, false],
      [2, 5120, 612e3, false],
      [3, 2300e3, 3100e6, false],
      [4, 1900e3, 250e6, false],
      [5, 0, 0, true],
      [6, 12, 720, true],
      [7, 3500e6, 4800e9, false],
    ]);
    assert.ok(chain.rules.slice(0, 5).every((r) => r.target === null));
  });

  test('console noise: echo, interleaved daemon log lines and prompt are skipped, not rules', () => {
    const clean = traffic(readFixture('iptables/1.4.21-broadcom/iptables-L-TRAFFIC-v-x-n.txt')).chain;
    const { listing, chain } = traffic(readFixture('iptables/1.4.21-broadcom/iptables-L-TRAFFIC-v-x-n-console-noise.txt'));
    assert.deepEqual(chain.rules, clean.rules);
    assert.deepEqual(listing.skipped.map((s) => s.trim()), [
      'iptables -L TRAFFIC -v -x -n',
      'br0: port 2(eth1) entering forwarding state',
      '[  812.345000] ADSL G.994 training',
      'ppp0: LCP echo reply timeout',
      '>',
    ]);
  });

  test('1.3.8: no blank line between chains, policy counters', () => {
    const listing = parseIptablesListing(readFixture('iptables/1.3.8-broadcom/iptables-L-v-x-n.txt'));
    assert.deepEqual(listing.chains.map((c) => [c.name, c.rules.length]), [['FORWARD', 2], ['TRAFFIC', 4]]);
    assert.equal(listing.chains[0]!.policyPkts, 123456);
    assert.equal(listing.chains[0]!.policyBytes, 98765432);
    assert.equal(listing.chains[0]!.rules[1]!.extra, 'state RELATED,ESTABLISHED');
  });

  test('1.6.1 with line numbers', () => {
    const { chain } = traffic(readFixture('iptables/1.6.1/iptables-L-TRAFFIC-v-x-n-line-numbers.txt'));
    assert.equal(chain.rules.length, 7);
    assert.equal(chain.rules[5]!.target, 'RETURN');
    assert.equal(chain.rules[5]!.num, 6);
  });

  test('published 1.8.x (pre-1.8.9) output: "all"/"udp" names, suffixes, policy in M', () => {
    const listing = parseIptablesListing(readFixture('iptables/published/lxd-issue-8648.txt'));
    const input = listing.chains[0]!;
    assert.equal(input.policyPkts, 12e6);
    assert.equal(input.rules[2]!.pkts, 2061e6);
    assert.equal(input.rules[2]!.bytes, 198e9);
    assert.equal(input.rules[2]!.prot, 'all');
    assert.equal(input.rules[0]!.extra, 'udp dpt:1701 policy match dir in pol none');
    assert.equal(listing.chains[1]!.rules[1]!.out, 'ppp+');
  });

  test('ip6tables without an opt column value (old ip6tables prints it blank)', () => {
    const text = [
      'Chain TRAFFIC (1 references)',
      '    pkts      bytes target     prot opt in     out     source               destination         ',
      '      10     1200            all      ppp0   *       ::/0                 2001:db8::10        ',
      '       5      600 ACCEPT     tcp      *      ppp0    2001:db8::10         ::/0                 tcp dpt:22',
    ].join('\n');
    const { chain } = traffic(text);
    assert.equal(chain.rules.length, 2);
    assert.equal(chain.rules[0]!.target, null);
    assert.equal(chain.rules[0]!.opt, '');
    assert.equal(chain.rules[0]!.in, 'ppp0');
    assert.equal(chain.rules[0]!.destination, '2001:db8::10');
    assert.equal(chain.rules[1]!.target, 'ACCEPT');
    assert.equal(chain.rules[1]!.extra, 'tcp dpt:22');
  });

  test('a transport that trimmed leading blanks still gives empty targets (shape check)', () => {
    const text = readFixture('iptables/1.8.9-legacy/iptables-L-TRAFFIC-n.txt')
      .split('\n')
      .map((l) => l.trimStart())
      .join('\n');
    const { chain } = traffic(text);
    assert.equal(chain.rules[0]!.target, null);
    assert.equal(chain.rules[0]!.prot, '0');
    assert.equal(chain.rules[8]!.target, 'RETURN');
  });

  test('a truncated last line is skipped, earlier rules kept', () => {
    const full = readFixture('iptables/1.8.9-legacy/iptables-L-TRAFFIC-v-x-n.txt');
    const cut = full.slice(0, full.indexOf('198.51.100.11') + 3);
    const { listing, chain } = traffic(cut);
    assert.equal(chain.rules.length, 2);
    assert.equal(listing.skipped.length, 1);
  });

  test('odd input never throws', () => {
    for (const input of ['', '\n\n', 'Chain', 'Chain X (', '    pkts bytes', '\u0000\u001b[2J', 'Chain A (1 references)\n1 2 3']) {
      const listing = parseIptablesListing(input);
      assert.ok(Array.isArray(listing.chains));
    }
    // @ts-expect-error: hostile callers
    assert.deepEqual(parseIptablesListing(undefined).chains, []);
  });
});

describe('one pass over the text by index (issue 21): the same records as line by line', () => {
  const head = 'Chain TRAFFIC (1 references)\n    pkts      bytes target     prot opt in     out     source               destination         \n';
  const row = (source: string, destination: string, tail = '') => `       3     3084            0    --  ppp0   *       ${source.padEnd(20)} ${destination.padEnd(20)}${tail}`;

  test('\\r\\n, a lone \\r and \\n end lines alike', () => {
    const text = readFixture('iptables/1.8.9-legacy/iptables-L-v-x-n.txt');
    const expected = parseIptablesListing(text);
    assert.deepEqual(parseIptablesListing(text.replace(/\n/g, '\r\n')), expected);
    assert.deepEqual(parseIptablesListing(text.replace(/\n/g, '\r')), expected);
    let k = 0;
    assert.deepEqual(parseIptablesListing(text.replace(/\n/g, () => ['\n', '\r\n', '\r', '\r\n\n'][k++ % 4]!)), expected);
  });

  test('a line is trimmed exactly as String.prototype.trim would, for every code unit', () => {
    for (let code = 0; code <= 0xffff; code++) {
      const c = String.fromCharCode(code);
      const { chain, listing } = traffic(`${head}${row('0.0.0.0/0', '198.51.100.10', c)}\n${c}${c}\n`);
      if (c.trim() === '') {
        assert.equal(chain.rules[0]?.extra, '', `U+${code.toString(16)}`);
        assert.deepEqual(listing.skipped, [], `U+${code.toString(16)}`);
      } else {
        assert.equal(chain.rules[0]?.extra, c, `U+${code.toString(16)}`);
        assert.deepEqual(listing.skipped, [c + c], `U+${code.toString(16)}`);
      }
    }
  });

  test('comment shapes: alone, empty, with matches around, unclosed, or holding a line separator', () => {
    const cases: Array<[string, string | null, string]> = [
      ['/* lantop */', 'lantop', ''],
      ['/*  */', '', ''],
      ['/* lantop */\t ', 'lantop', ''],
      ['/* a */ */', 'a', '*/'],
      ['/* a */   /* b */', 'a', '/* b */'],
      ['tcp dpt:22 /* x */', 'x', 'tcp dpt:22'],
      ['/* x */ tcp  dpt:22', 'x', 'tcp dpt:22'],
      ['/*x */', null, '/*x */'],
      ['/* x*/', null, '/* x*/'],
      ['/* a\u2028b */', null, '/* a\u2028b */'],
      ['/* café ☕ */', 'café ☕', ''],
    ];
    for (const [tail, comment, extra] of cases) {
      const rule = traffic(head + row('0.0.0.0/0', '198.51.100.10', tail)).chain.rules[0];
      assert.deepEqual([rule?.comment, rule?.extra], [comment, extra], tail);
    }
  });

  test('address columns: /len and /mask forms are read, near misses make the line skipped', () => {
    const { chain } = traffic(head + [row('10.0.0.0/255.0.0.0', '!198.51.100.0/24'), row('::/0', 'anywhere')].join('\n'));
    assert.deepEqual(chain.rules.map((r) => [r.source, r.destination]), [['10.0.0.0/255.0.0.0', '!198.51.100.0/24'], ['::/0', 'anywhere']]);
    for (const bad of ['1.2.3.4/123', '1.2.3.4/', '1111.2.3.4', '1.2.3.4/1.2.3']) {
      const { listing } = traffic(head + row(bad, '198.51.100.10'));
      assert.equal(listing.skipped.length, 1, bad);
    }
  });

  test('a short listing after a long one reads only its own text', () => {
    const short = `${head}${row('0.0.0.0/0', '198.51.100.10')}\r`;
    const expected = parseIptablesListing(short);
    parseIptablesListing(head + Array.from({ length: 2000 }, () => row('0.0.0.0/0', '198.51.100.99', '\n')).join(''));
    assert.deepEqual(parseIptablesListing(short), expected);
    assert.equal(expected.chains[0]!.rules.length, 1);
  });
});
