// Custom counters (issue 18): what a counter is, every refusal with its message, networks printed
// back canonical, the key and id that stay stable.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { counterId, counterKey, counterOfKey, distinctCounterMatches, isCounterOfFamily, makeCustomCounter, parseNetwork, type CounterInput, type CustomCounter } from './custom-counter.js';

function made(input: CounterInput): CustomCounter {
  const r = makeCustomCounter(input);
  assert.deepEqual(r.problems, []);
  return r.counter!;
}
function problems(input: CounterInput): string[] {
  const r = makeCustomCounter(input);
  assert.equal(r.counter, null);
  return r.problems.map((p) => `${p.field}: ${p.message}`);
}

describe('networks', () => {
  test('printed back canonical; a bare address is the one host', () => {
    const cases: Array<[string, string]> = [
      ['198.51.100.0/24', '198.51.100.0/24'],
      ['198.51.100.10', '198.51.100.10/32'],
      ['203.0.113.128/25', '203.0.113.128/25'],
      ['2001:DB8::/32', '2001:db8::/32'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128'],
      ['2001:db8:0:0:1::/80', '2001:db8:0:0:1::/80'],
      ['::ffff:198.51.100.0/120', '::ffff:198.51.100.0/120'],
      ['10.0.0.0/8', '10.0.0.0/8'],
    ];
    for (const [text, cidr] of cases) assert.equal(parseNetwork(text).network?.cidr, cidr, text);
  });

  test('refused, with the reason', () => {
    const cases: Array<[string, string]> = [
      ['198.51.100.7/24', "'198.51.100.7/24' has host bits set: write 198.51.100.0/24 for the network, or 198.51.100.7 for the one host"],
      ['2001:db8::1/32', "'2001:db8::1/32' has host bits set: write 2001:db8::/32 for the network, or 2001:db8::1 for the one host"],
      ['203.0.113.129/25', "'203.0.113.129/25' has host bits set: write 203.0.113.128/25 for the network, or 203.0.113.129 for the one host"],
      ['0.0.0.0/0', "'0.0.0.0/0' matches every address: leave it out"],
      ['::/0', "'::/0' matches every address: leave it out"],
      ['198.51.100.0/33', "'198.51.100.0/33': an IPv4 prefix is at most /32"],
      ['2001:db8::/129', "'2001:db8::/129': an IPv6 prefix is at most /128"],
      ['198.51.100.0/024', "'198.51.100.0/024' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"],
      ['198.51.100.0/', "'198.51.100.0/' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"],
      ['198.51.100', "'198.51.100' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"],
      ['fe80::1%eth0', "'fe80::1%eth0' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"],
      ['example.org', "'example.org' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"],
      ['198.51.100.0/255.255.255.0', "'198.51.100.0/255.255.255.0' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"],
    ];
    for (const [text, message] of cases) assert.equal(parseNetwork(text).problem, message, text);
  });
});

describe('makeCustomCounter', () => {
  test('a full forward counter: every value canonical, the family from the addresses', () => {
    assert.deepEqual(made({ name: 'ssh-out', hook: 'forward', inIf: 'br0', outIf: 'ppp0', src: '!198.51.100.0/24', dst: '203.0.113.5', proto: 'tcp', sport: '1024', dport: '22' }), {
      name: 'ssh-out', hook: 'forward', inIf: 'br0', outIf: 'ppp0', src: { cidr: '198.51.100.0/24', negated: true }, dst: { cidr: '203.0.113.5/32', negated: false }, proto: 'tcp', sport: 1024, dport: 22, family: 'ipv4',
    });
    assert.deepEqual(made({ name: 'icmp', hook: 'input', proto: 'icmp' }), { name: 'icmp', hook: 'input', proto: 'icmp', family: 'both' });
    assert.deepEqual(made({ name: 'v6', hook: 'output', dst: '! 2001:DB8::/32' }), { name: 'v6', hook: 'output', dst: { cidr: '2001:db8::/32', negated: true }, family: 'ipv6' });
    assert.equal(made({ name: 'a', hook: 'input', inIf: 'eth0.10' }).family, 'both');
  });

  test('every bad value, each with its message', () => {
    const cases: Array<[CounterInput, string[]]> = [
      [{ hook: 'input' }, ['name: a counter needs a name']],
      [{ name: 'Web', hook: 'input' }, ["name: 'Web' is not a counter name: 1–32 lower-case letters, digits, - and _, starting with a letter or digit"]],
      [{ name: '-web', hook: 'input' }, ["name: '-web' is not a counter name: 1–32 lower-case letters, digits, - and _, starting with a letter or digit"]],
      [{ name: 'a'.repeat(33), hook: 'input' }, [`name: '${'a'.repeat(33)}' is not a counter name: 1–32 lower-case letters, digits, - and _, starting with a letter or digit`]],
      [{ name: 'web' }, ['hook: which traffic is missing: input (to the router itself), output (from it) or forward (through it)']],
      [{ name: 'web', hook: 'INPUT' }, ["hook: 'INPUT' is not input, output or forward"]],
      [{ name: 'web', hook: 'prerouting' }, ["hook: 'prerouting' is not input, output or forward"]],
      [{ name: 'web', hook: 'input', inIf: 'eth0;reboot' }, ["inIf: 'eth0;reboot' is not an interface name (1–15 letters, digits, _ . : @ -)"]],
      [{ name: 'web', hook: 'forward', outIf: 'a-very-long-interface' }, ["outIf: 'a-very-long-interface' is not an interface name (1–15 letters, digits, _ . : @ -)"]],
      [{ name: 'web', hook: 'forward', outIf: 'eth+' }, ["outIf: 'eth+' is not an interface name (1–15 letters, digits, _ . : @ -)"]],
      [{ name: 'web', hook: 'output', inIf: 'eth0' }, ['inIf: output traffic comes from the router itself, on no incoming interface: match its outgoing one instead']],
      [{ name: 'web', hook: 'input', outIf: 'eth0' }, ['outIf: input traffic ends at the router itself, on no outgoing interface: match its incoming one instead']],
      [{ name: 'web', hook: 'input', src: '198.51.100.0/24', dst: '2001:db8::/32' }, ['dst: 2001:db8::/32 is IPv6 but the source 198.51.100.0/24 is IPv4: one counter counts one address family']],
      [{ name: 'web', hook: 'input', src: '!198.51.100.1/24' }, ["src: '198.51.100.1/24' has host bits set: write 198.51.100.0/24 for the network, or 198.51.100.1 for the one host"]],
      [{ name: 'web', hook: 'input', dst: '!' }, ["dst: '' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"]],
      [{ name: 'web', hook: 'input', proto: 'sctp' }, ["proto: 'sctp' is not tcp, udp or icmp"]],
      [{ name: 'web', hook: 'input', proto: 'TCP' }, ["proto: 'TCP' is not tcp, udp or icmp"]],
      [{ name: 'web', hook: 'input', dport: '22' }, ['dport: a port needs the protocol: tcp or udp']],
      [{ name: 'web', hook: 'input', proto: 'icmp', sport: '7' }, ['sport: icmp has no ports: only tcp and udp do']],
      [{ name: 'web', hook: 'input', proto: 'tcp', dport: '0' }, ["dport: '0' is not a port (1–65535)"]],
      [{ name: 'web', hook: 'input', proto: 'tcp', dport: '65536' }, ["dport: '65536' is not a port (1–65535)"]],
      [{ name: 'web', hook: 'input', proto: 'udp', sport: '053' }, ["sport: '053' is not a port (1–65535)"]],
      [{ name: 'web', hook: 'input', proto: 'udp', sport: '53-80' }, ["sport: '53-80' is not a port (1–65535)"]],
      [{ name: 'web', hook: 'input', proto: 'udp', sport: '\u001b[31m5' }, ["sport: '5' is not a port (1–65535)"]],
      // Several at once, in field order.
      [{ name: 'X', hook: 'output', inIf: 'eth0', proto: 'icmp', dport: '80' }, [
        "name: 'X' is not a counter name: 1–32 lower-case letters, digits, - and _, starting with a letter or digit",
        'inIf: output traffic comes from the router itself, on no incoming interface: match its outgoing one instead',
        'dport: icmp has no ports: only tcp and udp do',
      ]],
    ];
    for (const [input, expected] of cases) assert.deepEqual(problems(input), expected, JSON.stringify(input));
  });
});

describe('key and id', () => {
  const full = made({ name: 'ssh-out', hook: 'forward', inIf: 'br0', outIf: 'ppp0', src: '!198.51.100.0/24', dst: '203.0.113.5', proto: 'tcp', sport: '1024', dport: '22' });

  test('the key: the matches in a fixed order, canonical, without the name', () => {
    assert.equal(counterKey(full), 'forward in=br0 out=ppp0 src=!198.51.100.0/24 dst=203.0.113.5/32 proto=tcp sport=1024 dport=22');
    assert.equal(counterKey(made({ name: 'x', hook: 'input' })), 'input');
    assert.equal(counterKey(made({ name: 'other', hook: 'forward', dport: '22', proto: 'tcp', dst: '203.0.113.5/32', sport: '1024', src: '! 198.51.100.0/24', outIf: 'ppp0', inIf: 'br0' })), counterKey(full));
  });

  test('a key reads back as the same counter; anything not canonical or not valid does not', () => {
    assert.deepEqual(counterOfKey(counterKey(full), 'ssh-out'), full);
    for (const key of ['forward src=198.51.100.10', 'input proto=tcp proto=udp', 'input dport=22', 'input  proto=tcp', 'sideways', 'input proto=tcp dport=22 x=1', 'input dport=22 proto=tcp', 'input src=198.51.100.0/24;x']) {
      assert.equal(counterOfKey(key, 'x'), null, key);
    }
    assert.equal(counterOfKey('input', 'Bad Name'), null);
  });

  test('the id: 12 hex digits of the key, the same for the same matches whatever the name, and never the name', () => {
    const id = counterId(full);
    assert.match(id, /^[0-9a-f]{12}$/);
    assert.equal(counterId({ ...full, name: 'another' }), id);
    assert.notEqual(counterId({ ...full, dport: 23 }), id);
    // Pinned: the id is what the router's rules carry, so it must not change between versions.
    assert.equal(counterId(made({ name: 'x', hook: 'input' })), counterId(made({ name: 'y', hook: 'input' })));
    assert.equal(counterId(made({ name: 'x', hook: 'input' })), '1ebbae8f5810');
  });

  test('the router holds each match once; invalid objects are dropped', () => {
    const a = made({ name: 'a', hook: 'input', proto: 'tcp' });
    const b = made({ name: 'b', hook: 'input', proto: 'tcp' });
    const c = made({ name: 'c', hook: 'output' });
    const bad = { ...c, name: 'c', proto: 'tcp; reboot' } as unknown as CustomCounter;
    const distinct = distinctCounterMatches([b, c, a, bad]);
    assert.deepEqual(distinct.map((x) => x.name).sort(), ['b', 'c']);
  });

  test('families', () => {
    const v4 = made({ name: 'a', hook: 'input', src: '198.51.100.0/24' });
    const both = made({ name: 'b', hook: 'input' });
    const v6 = made({ name: 'c', hook: 'input', dst: '2001:db8::/32' });
    assert.deepEqual([4, 6].map((f) => isCounterOfFamily(v4, f as 4 | 6)), [true, false]);
    assert.deepEqual([4, 6].map((f) => isCounterOfFamily(both, f as 4 | 6)), [true, true]);
    assert.deepEqual([4, 6].map((f) => isCounterOfFamily(v6, f as 4 | 6)), [false, true]);
  });
});
