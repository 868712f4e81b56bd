// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
// Colours on the alternate screen (the row writer): the same SGR codes Ink's <Text> would write for
// the theme, and none but bold without colour (NO_COLOR / --no-color).
import '../../test/helpers/force-color.js';
import '../../test/helpers/no-ci.js';
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, host, makeSnapshot } from '../../test/fakes/fake-controller.js';
import { until } from '../../test/fakes/fake-terminal.js';
import { cleanupScreens, renderOnScreen } from '../../test/fakes/fake-screen.js';
import { ThemeProvider } from './theme.js';
import { LiveScreen } from './screens/live-screen.js';

afterEach(cleanupScreens);

const T0 = 1_700_000_000_000;

async function rowWrites(isColor: boolean): Promise<string> {
  const fake = new FakeController().expectWatch();
  const t = renderOnScreen(
    <ThemeProvider isColor={isColor}>
      <LiveScreen controller={fake} now={() => T0 + 1_000} isInputActive onBack={() => undefined} />
    </ThemeProvider>,
    { columns: 160, rows: 20 },
  );
  await until(() => fake.activeWatches === 1, 'the screen to subscribe');
  fake.emit(makeSnapshot([host('198.51.100.10', { hostname: 'laptop', downBps: 2_000_000 }), host('198.51.100.11', { hostname: 'tv', downBps: 1_000 })], { atMs: T0 }));
  await t.waitFor('TOTAL (2)');
  t.unmount();
  fake.verify();
  return t.stdout.raw.filter((w) => w.startsWith('\u001b7')).join('');
}

test('colours: the top talker bold magenta (under the cursor: inverse too), the header bold cyan, bars and sparklines cyan, the status dim and green', async () => {
  const raw = await rowWrites(true);
  assert.match(raw, /\u001b\[1m\u001b\[7m\u001b\[35m❯▶ laptop/);
  assert.match(raw, /\u001b\[1m\u001b\[36m {3}NAME/);
  assert.match(raw, /\u001b\[1m\u001b\[7m\u001b\[36m██████████/, 'the share bar: cyan, bold and inverse in the top row (under the cursor)');
  assert.match(raw, /\u001b\[2m · polled 1\.0 s ago/);
  assert.match(raw, /\u001b\[32m● connected/);
  assert.match(raw, /\u001b\[1m {3}TOTAL/);
});

test('colours off: bold still marks the top talker and the header, inverse the cursor, and no colour code is written', async () => {
  const raw = await rowWrites(false);
  assert.match(raw, /\u001b\[1m\u001b\[7m❯▶ laptop/);
  assert.match(raw, /\u001b\[2K {3}tv/, 'a row without the cursor is not inverse');
  assert.match(raw, /\u001b\[1m {3}NAME/);
  assert.ok(!/\u001b\[(?:3\d|9\d|2)m/.test(raw), 'no colour or dim code');
});
