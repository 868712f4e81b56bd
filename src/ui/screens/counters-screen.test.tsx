// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeController, makeSnapshot } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import { ThemeProvider } from '../theme.js';
import { CountersScreen } from './counters-screen.js';
import type { CounterUsage } from '../../domain/counter-usage.js';

afterEach(cleanupTerminals);

function mount(fake: FakeController, size: { columns?: number; rows?: number } = {}) {
  let backs = 0;
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <CountersScreen controller={fake} isInputActive onBack={() => (backs += 1)} />
    </ThemeProvider>,
    size,
  );
  return { t, backs: () => backs };
}

const usage = (name: string, match: string, fields: Partial<CounterUsage> = {}): CounterUsage => ({ name, match, hook: 'input', family: 'both', bytes: 0, packets: 0, bps: 0, pps: 0, sinceMs: null, isCounted: true, ...fields });

test('counters: waits for a poll, then the counters with rate, total and packets; q goes back', async () => {
  const fake = new FakeController().expectWatch();
  const { t, backs } = mount(fake, { columns: 100 });
  await t.waitFor('Waiting for the first poll');
  fake.emit(makeSnapshot([], { counters: [usage('ssh-in', 'input in=ppp0 proto=tcp dport=22', { bytes: 1_500_000, packets: 1200, bps: 2048 }), usage('not-ours', 'input src=!192.168.1.0/24', { isCounted: false })] }));
  const frame = await t.waitFor('ssh-in');
  assert.match(frame, /Custom counters/);
  assert.match(frame, /COUNTER\s+MATCH\s+RATE\s+TOTAL\s+PACKETS/);
  assert.match(frame, /ssh-in\s+input in=ppp0 proto=tcp dport=22\s+\S+ ?\S*\s+1\.\d+ MB\s+1200/);
  assert.match(frame, /not-ours \(not on the router\)\s+input src=!192\.168\.1\.0\/24/);
  await t.press('q');
  assert.equal(backs(), 1);
  fake.verify();
});

test('counters: none on the router says how to add one', async () => {
  const fake = new FakeController().expectWatch();
  const { t } = mount(fake);
  fake.emit(makeSnapshot([]));
  const frame = await t.waitFor('No custom counters');
  assert.match(frame, /lantop counter add NAME/);
  fake.verify();
});
