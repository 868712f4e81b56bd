import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import {
  ACCOUNTING_SWITCH_COMMAND,
  ENABLE_ACCOUNTING_COMMAND,
  MAX_COMMAND_BYTES,
  connectionTableCommand,
  connectionTableCommands,
  mergeConnectionTableAnswers,
  parseAccountingSwitch,
  parseConnectionTableAnswer,
  parseReverseLookup,
  reverseLookupCommand,
} from './conntrack-commands.js';
import { readFixture } from '../../test/fixtures.js';

describe('connectionTableCommand', () => {
  test('the command the lab capture ran (fixtures/conntrack/lantop-lab/lantop-command.sh)', () => {
    assert.equal(connectionTableCommand(['198.51.100.10', '2001:db8:1::10']), readFixture('conntrack/lantop-lab/lantop-command.sh').trim());
  });

  test('patterns: expanded IPv6 for /proc, compressed for conntrack -L, a space after each address', () => {
    const c = connectionTableCommand(['2001:DB8:0001::0010']);
    assert.ok(c.includes(`-e 'src=2001:0db8:0001:0000:0000:0000:0000:0010 ' $p$s`));
    assert.ok(c.includes(`-e 'src=2001:db8:1::10 ' -e 'conntrack v'`));
    assert.ok(c.includes('conntrack -L -f ipv6') && !c.includes('-f ipv4'), 'only the families asked for');
    assert.ok(connectionTableCommand(['198.51.100.1']).includes(`'src=198.51.100.1 '`));
  });

  test('anything that is not an address is refused before it reaches a command', () => {
    for (const bad of ["198.51.100.10' ; reboot ; '", '198.51.100.10 ', '$(reboot)', '', 'fe80::1%br0', '010.0.0.1']) {
      assert.throws(() => connectionTableCommand([bad]), TypeError, bad);
      assert.throws(() => connectionTableCommands(['198.51.100.10', bad]), TypeError, bad);
    }
    assert.throws(() => connectionTableCommand([]), TypeError);
    assert.throws(() => connectionTableCommand([42 as unknown as string]), TypeError);
    assert.throws(() => reverseLookupCommand('x; reboot'), TypeError);
  });

  test('long address lists are split into commands within the line limit, none lost', () => {
    const v4 = Array.from({ length: 11 }, (_, i) => `198.51.100.${i + 100}`);
    const v6 = Array.from({ length: 5 }, (_, i) => `2001:db8:1:2:3:4:5:${(i + 1) * 1111}`);
    const commands = connectionTableCommands([...v4, ...v6]);
    assert.ok(commands.length > 1);
    for (const c of commands) assert.ok(c.length <= MAX_COMMAND_BYTES, `${c.length}`);
    for (const a of [...v4, ...v6]) assert.equal(commands.filter((c) => c.includes(`'src=${a} '`)).length, 1, a);
    assert.throws(() => connectionTableCommand([...v4, ...v6]), RangeError);
    assert.deepEqual(connectionTableCommands(['198.51.100.10', '198.51.100.10']), [connectionTableCommand(['198.51.100.10'])]);
  });

  test('only address characters and the fixed words appear in any command', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 1, maxLength: 12 }), (addresses) => {
        for (const c of connectionTableCommands(addresses)) {
          assert.ok(c.length <= MAX_COMMAND_BYTES);
          const quoted = [...c.matchAll(/'([^']*)'/g)].map((m) => m[1]!);
          for (const q of quoted) assert.match(q, /^(src=[0-9a-f:.]+ |conntrack v)$/);
        }
      }),
      { numRuns: 200 },
    );
  });

  test('runs in a POSIX shell: the lantop-ct markers and the filtered lines of a fake table', { skip: !hasShell() }, () => {
    // /proc cannot be faked, so the test runs the command's text with /proc/net/ replaced by a
    // temporary directory holding a captured table: the shell syntax and the grep patterns are real.
    const dir = mkdtempSync(join(tmpdir(), 'lantop-ct-'));
    try {
      writeFileSync(join(dir, 'nf_conntrack'), readFixture('conntrack/lantop-lab/nf_conntrack-acct-on.txt'));
      const command = connectionTableCommand(['198.51.100.10']).replace('p=/proc/net/', `p=${dir}/`);
      const out = execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 5000 });
      const answer = parseConnectionTableAnswer(out);
      assert.equal(answer.source, '/proc/net/nf_conntrack');
      assert.equal(answer.isComplete, true);
      assert.equal(answer.report.entries.length, 4, 'the IPv4 entries whose src= is the device');
      rmSync(join(dir, 'nf_conntrack'));
      const none = parseConnectionTableAnswer(execFileSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 5000, env: { PATH: '/nonexistent' } }));
      assert.equal(none.hasTable, false);
      assert.equal(none.isComplete, true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function hasShell(): boolean {
  try {
    execFileSync('/bin/sh', ['-c', 'true']);
    return true;
  } catch {
    return false;
  }
}

describe('parseConnectionTableAnswer (answers captured under BusyBox ash)', () => {
  test('/proc/net/nf_conntrack answered', () => {
    const a = parseConnectionTableAnswer(readFixture('conntrack/lantop-lab/lantop-command-acct-on.txt'));
    assert.equal(a.source, '/proc/net/nf_conntrack');
    assert.equal(a.hasTable, true);
    assert.equal(a.isComplete, true);
    assert.equal(a.report.format, 'nf_conntrack');
    assert.equal(a.report.entries.length, 6);
    assert.equal(a.report.hasAccounting, true);
    const off = parseConnectionTableAnswer(readFixture('conntrack/lantop-lab/lantop-command-acct-off.txt'));
    assert.equal(off.report.hasAccounting, false);
    assert.equal(off.report.entries.length, 6);
  });

  test('conntrack -L answered (procfs hidden): the summary lines are not odd lines', () => {
    const a = parseConnectionTableAnswer(readFixture('conntrack/lantop-lab/lantop-command-conntrack-acct-on.txt'));
    assert.equal(a.source, 'conntrack -L');
    assert.equal(a.report.format, 'conntrack-tools');
    assert.equal(a.report.entries.length, 6);
    assert.deepEqual(a.report.skipped, []);
  });

  test('no table at all is not "no connections"', () => {
    const none = parseConnectionTableAnswer(readFixture('conntrack/lantop-lab/lantop-command-none-acct-on.txt'));
    assert.deepEqual([none.source, none.hasTable, none.isComplete, none.report.entries.length], [null, false, true, 0]);
    const empty = parseConnectionTableAnswer('@@lantop-ct:nf_conntrack\n@@lantop-ct:end\n');
    assert.deepEqual([empty.source, empty.hasTable, empty.isComplete, empty.report.hasAccounting], ['/proc/net/nf_conntrack', true, true, null]);
  });

  test('an echoed command, a cut-off reply, a refusal', () => {
    const command = connectionTableCommand(['198.51.100.10']);
    const echoed = parseConnectionTableAnswer(`${command}\n@@lantop-ct:conntrack\nconntrack v1.4.6 (conntrack-tools): Operation failed: Operation not permitted\n@@lantop-ct:end\n# `);
    assert.equal(echoed.source, 'conntrack -L');
    assert.equal(echoed.report.entries.length, 0);
    assert.equal(echoed.report.skipped.length, 1, 'the refusal is kept for the notes');
    const cut = parseConnectionTableAnswer(readFixture('conntrack/lantop-lab/lantop-command-acct-on.txt').split('\n').slice(0, 3).join('\n'));
    assert.equal(cut.isComplete, false);
    assert.equal(cut.report.entries.length, 2);
    assert.equal(parseConnectionTableAnswer('sh: syntax error').hasTable, false);
  });

  test('answers of split commands merge', () => {
    const a = parseConnectionTableAnswer(readFixture('conntrack/lantop-lab/lantop-command-acct-on.txt'));
    const b = parseConnectionTableAnswer('@@lantop-ct:nf_conntrack\n@@lantop-ct:end');
    const m = mergeConnectionTableAnswers([a, b]);
    assert.equal(m.report.entries.length, 6);
    assert.equal(m.isComplete, true);
    assert.equal(m.report.hasAccounting, true);
    assert.equal(mergeConnectionTableAnswers([a, parseConnectionTableAnswer('@@lantop-ct:nf_conntrack')]).isComplete, false);
  });
});

describe('accounting switch', () => {
  test('commands', () => {
    assert.equal(ACCOUNTING_SWITCH_COMMAND, 'cat /proc/sys/net/netfilter/nf_conntrack_acct');
    assert.equal(ENABLE_ACCOUNTING_COMMAND, 'echo 1 > /proc/sys/net/netfilter/nf_conntrack_acct');
  });
  test('parseAccountingSwitch', () => {
    assert.equal(parseAccountingSwitch(readFixture('conntrack/lantop-lab/nf_conntrack_acct-off.txt')), false);
    assert.equal(parseAccountingSwitch('1\n'), true);
    assert.equal(parseAccountingSwitch('\r\n1\r\n'), true);
    assert.equal(parseAccountingSwitch('cat: can\'t open \'/proc/sys/net/netfilter/nf_conntrack_acct\': No such file or directory'), null);
    assert.equal(parseAccountingSwitch(''), null);
    assert.equal(parseAccountingSwitch('1\n0\n'), null);
  });
});

describe('reverse lookup', () => {
  test('the command', () => {
    const c = reverseLookupCommand('2001:DB8::10');
    assert.ok(c.includes('nslookup 2001:db8::10 2>/dev/null'));
    assert.ok(c.includes('timeout 2 ') && c.includes('timeout -t 2 '));
  });

  // Output shapes from BusyBox networking/nslookup.c (mirror/busybox 371fe9f: the 1.28+ resolver's
  // "%s\tname = %s\n" and "** server can't find %s: %s"; the libc-resolver version's
  // "%-10s %s\n" Name line and "Address %u: %s %s" lines).
  test('BusyBox 1.28+ answer', () => {
    const text = 'Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:53\n\n10.100.51.198.in-addr.arpa\tname = laptop.lan\n';
    assert.equal(parseReverseLookup(text), 'laptop.lan');
    assert.equal(parseReverseLookup(text, '198.51.100.10'), 'laptop.lan');
    assert.equal(parseReverseLookup(text, '198.51.100.11'), null, 'an answer for another address');
    const v6 = `Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:53\n\n${[...'20010db8000000000000000000000010'].reverse().join('.')}.ip6.arpa\tname = phone.lan\n`;
    assert.equal(parseReverseLookup(v6, '2001:db8::10'), 'phone.lan');
    assert.equal(parseReverseLookup("Server:\t\t127.0.0.1\nAddress:\t127.0.0.1:53\n\n** server can't find 10.100.51.198.in-addr.arpa: NXDOMAIN\n"), null);
  });

  test('older BusyBox answer: the Server block does not count', () => {
    const text = 'Server:    127.0.0.1\nAddress 1: 127.0.0.1 localhost\n\nName:      198.51.100.10\nAddress 1: 198.51.100.10 laptop.lan\n';
    assert.equal(parseReverseLookup(text, '198.51.100.10'), 'laptop.lan');
    assert.equal(parseReverseLookup('Server:    127.0.0.1\nAddress 1: 127.0.0.1 localhost\n\nName:      198.51.100.10\nAddress 1: 198.51.100.10\n'), null);
  });

  test('hostile names are refused', () => {
    assert.equal(parseReverseLookup('10.100.51.198.in-addr.arpa\tname = \u001b[31mevil\n'), null);
    assert.equal(parseReverseLookup('10.100.51.198.in-addr.arpa\tname = a;reboot\n'), null);
    assert.equal(parseReverseLookup('10.100.51.198.in-addr.arpa\tname = host.example.\n'), 'host.example');
    fc.assert(fc.property(fc.string({ maxLength: 300 }), (t) => {
      const name = parseReverseLookup(t);
      assert.ok(name === null || /^[a-z0-9_.-]+$/.test(name));
    }));
  });
});
