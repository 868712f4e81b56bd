import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { classifyRouterOutput, classifyRouterOutputAll, type RouterOutputKind } from './router-errors.js';
import { readFixture } from '../../../test/fixtures.js';

/** Splits a capture of "$ command\n<output>\n[exit N]" blocks. */
function blocks(text: string): Array<{ command: string; output: string; exit: number }> {
  const out: Array<{ command: string; output: string; exit: number }> = [];
  for (const block of text.split(/^\$ /m).slice(1)) {
    const lines = block.split('\n');
    const command = lines[0]!;
    const exitLine = lines.findIndex((l) => /^\[exit \d+\]$/.test(l));
    out.push({ command, output: lines.slice(1, exitLine).join('\n'), exit: Number(/\d+/.exec(lines[exitLine]!)![0]) });
  }
  return out;
}

// What each command of the capture means, per backend (null: succeeded, no error).
const expected: Record<string, { legacy: RouterOutputKind | null; nft: RouterOutputKind | null }> = {
  '-L NOSUCHCHAIN -v -x -n': { legacy: 'no-chain', nft: 'incompatible-nft' },
  '-N TRAFFIC': { legacy: 'chain-exists', nft: 'chain-exists' },
  '-X TRAFFIC': { legacy: 'chain-in-use', nft: 'chain-in-use' },
  '-D TRAFFIC -s 198.51.100.99 -o ppp0': { legacy: 'no-rule', nft: 'no-rule' },
  '-C TRAFFIC -s 198.51.100.99 -o ppp0': { legacy: 'no-rule', nft: 'no-rule' },
  '-A TRAFFIC -s 198.51.100.300 -o ppp0': { legacy: 'bad-argument', nft: 'bad-argument' },
  '-A TRAFFIC --frobnicate': { legacy: 'bad-argument', nft: 'bad-argument' },
  '-A TRAFFIC -m nosuchmatch': { legacy: 'no-extension', nft: 'no-extension' },
  '-A TRAFFIC -j NOSUCHTARGET': { legacy: 'no-chain', nft: 'no-chain' },
  '-Q': { legacy: 'bad-argument', nft: 'bad-argument' },
  '-I FORWARD 99 -j TRAFFIC': { legacy: 'bad-index', nft: 'bad-index' },
  '-A TRAFFIC -i ppp0 -d 198.51.100.10 extra-word': { legacy: 'bad-argument', nft: 'bad-argument' },
  '-A TRAFFIC -m comment': { legacy: 'bad-argument', nft: 'bad-argument' },
  '-L TRAFFIC -n': { legacy: 'permission-denied', nft: 'permission-denied' },
};

describe('classifyRouterOutput on real iptables 1.8.9 error texts', () => {
  for (const backend of ['legacy', 'nft'] as const) {
    test(`${backend}: every captured failure gets its kind, every success none`, () => {
      const captured = blocks(readFixture(`iptables/1.8.9-${backend}/iptables-errors.txt`));
      assert.equal(captured.length, Object.keys(expected).length);
      for (const { command, output, exit } of captured) {
        const key = Object.keys(expected).find((k) => command.endsWith(` ${k}`));
        assert.ok(key, `no expectation for ${command}`);
        const want = expected[key]![backend];
        // The capture was taken in a namespace where TRAFFIC existed, except where noted by exit 0.
        const got = classifyRouterOutput(output);
        if (exit === 0) assert.equal(got, null, command);
        else assert.equal(got?.kind, want, `${command}: ${output}`);
      }
    });
  }

  test('details: chain names and arguments are extracted', () => {
    const nft = classifyRouterOutput("iptables v1.8.9 (nf_tables): chain `TRAFFIC' in table `filter' is incompatible, use 'nft' tool.");
    assert.deepEqual(nft, {
      kind: 'incompatible-nft',
      line: "iptables v1.8.9 (nf_tables): chain `TRAFFIC' in table `filter' is incompatible, use 'nft' tool.",
      chain: 'TRAFFIC',
      table: 'filter',
      mayBeMissingChain: true,
    });
    const bad = classifyRouterOutput("Bad argument `extra-word'\nTry `iptables -h' or 'iptables --help' for more information.");
    assert.equal(bad?.kind === 'bad-argument' && bad.argument, 'extra-word');
    const missing = classifyRouterOutput("iptables v1.8.9 (nf_tables): Chain 'NOSUCHTARGET' does not exist");
    assert.equal(missing?.kind === 'no-chain' && missing.chain, 'NOSUCHTARGET');
    const ext = classifyRouterOutput("iptables v1.4.21: Couldn't load match `comment':No such file or directory");
    assert.equal(ext?.kind === 'no-extension' && ext.extension, 'comment');
    const logTarget = classifyRouterOutput("iptables v1.4.21: Couldn't load target `LOG':No such file or directory");
    assert.equal(logTarget?.kind, 'no-extension');
  });
});

describe('shell and vendor CLI errors', () => {
  test('Broadcom CLI: telnetd:error … unrecognized command (published sample)', () => {
    const problem = classifyRouterOutput(readFixture('broadcom-cli/sagemcom-fast2704r/unrecognized-command.txt'));
    assert.equal(problem?.kind, 'unknown-command');
    assert.equal(problem?.kind === 'unknown-command' && problem.command, 'ls');
  });

  test('BusyBox: "sh: nvram: not found" (real capture)', () => {
    const problem = classifyRouterOutput(readFixture('busybox/1.35.0/busybox-sh-not-found.txt'));
    assert.equal(problem?.kind === 'not-found' && problem.command, 'nvram');
  });

  const samples: Array<[string, RouterOutputKind]> = [
    ['-sh: iptables: not found', 'not-found'],
    ['bash: iptables: command not found', 'not-found'],
    ['Invalid command', 'unknown-command'],
    ['% Unknown command.', 'unknown-command'],
    ['Command failed.', 'command-failed'],
    ['Command failed, ret=9002', 'command-failed'],
    ['iptables v1.4.21: Unknown arg `--comment\'', 'bad-argument'],
    ['iptables: Illegal option `-C\' with this command', 'bad-argument'],
    ['iptables v1.3.8: invalid mask `33\' specified', 'bad-argument'],
    ['iptables v1.8.9 (legacy): can\'t initialize iptables table `filter\': Table does not exist (do you need to insmod?)', 'kernel-missing'],
    ['Another app is currently holding the xtables lock. Perhaps you want to use the -w option?', 'lock-busy'],
    ['iptables v1.8.9 (nf_tables): Could not fetch rule set generation id: Permission denied (you must be root)', 'permission-denied'],
    ['iptables v1.4.21: something new and strange', 'iptables-error'],
  ];
  for (const [line, kind] of samples) {
    test(`${kind}: ${line}`, () => assert.equal(classifyRouterOutput(line)?.kind, kind));
  }

  test('a good listing or empty output is not an error', () => {
    assert.equal(classifyRouterOutput(readFixture('iptables/1.8.9-legacy/iptables-L-TRAFFIC-v-x-n.txt')), null);
    assert.equal(classifyRouterOutput(''), null);
    assert.equal(classifyRouterOutput('Chain TRAFFIC (1 references)'), null);
  });

  test('classifyRouterOutputAll keeps every error in order', () => {
    const all = classifyRouterOutputAll('# Warning: iptables-legacy tables present\niptables: Chain already exists.\nsh: nvram: not found\n');
    assert.deepEqual(all.map((p) => p.kind), ['chain-exists', 'not-found']);
  });
});
