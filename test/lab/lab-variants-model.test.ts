// The pure part of the lab's router variants (no root needed): presets resolve to profiles, bounds
// are enforced, every published text a variant prints exists, name sources follow the profile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { CLI_TEXTS, DEFAULT_PROFILE, LAB_VARIANT_NAMES, cliDialogue, nameSource, resolveProfile } from './lab-variants.js';

test('every variant resolves; the default is the CMS profile', () => {
  assert.deepEqual(resolveProfile(), DEFAULT_PROFILE);
  for (const name of LAB_VARIANT_NAMES) assert.ok(resolveProfile(name));
  assert.equal(resolveProfile('huawei-atp').unknownCommand, 'command-failed');
  assert.equal(resolveProfile('cms', { unknownCommand: 'silent' }).unknownCommand, 'silent');
  assert.throws(() => resolveProfile('nope' as never), /unknown lab variant/);
});

test('chunking is bounded and only behind BusyBox telnetd', () => {
  assert.throws(() => resolveProfile('slow-chunked', { chunking: { bytes: 0, delayMs: 2 } }), /bytes/);
  assert.throws(() => resolveProfile('slow-chunked', { chunking: { bytes: 5, delayMs: 500 } }), /delayMs/);
  assert.throws(() => resolveProfile('slow-chunked', { telnetd: 'inetutils' }), /BusyBox/);
});

test('the texts the CLI prints are fixtures that exist', () => {
  for (const fixture of Object.values(CLI_TEXTS)) assert.ok(existsSync(new URL(`../../fixtures/${fixture}`, import.meta.url)), fixture);
});

test('dialogue and name sources per profile', () => {
  assert.equal(cliDialogue(resolveProfile('huawei-atp')).shellCommand, 'shell');
  assert.ok(cliDialogue(resolveProfile('tplink-hash')).prompt.test('TP-Link(conf)#'));
  assert.equal(nameSource(resolveProfile('cms'), 'telnet'), 'required');
  assert.equal(nameSource(resolveProfile('lanhosts-sdk'), 'telnet'), 'optional');
  assert.equal(nameSource(resolveProfile('ssh-no-leases'), 'ssh'), 'none');
  assert.equal(nameSource(resolveProfile('ssh-no-leases'), 'telnet'), 'required');
});
