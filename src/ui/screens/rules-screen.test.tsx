// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { Deferred, FakeController, plan } from '../../../test/fakes/fake-controller.js';
import { cleanupTerminals, KEY, renderInTerminal } from '../../../test/fakes/fake-terminal.js';
import { RouterError } from '../../errors.js';
import type { ApplyResult, RulePlanView } from '../../app/types.js';
import { ThemeProvider } from '../theme.js';
import { RulesScreen } from './rules-screen.js';

afterEach(cleanupTerminals);

function mount(fake: FakeController, action: RulePlanView['action'], size: { columns?: number; rows?: number } = {}) {
  let backs = 0;
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <RulesScreen controller={fake} action={action} isInputActive onBack={() => (backs += 1)} />
    </ThemeProvider>,
    { columns: 120, ...size },
  );
  return { t, backs: () => backs };
}

const setup = plan('setup', [
  'acct create lantop',
  'acct hook lantop 1',
  'acct add lantop -i ppp0 -d 198.51.100.10',
  'acct add lantop -s 198.51.100.10 -o ppp0',
], { notes: ['2 hosts already have rules'], rejectedHosts: ['300.1.1.1\u001b[31m'] });

test('setup: shows the exact commands and notes, y applies that plan and shows the verified result', async () => {
  const apply = new Deferred<ApplyResult>();
  const fake = new FakeController().expectPlan('setup', setup).expectApply(setup, apply);
  const { t } = mount(fake, 'setup');
  let frame = await t.waitFor('Apply these 4 commands? [y/n]');
  assert.match(frame, /lantop will send these 4 commands to the router, in order:/);
  assert.match(frame, /1 acct create lantop\n2 acct hook lantop 1\n3 acct add lantop -i ppp0 -d 198\.51\.100\.10/);
  assert.match(frame, /• 2 hosts already have rules/);
  assert.match(frame, /Skipped \(not a valid IPv4 address\): 300\.1\.1\.1$/m);
  await t.press('y');
  frame = await t.waitFor('Applying 4 commands…');
  apply.resolve({ applied: setup.commands, failed: null, isVerified: true, notes: ['hook at position 1'] });
  frame = await t.waitFor('✓ Applied 4 of 4 commands.');
  assert.match(frame, /✓ Verified: the router's rules now match the plan\./);
  assert.match(frame, /• hook at position 1/);
  fake.verify();
});

test('setup: n cancels without applying anything', async () => {
  const fake = new FakeController().expectPlan('setup', setup);
  const { t, backs } = mount(fake, 'setup');
  await t.waitFor('[y/n]');
  await t.press('n');
  assert.equal(backs(), 1);
  fake.verify();
});

test('setup: foreign rules are listed; a re-plans with adopting, which the user then confirms', async () => {
  const foreign = plan('setup', ['acct add lantop -i ppp0 -d 198.51.100.11'], {
    foreignRules: ['    0     0 ACCEPT     all  --  *      *       0.0.0.0/0   203.0.113.9 \u001b[2J'],
  });
  const adopted = plan('setup', ['acct add lantop -i ppp0 -d 198.51.100.11'], { notes: ['adopting 1 existing rule'] });
  const fake = new FakeController()
    .expectPlan('setup', foreign)
    .expectPlan('setup', adopted, { isAdopting: true })
    .expectApply(adopted, { applied: adopted.commands, failed: null, isVerified: true, notes: [] });
  const { t } = mount(fake, 'setup');
  let frame = await t.waitFor('did not write');
  assert.match(frame, /⚠ 1 rule among lantop's accounting rules that lantop did not write:/);
  assert.match(frame, /ACCEPT\s+all\s+--.*203\.0\.113\.9/);
  assert.match(frame, /Press a to adopt them/);
  assert.match(frame, /a adopt foreign rules/);
  await t.press('a');
  frame = await t.waitFor('adopting 1 existing rule');
  assert.match(frame, /Set up accounting rules \(adopting existing rules\)/);
  await t.press('y');
  await t.waitFor('✓ Applied 1 of 1 command.');
  fake.verify();
});

test('flush: confirm, then a failed command shows what the router said and that it is not verified', async () => {
  const flush = plan('flush', ['acct clear lantop', 'acct zero lantop']);
  const fake = new FakeController()
    .expectPlan('flush', flush)
    .expectApply(flush, {
      applied: ['acct clear lantop'],
      failed: { command: 'acct zero lantop', output: 'acct v1.4.21: \u001b[31mcan\'t initialize\u0007 acct table `filter\'\nPerhaps you need to insmod.' },
      isVerified: false,
      notes: [],
    });
  const { t, backs } = mount(fake, 'flush');
  let frame = await t.waitFor('[y/n]');
  assert.match(frame, /Flush accounting rules/);
  await t.press('y');
  frame = await t.waitFor('failed');
  assert.match(frame, /✗ Applied 1 of 2 commands; this one failed:\n {2}acct zero lantop\nThe router said:\n {2}acct v1\.4\.21: can't initialize acct table `filter'\n {2}Perhaps you need to insmod\./);
  assert.match(frame, /⚠ Not verified/);
  await t.press(KEY.enter);
  assert.equal(backs(), 1);
  fake.verify();
});

test('flush: an empty plan says nothing to do and cannot be applied', async () => {
  const fake = new FakeController().expectPlan('flush', plan('flush', []));
  const { t, backs } = mount(fake, 'flush');
  const frame = await t.waitFor('Nothing to do');
  assert.ok(!frame.includes('[y/n]'));
  await t.press('y');
  await t.press(KEY.enter);
  assert.equal(backs(), 1);
  fake.verify();
});

test('rules: a failed plan or apply shows the error; r plans again', async () => {
  const flush = plan('flush', ['acct clear lantop']);
  const fake = new FakeController()
    .expectPlan('flush', new RouterError('acct is not available on this router.', 'Check the firmware supports acct.'))
    .expectPlan('flush', flush)
    .expectApply(flush, new RouterError('The router closed the connection.'))
    .expectPlan('flush', plan('flush', []));
  const { t } = mount(fake, 'flush');
  let frame = await t.waitFor('not available');
  assert.match(frame, /→ Check the firmware supports acct\./);
  await t.press('r');
  await t.waitFor('[y/n]');
  await t.press('y');
  frame = await t.waitFor('closed the connection');
  assert.match(frame, /Applying the plan failed; the router may be partly changed/);
  await t.press('r');
  await t.waitFor('Nothing to do');
  fake.verify();
});

test('rules: hundreds of commands scroll inside the terminal', async () => {
  const commands = Array.from({ length: 508 }, (_, i) => `acct add lantop -i ppp0 -d 198.51.${100 + (i >> 8)}.${i & 255}`);
  const big = plan('setup', commands);
  const fake = new FakeController().expectPlan('setup', big);
  const { t } = mount(fake, 'setup', { rows: 24 });
  let frame = await t.waitFor('[y/n]');
  assert.ok(frame.split('\n').length < 24, 'fits the terminal');
  assert.match(frame, /rows 1–15 of 508/);
  await t.press(KEY.end);
  frame = await t.waitFor('rows 494–508 of 508');
  assert.match(frame, /508 acct add lantop -i ppp0 -d 198\.51\.101\.251/);
  fake.verify();
});

test('rules: many foreign rules are summarised and the plan still fits the terminal', async () => {
  const commands = Array.from({ length: 100 }, (_, i) => `acct add lantop -s 198.51.100.${i + 1} -o ppp0`);
  const foreignRules = Array.from({ length: 8 }, (_, i) => `    0     0 DROP       all  --  *      *       203.0.113.${i + 1}   0.0.0.0/0`);
  const fake = new FakeController().expectPlan('setup', plan('setup', commands, { foreignRules, notes: ['one note'] }));
  const { t } = mount(fake, 'setup', { rows: 30 });
  const frame = await t.waitFor('[y/n]');
  assert.match(frame, /⚠ 8 rules among lantop's accounting rules that lantop did not write:/);
  assert.match(frame, /…and 3 more/);
  assert.ok(!frame.includes('203.0.113.6'));
  assert.ok(frame.split('\n').length < 30, `fits 30 rows (${frame.split('\n').length})`);
  fake.verify();
});
