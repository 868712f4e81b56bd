// The emulated nft against the real nft 1.0.6: every step of testdata/nft-scenarios.txt (tables,
// chains, sets and elements of the backend's layouts, listings in text and JSON with -a/-s/-t/-y,
// handles, errors, the shell delivery) gives what capture-nft.sh recorded from the real program,
// byte for byte once the ticking `expires` is masked. Then the pure model on its own: parsing,
// the transaction, and counting packets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { formatNftError, NftError } from './nft-ast.js';
import { fw4Ruleset } from './fw4-ruleset.js';
import { parseNftScript } from './nft-parse.js';
import { runNft } from './nft-run.js';
import { createNftState } from './nft-state.js';
import { traverseNft, type NftPacket } from './nft-traversal.js';
import { parseIpv4Value, parseIpv6Value, parseMacValue } from './nft-values.js';
import { maskTicking, readScenarios, runStep, scenarioRouter, TESTDATA } from './nft-scenarios.js';

interface Capture {
  capturedWith: string;
  scenarios: Array<{ name: string; steps: Array<{ line: string; stdout: string; stderr: string; status: number }> }>;
}
const capture = JSON.parse(readFileSync(new URL('nft-1.0.6.json', TESTDATA), 'utf8')) as Capture;

test('the capture is of the scenarios as they are now, and of nft 1.0.6', () => {
  assert.equal(capture.capturedWith, 'nftables v1.0.6 (Lester Gooch #5)');
  assert.deepEqual(capture.scenarios.map((s) => [s.name, s.steps.map((step) => step.line)]), readScenarios().map((s) => [s.name, s.lines]));
});

test('testdata/nft/fw4.nft is the emulated fw4 table, so the capture covers it', () => {
  assert.equal(readFileSync(new URL('nft/fw4.nft', TESTDATA), 'utf8'), fw4Ruleset('br-lan', 'pppoe-wan'));
});

for (const scenario of capture.scenarios) {
  test(`real nft 1.0.6 = emulated: ${scenario.name}`, () => {
    const { model, session } = scenarioRouter();
    for (const step of scenario.steps) {
      const got = runStep(model, session, step.line);
      assert.equal(maskTicking(got.stdout), maskTicking(step.stdout), `stdout of: ${step.line}`);
      assert.equal(maskTicking(got.stderr), maskTicking(step.stderr), `stderr of: ${step.line}`);
      assert.equal(got.status, step.status, `status of: ${step.line}`);
    }
  });
}

test('nft -v is the version OpenWrt 23.05 ships unless told otherwise; -j refused without JSON support', () => {
  assert.equal(runNft(createNftState(), ['-v'], '', 0).stdout, 'nftables v1.0.8 (Old Doc Yak #2)\n');
  const nojson = runNft(createNftState({ hasJson: false }), ['-j', 'list', 'tables'], '', 0);
  assert.deepEqual([nojson.stdout, nojson.stderr, nojson.status], ['', 'JSON support not compiled-in\n', 1]);
  const listed = runNft(createNftState(), ['-j', 'list', 'tables'], '', 0).stdout;
  assert.equal(listed, '{"nftables": [{"metainfo": {"version": "1.0.8", "release_name": "Old Doc Yak #2", "json_schema_version": 1}}]}\n');
});

test('a refused script changes nothing, whatever came before the error in it', () => {
  const state = createNftState();
  runNft(state, ['add', 'table', 'inet', 'keep'], '', 0);
  const before = runNft(state, ['-a', 'list', 'ruleset'], '', 0).stdout;
  // (`tcp flags` is not emulated: refused as the kernel refuses what it lacks.)
  const result = runNft(state, ['-f', '-'], 'add table inet lantop\nadd chain inet keep c\nadd rule inet keep c tcp flags syn counter\n', 0);
  assert.equal(result.status, 1);
  assert.equal(result.stderr, '/dev/stdin:3:26-30: Error: Could not process rule: Operation not supported\nadd rule inet keep c tcp flags syn counter\n                         ^^^^^\n');
  assert.equal(runNft(state, ['-a', 'list', 'ruleset'], '', 0).stdout, before);
  // Refused while reading (never sent to a kernel): no handle was taken. A batch the kernel
  // refuses does take them (the "handles" scenario above, checked against the real nft).
  runNft(state, ['add', 'table', 'inet', 'next'], '', 0);
  assert.match(runNft(state, ['-j', 'list', 'tables'], '', 0).stdout, /"name": "next", "handle": 2/);
});

test('errors: the first syntax error of a line, the ones after it, and a kernel refusal', () => {
  assert.throws(() => parseNftScript('table inet t {\n\tchain fwd {\n\t}\n}\n'), (error: unknown) => {
    assert.ok(error instanceof NftError);
    const text = formatNftError(error, 'table inet t {\n\tchain fwd {\n\t}\n}\n', 'stdin');
    assert.equal(text.split('\n')[0], '/dev/stdin:2:8-10: Error: syntax error, unexpected fwd, expecting string');
    assert.equal(text.split('\n')[2], '\t      ^^^', 'a tab in the line stays a tab in the marks');
    return true;
  });
  const refused = runNft(createNftState(), ['add', 'table', 'arp', 'x'], '', 0);
  assert.equal(refused.stderr, 'Error: Could not process rule: Operation not supported\nadd table arp x\n          ^^^\n');
  assert.equal(runNft(createNftState(), ['list', 'ruleset', '-a'], '', 0).status, 1);
});

const ESTABLISHED = 2;
function packet(over: Partial<NftPacket>): NftPacket {
  return { hook: 'forward', family: 4, iifname: 'pppoe-wan', oifname: 'br-lan', saddr: 0n, daddr: 0n, etherSaddr: null, etherDaddr: null, ctState: ESTABLISHED, packets: 1, bytes: 100, ...over };
}

test('packets: dynamic sets gain an element on a host first packet, per family and direction; lookups count', () => {
  const state = createNftState({ dumpsDefaultElementTimeout: false });
  const design = readFileSync(new URL('nft/design.nft', TESTDATA), 'utf8');
  assert.equal(runNft(state, ['-f', '-'], design, 0).status, 0);
  const host4 = parseIpv4Value('198.51.100.100') as bigint;
  const host6 = parseIpv6Value('2001:db8:1::10') as bigint;
  const peer4 = parseIpv4Value('203.0.113.9') as bigint;
  traverseNft(state, packet({ daddr: host4, saddr: peer4, packets: 3, bytes: 4200 }), 1000);
  traverseNft(state, packet({ family: 6, daddr: host6, saddr: 1n, packets: 2, bytes: 2800 }), 1000);
  traverseNft(state, packet({ iifname: 'br-lan', oifname: 'pppoe-wan', saddr: host4, daddr: peer4, etherSaddr: parseMacValue('02:00:00:00:00:10'), bytes: 60 }), 2000);
  // IPv6 and IPv4 elements stay apart; an ether match on a PPP packet fails (no Ethernet header).
  const listing = runNft(state, ['list', 'table', 'inet', 'lantop'], '', 2000).stdout;
  assert.match(listing, /set dl4 \{[^}]*elements = \{ 198\.51\.100\.100 counter packets 3 bytes 4200 expires 6d23h59m59s \}/);
  assert.match(listing, /set dl6 \{[^}]*elements = \{ 2001:db8:1::10 counter packets 2 bytes 2800 expires 1d23h59m59s \}/);
  assert.match(listing, /set ul4 \{[^}]*elements = \{ 198\.51\.100\.100 counter packets 1 bytes 60 expires 7d \}/);
  assert.match(listing, /set ulmac \{[^}]*elements = \{ 02:00:00:00:00:10 counter packets 1 bytes 60 expires 7d \}/);
  assert.match(listing, /iifname "pppoe-wan" counter packets 5 bytes 7000 comment "lantop:wan-in-total"/);
  // Past its timeout an element is gone; the next packet makes it again, counting from zero.
  traverseNft(state, packet({ daddr: host4, saddr: peer4, bytes: 10 }), 2000 + 7 * 86_400_000);
  assert.match(runNft(state, ['list', 'set', 'inet', 'lantop', 'dl4'], '', 2000 + 7 * 86_400_000).stdout, /198\.51\.100\.100 counter packets 1 bytes 10 expires 7d/);
});

test('packets: a 5.15 kernel lists the timeout of elements the packet path added', () => {
  const state = createNftState();
  runNft(state, ['-f', '-'], readFileSync(new URL('nft/design.nft', TESTDATA), 'utf8'), 0);
  runNft(state, ['add', 'element', 'inet', 'lantop', 'dl4', '{', '198.51.100.7', '}'], '', 0);
  traverseNft(state, packet({ daddr: parseIpv4Value('198.51.100.100') as bigint, bytes: 50 }), 0);
  const listed = runNft(state, ['list', 'set', 'inet', 'lantop', 'dl4'], '', 1000).stdout;
  assert.match(listed, /198\.51\.100\.7 expires 6d23h59m59s, 198\.51\.100\.100 counter packets 1 bytes 50 timeout 7d expires 6d23h59m59s/);
  assert.match(runNft(state, ['-j', 'list', 'set', 'inet', 'lantop', 'dl4'], '', 1000).stdout, /\{"elem": \{"val": "198\.51\.100\.100", "timeout": 604800, "expires": 604799, "counter": \{"packets": 1, "bytes": 50\}\}\}/);
});

test('packets: base chains run by priority; accept ends one, drop ends all; jump, goto and return', () => {
  const state = createNftState();
  runNft(state, ['-f', '-'], fw4Ruleset('br-lan', 'pppoe-wan'), 0);
  runNft(state, ['-f', '-'], 'table inet lantop {\n\tchain count {\n\t\ttype filter hook forward priority filter + 10; policy accept;\n\t\tcounter\n\t}\n}\n', 0);
  // LAN → WAN: fw4 accepts (accept_to_wan counts), and lantop's chain after it still sees it.
  assert.equal(traverseNft(state, packet({ iifname: 'br-lan', oifname: 'pppoe-wan', ctState: 8 }), 0), 'accept');
  // WAN → LAN, not established: fw4 drops it and lantop never sees it.
  assert.equal(traverseNft(state, packet({ ctState: 8 }), 0), 'drop');
  assert.equal(traverseNft(state, packet({}), 0), 'accept');
  const listing = runNft(state, ['list', 'ruleset'], '', 0).stdout;
  assert.match(listing, /oifname "pppoe-wan" counter packets 1 bytes 100 accept comment "!fw4: accept wan IPv4\/IPv6 traffic"/);
  assert.match(listing, /oifname "br-lan" counter packets 1 bytes 100 drop comment "!fw4: drop lan IPv4\/IPv6 traffic"/);
  assert.match(listing, /chain count \{\n\t\ttype filter hook forward priority filter \+ 10; policy accept;\n\t\tcounter packets 2 bytes 200\n/);
});
