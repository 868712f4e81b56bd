import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { failedScriptLine, planRestoreDelivery, toRestoreScript } from './restore.js';
import { foldScriptLines, wordListText } from './printf-folding.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../firmware/line-budget.js';
import { planSetup } from '../plan.js';
import { BARE, NONCE, hostIps, planOptions, setupCommands } from '../../../../../test/helpers/apply-plans.js';

describe('toRestoreScript', () => {
  test('the filter table, -N kept as a command (see the netns test), then COMMIT', () => {
    assert.equal(toRestoreScript(setupCommands(2)), [
      '*filter',
      '-N TRAFFIC',
      '-N TRAFFIC_DOWN',
      '-N TRAFFIC_UP',
      '-A TRAFFIC -i ppp0 -m comment --comment lantop -j TRAFFIC_DOWN',
      '-A TRAFFIC -o ppp0 -m comment --comment lantop -j TRAFFIC_UP',
      '-A TRAFFIC_DOWN -d 198.51.100.10 -m comment --comment lantop -j RETURN',
      '-A TRAFFIC_DOWN -d 198.51.100.11 -m comment --comment lantop -j RETURN',
      '-A TRAFFIC_UP -s 198.51.100.10 -m comment --comment lantop -j RETURN',
      '-A TRAFFIC_UP -s 198.51.100.11 -m comment --comment lantop -j RETURN',
      '-I FORWARD 1 -j TRAFFIC',
      'COMMIT',
      '',
    ].join('\n'));
  });

  test('null when one command cannot be expressed', () => {
    assert.equal(toRestoreScript(['iptables -N TRAFFIC', 'iptables -A TRAFFIC -s "x"']), null);
  });
});

describe('wordListText', () => {
  test('whole decades in a row become a loop; the rest, and short runs, stay words, in order', () => {
    const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => String(a + i));
    assert.equal(wordListText(range(1, 9)), '1 2 3 4 5 6 7 8 9');
    assert.equal(wordListText(range(10, 29)), range(10, 29).join(' '), 'two decades: cheaper as words');
    assert.equal(wordListText([...range(5, 49), '51']), `5 6 7 8 9 $(for t in 1 2 3 4;do printf "$t%s " 0 1 2 3 4 5 6 7 8 9;done)51`);
    assert.equal(wordListText([...range(100, 139), '100.5']), '$(for t in 10 11 12 13;do printf "$t%s " 0 1 2 3 4 5 6 7 8 9;done)100.5');
    assert.equal(wordListText(['100.0', '100.1', '100.2', '100.3', '100.4', '100.5', '100.6', '100.7', '100.8', '100.9', ...range(20, 29)].slice(0, 10)), '100.0 100.1 100.2 100.3 100.4 100.5 100.6 100.7 100.8 100.9');
    // Out of order, a gap, a leading zero: never a decade.
    assert.equal(wordListText([...range(10, 19).reverse(), ...range(20, 39)]), [...range(10, 19).reverse(), ...range(20, 39)].join(' '));
    assert.equal(wordListText(['0', ...range(1, 9)]), '0 1 2 3 4 5 6 7 8 9');
  });
});

describe('failedScriptLine', () => {
  // Texts seen from iptables 1.8.9 in the netns test below (and asserted there, live).
  test('legacy and nf_tables wordings', () => {
    assert.equal(failedScriptLine('iptables-restore: line 3 failed'), 3);
    assert.equal(failedScriptLine("iptables-restore v1.8.9 (legacy): Couldn't load match `nosuch':No such file or directory\n\nError occurred at line: 4\nTry `iptables-restore -h' or 'iptables-restore --help' for more information."), 4);
    assert.equal(failedScriptLine('iptables-nft-restore: line 2 failed: Chain already exists.'), 2);
    assert.equal(failedScriptLine('iptables-nft-restore v1.8.9 (nf_tables): \nline 2: CHAIN_DEL failed (Device or resource busy): chain T'), 2);
    assert.equal(failedScriptLine('Another app is currently holding the xtables lock.'), null);
  });
});

describe('planRestoreDelivery', () => {
  test('a small plan (a sync adding one host) is one line: print, pipe into iptables-restore, report', () => {
    const d = planRestoreDelivery(['iptables -A TRAFFIC_DOWN -d 198.51.100.20 -m comment --comment lantop -j RETURN', 'iptables -A TRAFFIC_UP -s 198.51.100.20 -m comment --comment lantop -j RETURN'], { restoreCommand: 'iptables-restore', maxLineBytes: 450, nonce: NONCE })!;
    assert.deepEqual(d.lines, [
      `{ printf '%s\\n' '*filter' '-A TRAFFIC_DOWN -d 198.51.100.20 -m comment --comment lantop -j RETURN' '-A TRAFFIC_UP -s 198.51.100.20 -m comment --comment lantop -j RETURN' 'COMMIT'||echo "__LT""ST_${NONCE}_w__" >&2;}|iptables-restore --noflush 2>&1;echo "__LT""ST_${NONCE}_r$?__"`,
    ]);
  });

  // Issue 21: the text is cut anywhere (not at printf boundaries) so every line is full, and the
  // last piece rides in front of the evaluating line; 200 scattered hosts instead of 60 (which now
  // fit in two lines).
  test('a large plan: printf commands kept in _C first (quoted), then evaluated into the pipe', () => {
    const scattered = planSetup(BARE, Array.from({ length: 200 }, (_, i) => `198.51.${100 + (i % 3)}.${1 + 3 * (i % 80)}`), planOptions('split')).commands;
    const d = planRestoreDelivery(scattered, { restoreCommand: 'iptables-restore', maxLineBytes: 450, nonce: NONCE })!;
    assert.ok(d.lines.length >= 3, 'several lines');
    assert.match(d.lines[0]!, /^_C='printf '\\''%s\\n'\\'' '\\''\*filter'\\''/);
    for (const line of d.lines.slice(1, -1)) assert.match(line, /^_C=\$_C'/);
    for (const line of d.lines.slice(0, -1)) assert.equal(line.length, 450, 'every stored line is full');
    assert.match(d.lines.at(-1)!, /^(?:_C=\$_C'.*';)?\{ eval "\$_C"\|\|echo .*;_C=$/);
  });

  test('a host list both directions share is written once, into a variable, whole decades as a loop (254 hosts: one line of 700 bytes)', () => {
    const commands = planSetup(BARE, hostIps(254, 1), planOptions('split')).commands;
    const one = planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes: 972, nonce: NONCE })!;
    assert.equal(one.lines.length, 1);
    assert.ok(one.lines[0]!.length <= 700, `${one.lines[0]!.length} bytes`);
    assert.equal(one.lines[0]!.split(' 254').length - 1, 1, 'the list once');
    assert.match(one.lines[0]!, /&&_A1="1 2 3 4 5 6 7 8 9 \$\(for t in 1 2 3 .* 23 24;do printf "\$t%s " 0 1 2 3 4 5 6 7 8 9;done\)250 251 252 253 254"&&printf '\\055A TRAFFIC_DOWN -d 198\.51\.100\.%s -m comment --comment lantop -j RETURN\\n' \$_A1&&printf '\\055A TRAFFIC_UP -s 198\.51\.100\.%s -m comment --comment lantop -j RETURN\\n' \$_A1&&/);
    assert.equal(planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes: 460, nonce: NONCE })!.lines.length, 2, "OpenWrt's 510-byte editor: two lines");
    // Short lists stay inline: a variable costs more than it saves.
    assert.doesNotMatch(planRestoreDelivery(setupCommands(5), { restoreCommand: 'iptables-restore', maxLineBytes: 3000, nonce: NONCE })!.lines[0]!, /_A1/);
  });

  test('254 hosts: repeated rules fold into printf formats, 8 lines at the default budget, 1 at 3000', () => {
    const commands = planSetup(BARE, hostIps(254, 1), planOptions('split')).commands;
    const d = planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    assert.ok(d.lines.length <= 8, `${d.lines.length} lines`);
    const down = foldScriptLines(d.script.trimEnd().split('\n')).find((p) => p.kind === 'template');
    assert.ok(down?.kind === 'template', 'a folded run');
    assert.equal(down.format, '\\055A TRAFFIC_DOWN -d 198.51.100.%s -m comment --comment lantop -j RETURN\\n');
    assert.deepEqual(down.args, hostIps(254, 1).map((ip) => ip.split('.')[3]));
    assert.equal(planRestoreDelivery(commands, { restoreCommand: 'iptables-restore', maxLineBytes: 3000, nonce: NONCE })!.lines.length, 1);
  });

  test('flat layout: the down/up pair folds as a period of two', () => {
    const pieces = foldScriptLines(toRestoreScript(setupCommands(20, 'flat'))!.trimEnd().split('\n'));
    const template = pieces.find((p) => p.kind === 'template');
    assert.ok(template && template.kind === 'template', 'a folded run');
    assert.equal(template.format, '\\055A TRAFFIC -i ppp0 -d 198.51.100.%s -m comment --comment lantop\\n-A TRAFFIC -s 198.51.100.%s -o ppp0 -m comment --comment lantop\\n');
    assert.deepEqual(template.args.slice(0, 4), ['10', '10', '11', '11']);
  });

  test('null for a budget too small, an odd restore path or nonce, or an inexpressible command', () => {
    const base = { restoreCommand: 'iptables-restore', maxLineBytes: 450, nonce: NONCE };
    assert.equal(planRestoreDelivery(setupCommands(3), { ...base, maxLineBytes: 100 }), null);
    assert.equal(planRestoreDelivery(setupCommands(3), { ...base, restoreCommand: 'iptables-restore;reboot' }), null);
    assert.equal(planRestoreDelivery(setupCommands(3), { ...base, nonce: '$(reboot)' }), null);
    assert.equal(planRestoreDelivery(['iptables -A X -s "y"'], base), null);
  });
});
