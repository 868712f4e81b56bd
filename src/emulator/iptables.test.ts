import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createIptablesState, runIptables, traversePackets, parseIpv4, type IptablesState } from './iptables.js';
import { splitShellWords } from './shell-words.js';

interface Capture {
  capturedWith: string;
  scenarios: Array<{ name: string; steps: Array<{ args: string; stdout: string; stderr: string; status: number }> }>;
}

// Real iptables-legacy output, captured in throwaway network namespaces by capture-iptables.sh.
const capture = JSON.parse(readFileSync(new URL('./testdata/iptables-1.8.9-legacy.json', import.meta.url), 'utf8')) as Capture;

function run(state: IptablesState, line: string) {
  return runIptables(state, splitShellWords(line).words);
}

describe('iptables emulator against real iptables-legacy captures', () => {
  assert.match(capture.capturedWith, /v1\.8\.9 \(legacy\)/);
  for (const scenario of capture.scenarios) {
    test(`scenario ${scenario.name}: every command's stdout, stderr and status match byte for byte`, () => {
      const state = createIptablesState('1.8.9-legacy');
      assert.ok(scenario.steps.length > 0);
      for (const step of scenario.steps) {
        const result = run(state, step.args);
        assert.deepEqual(
          { stdout: result.stdout, stderr: result.stderr, status: result.status },
          { stdout: step.stdout, stderr: step.stderr, status: step.status },
          `iptables ${step.args}`,
        );
      }
    });
  }
});

describe('iptables 1.4 dialect (what the emulated routers print)', () => {
  test('-L -n names protocols like 1.4 did, where 1.8.9 prints numbers', () => {
    const state = createIptablesState();
    run(state, '-N TRAFFIC');
    run(state, '-A TRAFFIC -p tcp -i ppp0 -d 198.51.100.23');
    run(state, '-A TRAFFIC -s 198.51.100.23 -o ppp0');
    const { stdout } = run(state, '-L TRAFFIC -v -x -n');
    assert.equal(
      stdout,
      'Chain TRAFFIC (0 references)\n' +
        '    pkts      bytes target     prot opt in     out     source               destination         \n' +
        '       0        0            tcp  --  ppp0   *       0.0.0.0/0            198.51.100.23       \n' +
        '       0        0            all  --  *      ppp0    198.51.100.23        0.0.0.0/0           \n',
    );
  });

  test('parameter problems carry the 1.4 banner and its quirks', () => {
    const state = createIptablesState();
    assert.deepEqual(run(state, '-A FORWARD -p foo'), {
      stdout: '',
      stderr: "iptables v1.4.21: unknown protocol `foo' specified\nTry `iptables -h' or 'iptables --help' for more information.\n",
      status: 2,
    });
    assert.equal(run(state, '-L -s 198.51.100.1').stderr, "iptables v1.4.21: Illegal option `-s' with this command\n\nTry `iptables -h' or 'iptables --help' for more information.\n");
    assert.equal(run(state, '--version').stdout, 'iptables v1.4.21\n');
  });

  test('error texts and statuses of the commands lantop relies on', () => {
    const state = createIptablesState();
    assert.deepEqual(run(state, '-L TRAFFIC -v -x -n'), { stdout: '', stderr: 'iptables: No chain/target/match by that name.\n', status: 1 });
    assert.equal(run(state, '-N TRAFFIC').status, 0);
    assert.deepEqual(run(state, '-N TRAFFIC'), { stdout: '', stderr: 'iptables: Chain already exists.\n', status: 1 });
    run(state, '-I FORWARD -j TRAFFIC');
    assert.equal(run(state, '-X TRAFFIC').stderr, 'iptables: Too many links.\n');
    run(state, '-A TRAFFIC -i ppp0 -d 198.51.100.5');
    run(state, '-D FORWARD -j TRAFFIC');
    assert.equal(run(state, '-X TRAFFIC').stderr, 'iptables: Directory not empty.\n');
    assert.equal(run(state, '-D TRAFFIC -s 198.51.100.5 -o ppp0').stderr, 'iptables: Bad rule (does a matching rule exist in that chain?).\n');
    assert.equal(run(state, '-C TRAFFIC -i ppp0 -d 198.51.100.5').status, 0);
    assert.equal(run(state, '-C TRAFFIC -i ppp0 -d 198.51.100.6').status, 1);
    assert.equal(run(state, '-A TRAFFIC -j NOPE').status, 2);
  });

  test('a failing command changes nothing (libiptc commits all or nothing)', () => {
    const state = createIptablesState();
    run(state, '-N A');
    run(state, '-N B');
    run(state, '-A B -j ACCEPT');
    const before = run(state, '-S').stdout;
    assert.equal(run(state, '-X').status, 1); // B is not empty, so A is not deleted either
    assert.equal(run(state, '-S').stdout, before);
  });
});

describe('packet traversal', () => {
  const host = parseIpv4('198.51.100.23') as number;
  const other = parseIpv4('198.51.100.24') as number;
  const wan = parseIpv4('203.0.113.9') as number;
  const down = (destination: number, packets: number, bytes: number) => ({ inInterface: 'ppp0', outInterface: 'br0', source: wan, destination, protocol: 6, packets, bytes });
  const up = (source: number, packets: number, bytes: number) => ({ inInterface: 'br0', outInterface: 'ppp0', source, destination: wan, protocol: 6, packets, bytes });

  test('counters grow only on rules that match, FORWARD → TRAFFIC → back to the policy', () => {
    const state = createIptablesState();
    run(state, '-N TRAFFIC');
    run(state, '-I FORWARD -j TRAFFIC');
    run(state, '-A TRAFFIC -i ppp0 -d 198.51.100.23');
    run(state, '-A TRAFFIC -s 198.51.100.23 -o ppp0');
    assert.equal(traversePackets(state, 'FORWARD', down(host, 10, 15000)), 'ACCEPT');
    assert.equal(traversePackets(state, 'FORWARD', up(host, 4, 240)), 'ACCEPT');
    assert.equal(traversePackets(state, 'FORWARD', down(other, 7, 7000)), 'ACCEPT');
    const chains = state.tables.get('filter')?.chains ?? [];
    const traffic = chains.find((c) => c.name === 'TRAFFIC');
    assert.deepEqual(traffic?.rules.map((r) => [r.packets, r.bytes]), [[10n, 15000n], [4n, 240n]]);
    const forward = chains.find((c) => c.name === 'FORWARD');
    assert.deepEqual([forward?.rules[0]?.packets, forward?.rules[0]?.bytes], [21n, 22240n]);
    assert.deepEqual([forward?.packets, forward?.bytes], [21n, 22240n]);
  });

  test('RETURN stops counting later rules; DROP stops and is the verdict; inversion and wildcards match like the kernel', () => {
    const state = createIptablesState();
    run(state, '-N T');
    run(state, '-A FORWARD -j T');
    run(state, '-A T -i ppp+ -d 198.51.100.24 -j RETURN');
    run(state, '-A T -d 198.51.100.24');
    run(state, '-A T ! -d 198.51.100.0/24 -j DROP');
    run(state, '-A T -p udp');
    traversePackets(state, 'FORWARD', down(other, 3, 300));
    assert.equal(traversePackets(state, 'FORWARD', up(host, 2, 200)), 'DROP');
    const rules = state.tables.get('filter')?.chains.find((c) => c.name === 'T')?.rules ?? [];
    assert.deepEqual(rules.map((r) => r.packets), [3n, 0n, 2n, 0n]);
  });
});
