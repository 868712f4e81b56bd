// The emulated iptables' mac and time matches (what lantop's block rules use) against a real
// iptables-legacy 1.8.9 capture (fixtures/blocking/iptables-1.8.9-mac-time.txt), byte for byte, and
// their traversal: the MAC matches only the frames of that host, the time match ends at --datestop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../test/fixtures.js';
import { createIptablesState, parseIpv4, runIptables, traversePackets } from './iptables.js';
import { splitShellWords } from './shell-words.js';

interface Step {
  command: string;
  output: string;
  status: number;
}

function steps(text: string): Step[] {
  const out: Step[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# ')) continue;
    if (line.startsWith('$ ')) out.push({ command: line.slice(2), output: '', status: 0 });
    else if (/^rc \d+$/.test(line)) out[out.length - 1]!.status = Number(line.slice(3));
    else if (out.length > 0) out[out.length - 1]!.output += `${line}\n`;
  }
  return out;
}

test('mac and time: every command of the capture answers as iptables-legacy 1.8.9 did', () => {
  const state = createIptablesState('1.8.9-legacy');
  const script = steps(readFixture('blocking/iptables-1.8.9-mac-time.txt'));
  assert.equal(script.length, 11);
  for (const step of script) {
    const r = runIptables(state, splitShellWords(step.command.replace(/^iptables /, '')).words);
    assert.equal((r.stdout + r.stderr).trimEnd(), step.output.trimEnd(), step.command);
    assert.equal(r.status, step.status, step.command);
  }
  assert.equal(state.tables.get('filter')!.chains.find((c) => c.name === 'LANTOP_BLOCK')!.rules.length, 2, '-D by spec matched the MAC in any case');
});

test('1.4.21 prints the MAC in upper case (libxt_mac print_mac "%02X")', () => {
  const state = createIptablesState('1.4.21');
  runIptables(state, ['-N', 'B']);
  runIptables(state, ['-A', 'B', '-m', 'mac', '--mac-source', '02:ab:cd:00:00:0f', '-j', 'DROP']);
  assert.equal(runIptables(state, ['-S', 'B']).stdout, '-N B\n-A B -m mac --mac-source 02:AB:CD:00:00:0F -j DROP\n');
});

test('traversal: the MAC drops only that host\'s frames, the time match ends at --datestop', () => {
  const state = createIptablesState('1.8.9-legacy');
  for (const line of ['-N LANTOP_BLOCK', '-I FORWARD 1 -j LANTOP_BLOCK', '-A LANTOP_BLOCK -m mac --mac-source 02:00:5e:00:00:10 -m time --datestop 2026-12-02T22:00:00 -j DROP', '-A LANTOP_BLOCK -d 198.51.100.10 -m time --datestop 2026-12-02T22:00:00 -j DROP']) {
    assert.equal(runIptables(state, splitShellWords(line).words).status, 0, line);
  }
  const stop = Date.UTC(2026, 11, 2, 22);
  const up = (mac: string, nowMs: number) => traversePackets(state, 'FORWARD', { inInterface: 'br0', outInterface: 'ppp0', source: parseIpv4('198.51.100.10')!, destination: parseIpv4('203.0.113.1')!, protocol: 6, packets: 1, bytes: 60, sourceMac: mac, nowMs });
  const down = (nowMs: number) => traversePackets(state, 'FORWARD', { inInterface: 'ppp0', outInterface: 'br0', source: parseIpv4('203.0.113.1')!, destination: parseIpv4('198.51.100.10')!, protocol: 6, packets: 1, bytes: 60, nowMs });
  assert.equal(up('02:00:5e:00:00:10', stop - 1000), 'DROP');
  assert.equal(up('02:00:5e:00:00:11', stop - 1000), 'ACCEPT');
  assert.equal(down(stop), 'DROP', 'the last second still matches (stamp > date_stop ends it)');
  assert.equal(down(stop + 1000), 'ACCEPT');
  assert.equal(up('02:00:5e:00:00:10', stop + 1000), 'ACCEPT');
});
