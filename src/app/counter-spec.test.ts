// `lantop counter add` words (issue 18): each flag into its field, every bad input with its message
// after the flag it concerns, the whole list at once, and the UsageError it becomes.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EXIT } from '../errors.js';
import { COUNTER_ADD_USAGE, counterSpecError, parseCounterSpec } from './counter-spec.js';

const words = (line: string) => line.split(' ').filter((w) => w !== '');
const problemsOf = (argv: string[]) => {
  const r = parseCounterSpec(argv);
  assert.equal(r.counter, null, argv.join(' '));
  return r.problems;
};

describe('parseCounterSpec', () => {
  test('the issue\'s examples', () => {
    assert.deepEqual(parseCounterSpec(words('proxy --chain input --src 192.168.1.10')).counter, { name: 'proxy', hook: 'input', src: { cidr: '192.168.1.10/32', negated: false }, family: 'ipv4' });
    assert.deepEqual(parseCounterSpec(['not-ours', '--chain', 'input', '--src', '!192.168.1.0/24']).counter, { name: 'not-ours', hook: 'input', src: { cidr: '192.168.1.0/24', negated: true }, family: 'ipv4' });
    assert.deepEqual(parseCounterSpec(words('smtp-in --chain input --in ppp0 --proto tcp --dport 25')).counter, { name: 'smtp-in', hook: 'input', inIf: 'ppp0', proto: 'tcp', dport: 25, family: 'both' });
    assert.deepEqual(parseCounterSpec(words('dns-out --chain=output --out=ppp0 --proto=udp --dport=53')).counter, { name: 'dns-out', hook: 'output', outIf: 'ppp0', proto: 'udp', dport: 53, family: 'both' });
    assert.deepEqual(parseCounterSpec(['fwd6', '--dst=!2001:DB8::/32', '--chain', 'forward', '--in', 'br0', '--out', 'ppp0', '--proto', 'icmp']).counter, { name: 'fwd6', hook: 'forward', inIf: 'br0', outIf: 'ppp0', dst: { cidr: '2001:db8::/32', negated: true }, proto: 'icmp', family: 'ipv6' });
  });

  test('every bad input, with its message', () => {
    const cases: Array<[string[], string[]]> = [
      [[], [`a counter name comes first: ${COUNTER_ADD_USAGE}`, '--chain: which traffic is missing: input (to the router itself), output (from it) or forward (through it)']],
      [words('--chain input'), [`a counter name comes first: ${COUNTER_ADD_USAGE}`]],
      [words('web'), ['--chain: which traffic is missing: input (to the router itself), output (from it) or forward (through it)']],
      [words('Web --chain input'), ["name: 'Web' is not a counter name: 1–32 lower-case letters, digits, - and _, starting with a letter or digit"]],
      [words('web extra --chain input'), ["unexpected word 'extra': one counter name, then options"]],
      [words('web --chain sideways'), ["--chain: 'sideways' is not input, output or forward"]],
      [words('web --chain'), ['--chain needs a value', '--chain: which traffic is missing: input (to the router itself), output (from it) or forward (through it)']],
      [words('web --chain= input'), ['--chain needs a value', "unexpected word 'input': one counter name, then options", '--chain: which traffic is missing: input (to the router itself), output (from it) or forward (through it)']],
      [words('web --chain input --chain output'), ['--chain is given twice: one counter has one of each']],
      [words('web --chain input --port 22'), ["unknown option '--port' (counter add takes --chain, --in, --out, --src, --dst, --proto, --sport, --dport)"]],
      [words('web --chain input --in eth0;reboot'), ["--in: 'eth0;reboot' is not an interface name (1–15 letters, digits, _ . : @ -)"]],
      [words('web --chain output --in eth0'), ['--in: output traffic comes from the router itself, on no incoming interface: match its outgoing one instead']],
      [words('web --chain input --out eth0'), ['--out: input traffic ends at the router itself, on no outgoing interface: match its incoming one instead']],
      [words('web --chain input --src 198.51.100.7/24'), ["--src: '198.51.100.7/24' has host bits set: write 198.51.100.0/24 for the network, or 198.51.100.7 for the one host"]],
      [words('web --chain input --dst 0.0.0.0/0'), ["--dst: '0.0.0.0/0' matches every address: leave it out"]],
      [words('web --chain input --src 198.51.100.0/24 --dst 2001:db8::1'), ['--dst: 2001:db8::1/128 is IPv6 but the source 198.51.100.0/24 is IPv4: one counter counts one address family']],
      [words('web --chain input --src host.example'), ["--src: 'host.example' is not an address or network (a.b.c.d, a.b.c.d/len, an IPv6 address or IPv6/len)"]],
      [words('web --chain input --proto gre'), ["--proto: 'gre' is not tcp, udp or icmp"]],
      [words('web --chain input --dport 22'), ['--dport: a port needs the protocol: tcp or udp']],
      [words('web --chain input --proto icmp --sport 8'), ['--sport: icmp has no ports: only tcp and udp do']],
      [words('web --chain input --proto tcp --dport 70000'), ["--dport: '70000' is not a port (1–65535)"]],
      [words('web --chain input --proto tcp --sport http'), ["--sport: 'http' is not a port (1–65535)"]],
    ];
    for (const [argv, expected] of cases) assert.deepEqual(problemsOf(argv), expected, argv.join(' '));
  });

  test('every problem at once, in the order of the words and then of the fields', () => {
    assert.deepEqual(problemsOf(words('Bad --bogus 1 --chain output --in eth0 --proto icmp --dport 80 --dport 81')), [
      "unknown option '--bogus' (counter add takes --chain, --in, --out, --src, --dst, --proto, --sport, --dport)",
      '--dport is given twice: one counter has one of each',
      "name: 'Bad' is not a counter name: 1–32 lower-case letters, digits, - and _, starting with a letter or digit",
      '--in: output traffic comes from the router itself, on no incoming interface: match its outgoing one instead',
      '--dport: icmp has no ports: only tcp and udp do',
    ]);
  });

  test('the UsageError: one problem as the message, several as a list; the usage as the next step; exit 2', () => {
    const one = counterSpecError(['--chain needs a value']);
    assert.equal(one.message, '--chain needs a value');
    assert.equal(one.nextStep, `Usage: ${COUNTER_ADD_USAGE}`);
    assert.equal(one.exitCode, EXIT.usage);
    assert.equal(counterSpecError(['a', 'b']).message, 'the counter has 2 problems:\n  - a\n  - b');
  });
});
