// Traffic classes in the nftables backend (issue 19): chain `classes` planned, read (JSON and text),
// kept by sync, changed, removed, flushed — against the listings captured by classes-netns.test.ts
// from nft 1.0.6 (fixtures/nftables/1.0.6/classes-*, SOURCE.md) and the earlier captures without
// classes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFixture } from '../../../../test/fixtures.js';
import { parseClassList } from '../../../domain/traffic-class.js';
import { firmwareForOverride, type FirmwareProfile } from '../../firmware/families.js';
import { NftablesBackend } from './nftables-backend.js';
import { classOfRule } from './layouts.js';
import { planNftFlush } from './plan.js';
import type { NftRule } from './nft-model.js';

const HOSTS = ['198.51.100.10', '2001:db8:1::10'];
const OPTS = { isAdopting: false, isPruning: false };
const CLASSES = parseClassList('tcp/8443', 'icmp,icmpv6');

function firmware(isJson: boolean): FirmwareProfile {
  const base = firmwareForOverride('openwrt-fw4');
  return { ...base, capabilities: { ...base.capabilities, nftVersion: '1.0.6', hasNftJson: isJson } };
}

describe('reading the classes back from real nft listings', () => {
  test('JSON (dynamic-sets): tcp/8443, icmp and icmpv6, counters as listed, hosts untouched', () => {
    const backend = new NftablesBackend(firmware(true), { wan: 'ppp0' });
    const reading = backend.read(readFixture('nftables/1.0.6/classes-list-j.json'));
    assert.equal(reading.installation, 'complete');
    assert.deepEqual(reading.installedClasses, CLASSES);
    const doc = JSON.parse(readFixture('nftables/1.0.6/classes-list-j.json')) as { nftables: Array<{ rule?: { chain: string; expr: Array<{ counter?: { bytes: number } }> } }> };
    const bytes = doc.nftables.filter((o) => o.rule?.chain === 'classes').map((o) => o.rule!.expr.find((e) => e.counter)!.counter!.bytes);
    assert.equal(bytes.length, 6);
    assert.deepEqual(reading.classCounters, new Map([
      ['tcp/8443', { downBytes: bytes[0], upBytes: bytes[1] }],
      ['icmp', { downBytes: bytes[2], upBytes: bytes[3] }],
      ['icmpv6', { downBytes: bytes[4], upBytes: bytes[5] }],
    ]));
    assert.ok(bytes[0]! > 400_000);
    assert.deepEqual(reading.classCounters.get('icmp'), { downBytes: 3084, upBytes: 3084 });
  });

  test('text (rules layout, with handles): the same classes and the counters the lines print', () => {
    const backend = new NftablesBackend(firmware(false), { wan: 'ppp0', layout: 'rules' });
    const reading = backend.read(readFixture('nftables/1.0.6/classes-list-a.txt'));
    assert.equal(reading.installation, 'complete');
    assert.deepEqual(reading.installedClasses, CLASSES);
    assert.deepEqual(reading.classCounters, new Map([
      ['tcp/8443', { downBytes: 421880, upBytes: 221972 }],
      ['icmp', { downBytes: 3084, upBytes: 3084 }],
      ['icmpv6', { downBytes: 1296, upBytes: 1296 }],
    ]));
    assert.ok(backend.describeInstallation(reading).includes('in place: traffic classes in chain classes, counting class(es) tcp/8443, icmp, icmpv6'));
  });

  test('every protocol lantop names reads back the same from JSON and from text', () => {
    const every = parseClassList('80,sctp/9899', 'tcp,udp,icmp,icmpv6,gre,esp,sctp');
    for (const [name, isJson] of [['classes-every-protocol-list-j.json', true], ['classes-every-protocol-list-a.txt', false]] as const) {
      const backend = new NftablesBackend(firmware(isJson), { wan: 'ppp0', layout: 'rules' });
      const reading = backend.read(readFixture(`nftables/1.0.6/${name}`));
      assert.deepEqual(reading.installedClasses, every, name);
      const plan = backend.planInstall(reading, HOSTS, { ...OPTS, classes: every });
      assert.deepEqual([plan.commands, plan.foreign], [[], []], name);
    }
  });

  test('rules lantop never writes are not classes', () => {
    const r = (norm: string, comment: string | null = 'lantop'): NftRule => ({ norm, display: norm, comment, counter: null, handle: 1 });
    assert.deepEqual(classOfRule(r('iifname "ppp0" tcp sport 443 counter'))?.class, { protocol: 'tcp', port: 443 });
    for (const odd of [
      r('iifname "ppp0" tcp sport 443 counter', null),
      r('iifname "ppp0" tcp dport 443 counter'),
      r('oifname "ppp0" tcp sport 443 counter'),
      r('iifname "ppp0" tcp sport 443 counter drop'),
      r('iifname "ppp0" meta l4proto igmp counter'),
      r('iifname "ppp0" tcp sport 0 counter'),
      r('iifname "ppp0" tcp sport 70000 counter'),
      r('iifname "ppp0" ip saddr 203.0.113.1 tcp sport 443 counter'),
    ]) assert.equal(classOfRule(odd), null, odd.norm!);
  });
});

describe('planning the classes', () => {
  const counted = (isJson = true) => {
    const backend = new NftablesBackend(firmware(isJson), { wan: 'ppp0' });
    return { backend, reading: backend.read(readFixture(isJson ? 'nftables/1.0.6/classes-list-j.json' : 'nftables/1.0.6/classes-list-a.txt')) };
  };

  test('a sync that keeps the classes (null or absent) changes nothing; asking for the same ones neither', () => {
    const { backend, reading } = counted();
    for (const classes of [null, undefined, CLASSES]) {
      const plan = backend.planInstall(reading, HOSTS, { ...OPTS, ...(classes === undefined ? {} : { classes }) });
      assert.deepEqual([plan.commands, plan.foreign], [[], []], String(classes));
    }
  });

  test('new classes: old rules deleted by handle first, the new ones added last', () => {
    const { backend, reading } = counted();
    assert.deepEqual(backend.planInstall(reading, HOSTS, { ...OPTS, classes: parseClassList('tcp/8443', 'udp') }).commands, [
      'delete rule inet lantop classes handle 17',
      'delete rule inet lantop classes handle 18',
      'delete rule inet lantop classes handle 19',
      'delete rule inet lantop classes handle 20',
      'add rule inet lantop classes iifname "ppp0" meta l4proto udp counter comment "lantop"',
      'add rule inet lantop classes oifname "ppp0" meta l4proto udp counter comment "lantop"',
    ]);
  });

  test('[]: the chain goes; flush empties it; teardown is the table', () => {
    const { backend, reading } = counted(false);
    assert.deepEqual(backend.planInstall(reading, HOSTS, { ...OPTS, classes: [] }).commands, ['flush chain inet lantop classes', 'delete chain inet lantop classes']);
    assert.ok(planNftFlush(reading.table).includes('flush chain inet lantop classes'));
    assert.deepEqual(backend.planRemove(reading), ['delete table inet lantop']);
  });

  test('an installation from before issue 19: no classes unless asked; asked, a base chain hooked like forward', () => {
    const backend = new NftablesBackend(firmware(true), { wan: 'ppp0' });
    const reading = backend.read(readFixture('nftables/1.0.6/dynamic-sets-list-j.json'));
    assert.equal(backend.planInstall(reading, HOSTS, { ...OPTS, classes: null }).commands.some((c) => c.includes('classes')), false);
    const plan = backend.planInstall(reading, HOSTS, { ...OPTS, classes: parseClassList('443', undefined) });
    assert.deepEqual(plan.commands.filter((c) => c.includes(' classes')), [
      'add chain inet lantop classes { type filter hook forward priority filter + 10; policy accept; }',
      'add rule inet lantop classes iifname "ppp0" tcp sport 443 counter comment "lantop"',
      'add rule inet lantop classes oifname "ppp0" tcp dport 443 counter comment "lantop"',
      'add rule inet lantop classes iifname "ppp0" udp sport 443 counter comment "lantop"',
      'add rule inet lantop classes oifname "ppp0" udp dport 443 counter comment "lantop"',
    ]);
  });

  test('a table from nothing with classes: the chain among the others, its rules last', () => {
    const backend = new NftablesBackend(firmware(true), { wan: 'ppp0', layout: 'rules' });
    const missing = backend.read(readFixture('nftables/1.0.6/missing-list-j.json'));
    assert.deepEqual(missing.installedClasses, []);
    const plan = backend.planInstall(missing, HOSTS, { ...OPTS, classes: parseClassList(undefined, 'esp') });
    assert.equal(plan.commands[0], 'create table inet lantop');
    assert.deepEqual(plan.commands.slice(-2), ['add rule inet lantop classes iifname "ppp0" meta l4proto esp counter comment "lantop"', 'add rule inet lantop classes oifname "ppp0" meta l4proto esp counter comment "lantop"']);
    assert.ok(plan.commands.indexOf('add chain inet lantop classes { type filter hook forward priority filter + 10; policy accept; }') > 0);
    assert.match(backend.describe(), /chain classes/);
  });
});

test('a caller bug cannot put anything but a valid class into the script', () => {
  const backend = new NftablesBackend(firmware(true), { wan: 'ppp0' });
  const reading = backend.read(readFixture('nftables/1.0.6/dynamic-sets-list-j.json'));
  const hostile = [{ protocol: 'tcp" drop', port: null }, { protocol: 'sctp', port: 99999 }, { protocol: 'gre', port: 1 }, { protocol: 'gre', port: null }] as never;
  const added = backend.planInstall(reading, HOSTS, { ...OPTS, classes: hostile }).commands.filter((c) => c.startsWith('add rule inet lantop classes'));
  assert.deepEqual(added, ['add rule inet lantop classes iifname "ppp0" meta l4proto gre counter comment "lantop"', 'add rule inet lantop classes oifname "ppp0" meta l4proto gre counter comment "lantop"']);
});
