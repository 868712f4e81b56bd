// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { discovered, FakeController } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import { UnreachableError } from '../../errors.js';
import { ThemeProvider } from '../theme.js';
import { DevicesScreen } from './devices-screen.js';

afterEach(cleanupTerminals);

function mount(fake: FakeController, size: { columns?: number; rows?: number } = {}) {
  let backs = 0;
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <DevicesScreen controller={fake} isInputActive onBack={() => (backs += 1)} />
    </ThemeProvider>,
    size,
  );
  return { t, backs: () => backs };
}

test('devices: count, then name (or "(no name)"), IP, MAC and counted, in address order', async () => {
  const fake = new FakeController().expectListHosts([
    discovered('198.51.100.20', { hostname: 'printer', mac: '02:00:00:00:00:20', isCounted: true }),
    discovered('198.51.100.3', { hostname: null, mac: '02:00:00:00:00:03' }),
  ]);
  const { t, backs } = mount(fake);
  const frame = await t.waitFor('Router reports');
  assert.match(frame, /Router reports 2 active devices · lantop counts 1/);
  assert.match(frame, /NAME\s+IP\s+MAC\s+COUNTED/);
  const rows = frame.split('\n').filter((l) => l.includes('198.51.100.'));
  assert.match(rows[0] ?? '', /^\(no name\)\s+198\.51\.100\.3\s+02:00:00:00:00:03\s+no$/);
  assert.match(rows[1] ?? '', /^printer\s+198\.51\.100\.20\s+02:00:00:00:00:20\s+yes$/);
  await t.press('q');
  assert.equal(backs(), 1);
  fake.verify();
});

test('devices: an empty router says so; r asks again', async () => {
  const fake = new FakeController().expectListHosts([]).expectListHosts([discovered('198.51.100.7', { hostname: 'phone' })]);
  const { t } = mount(fake);
  const frame = await t.waitFor('Router reports 0 active devices');
  assert.match(frame, /Nothing in the router's ARP\/DHCP tables yet/);
  await t.press('r');
  await t.waitFor('Router reports 1 active device ');
  fake.verify();
});

test('devices: errors show with their next step and r retries', async () => {
  const fake = new FakeController()
    .expectListHosts(new UnreachableError('The connection to the router dropped.', 'Check the router is up, then press r.'))
    .expectListHosts([discovered('198.51.100.7')]);
  const { t } = mount(fake);
  const frame = await t.waitFor('dropped');
  assert.match(frame, /→ Check the router is up, then press r\./);
  await t.press('r');
  await t.waitFor('Router reports 1');
  fake.verify();
});

test('devices: narrow terminals drop MAC first; hostile names are cleaned and cut; long lists scroll', async () => {
  const hosts = Array.from({ length: 120 }, (_, i) =>
    discovered(`198.51.100.${i + 1}`, { hostname: i === 0 ? '\u001b[31m' + 'Z'.repeat(5000) + '\u0007' : `dev-${i + 1}`, mac: '02:00:00:00:00:01' }),
  );
  const fake = new FakeController().expectListHosts(hosts);
  const { t } = mount(fake, { columns: 50, rows: 20 });
  let frame = await t.waitFor('Router reports 120');
  assert.match(frame, /NAME\s+IP\s+COUNTED/);
  assert.ok(!frame.includes('MAC'));
  assert.ok(!frame.replace(/\u001b\[[0-9;]*m/g, '').includes('\u001b'));
  for (const line of frame.split('\n')) assert.ok([...line].length <= 50, `fits: ${line.slice(0, 30)}`);
  assert.match(frame, /rows 1–13 of 120/);
  await t.press(KEY.end);
  frame = await t.waitFor('rows 108–120 of 120');
  assert.match(frame, /dev-120/);
  fake.verify();
});

test('devices: IPv6 addresses show whole when there is room and are cut (MAC and COUNTED go first) when not; one row per address of a device', async () => {
  const long = '2001:db8:85a3:1234:5678:9abc:def0:1234';
  const laptop = { hostname: 'laptop', mac: '02:00:00:00:00:10', addresses: ['198.51.100.10', '2001:db8::1'], isCounted: true };
  const fake = new FakeController().expectListHosts([
    discovered('2001:db8::1', laptop),
    discovered(long, { mac: '02:00:00:00:00:11' }),
    discovered('198.51.100.10', laptop),
  ]);
  const { t } = mount(fake, { columns: 100 });
  let frame = await t.waitFor('Router reports');
  assert.match(frame, /Router reports 3 active devices · lantop counts 2/);
  const rows = frame.split('\n').filter((l) => /^(laptop|\(no name\))/.test(l));
  assert.match(rows[0] ?? '', /^laptop\s+198\.51\.100\.10\s+02:00:00:00:00:10\s+yes$/);
  assert.match(rows[1] ?? '', /^laptop\s+2001:db8::1\s+02:00:00:00:00:10\s+yes$/);
  assert.match(rows[2] ?? '', /^\(no name\)\s+2001:db8:85a3:1234:5678:9abc:def0:1234\s+02:00:00:00:00:11\s+no$/);
  t.stdout.resize(50, 40);
  frame = await t.waitFor((f) => /^NAME\s+IP\s*$/m.test(f));
  assert.match(frame, /^\(no name\)\s+2001:db8:85a3:1234:5678:9abc:def0:12…$/m);
  assert.match(frame, /^laptop\s+198\.51\.100\.10$/m);
  for (const line of frame.split('\n')) assert.ok([...line].length <= 50, `fits: ${line}`);
  fake.verify();
});
