import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { planShellBatch } from './shell-batch.js';
import { DEFAULT_MAX_LINE_BYTES } from '../../../firmware/line-budget.js';
import { NONCE, setupCommands } from '../../../../../test/helpers/apply-plans.js';

describe('planShellBatch', () => {
  test('lines within the budget, every command once and in order, the jump alone and last', () => {
    const commands = setupCommands(40);
    const lines = planShellBatch(commands, { maxLineBytes: DEFAULT_MAX_LINE_BYTES, nonce: NONCE })!;
    assert.deepEqual(lines.flatMap((l) => l.commands), commands);
    for (const l of lines) assert.ok(l.line.length <= DEFAULT_MAX_LINE_BYTES, `${l.line.length}`);
    assert.deepEqual(lines.at(-1)!.commands, ['iptables -I FORWARD 1 -j TRAFFIC']);
    assert.equal(lines.at(-1)!.line, `_L=0;iptables -I FORWARD 1 -j TRAFFIC&&_L=1;echo "__LT""ST_${NONCE}_a\${_L}__"`);
    assert.ok(lines.length < commands.length / 3, 'far fewer lines than commands');
  });

  test('a jump move (insert at 1, delete the old one) shares a line only with FORWARD commands', () => {
    const commands = ['iptables -A TRAFFIC_DOWN -d 198.51.100.12 -j RETURN', 'iptables -I FORWARD 1 -j TRAFFIC', 'iptables -D FORWARD 3', 'iptables -F TRAFFIC_UP', 'iptables -X TRAFFIC_UP'];
    const lines = planShellBatch(commands, { maxLineBytes: 450, nonce: NONCE })!;
    assert.deepEqual(lines.map((l) => l.commands), [[commands[0]], [commands[1], commands[2]], [commands[3], commands[4]]]);
  });
});
