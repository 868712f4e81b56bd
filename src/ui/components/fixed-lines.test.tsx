// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React, { useState } from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Box, Text } from 'ink';
import { cleanupTerminals, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import { makeTheme } from '../theme.js';
import type { StyledLine } from '../styled-line.js';
import { FixedLines } from './fixed-lines.js';
import { statusLines } from './status-line.js';
import { host, makeSnapshot } from '../../../test/fakes/fake-controller.js';

afterEach(cleanupTerminals);

test('fixed lines: drawn where they sit in the layout, replaced on every change, nothing without lines', async () => {
  let setLines: (lines: StyledLine[]) => void = () => {};
  function Screen() {
    const [lines, set] = useState<StyledLine[]>([[{ text: 'row 1' }], [{ text: 'row 2 ', style: { bold: true } }, { text: 'tail' }]]);
    setLines = set;
    return (
      <Box flexDirection="column">
        <Text>above</Text>
        <FixedLines lines={lines} width={30} />
        <Text>below</Text>
      </Box>
    );
  }
  const t = renderInTerminal(<Screen />, { columns: 40 });
  assert.equal(await t.waitFor('below'), 'above\nrow 1\nrow 2 tail\nbelow');
  setLines([[{ text: 'new' }], [], [{ text: 'three lines now' }]]);
  assert.equal(await t.waitFor('new'), 'above\nnew\n\nthree lines now\nbelow');
  setLines([]);
  assert.equal(await t.waitFor((f) => !f.includes('new')), 'above\nbelow');
  t.unmount();
});

test('status lines: where, how fresh, the connection and the latest notice, each cut to the width', () => {
  const theme = makeTheme(false);
  const text = (lines: StyledLine[]) => lines.map((l) => l.map((s) => s.text).join(''));
  const snapshot = makeSnapshot([host('198.51.100.10')], {
    atMs: 1_000,
    pollLatencyMs: 12,
    connection: { kind: 'reconnecting', inMs: 5_000, reason: 'reset\u001b[2J by peer' },
    notices: [
      { atMs: 500, level: 'info', text: 'older' },
      { atMs: 900, level: 'warn', text: 'newest \u0007warning' },
    ],
  });
  assert.deepEqual(text(statusLines({ label: '198.51.100.1:23 over telnet', protocol: 'telnet', snapshot, nowMs: 3_500, theme, width: 200 })), [
    '198.51.100.1:23 over telnet · polled 2.5 s ago in 12 ms · ⟳ reconnecting in 3 s (reset by peer)',
    '⚠ newest warning  (+1 more)',
  ]);
  assert.deepEqual(text(statusLines({ label: 'router', protocol: 'ssh', snapshot: null, nowMs: 0, theme, width: 200 })), ['router (ssh) · … connecting', ' ']);
  const narrow = text(statusLines({ label: '198.51.100.1:23 over telnet', protocol: 'telnet', snapshot, nowMs: 3_500, theme, width: 20 }));
  assert.deepEqual(narrow, ['198.51.100.1:23 ove…', '⚠ newest warning  (…']);
});
