// ExecOptions.onLines (issue 21): a shell reply's complete lines are handed over while it arrives,
// each call the next lines of the output, never the echo, the sentinel or a line terminal rendering
// would change; what exec resolves with is the whole reply either way.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { telnetTestBed } from './helpers/telnet-test-bed.js';
import type { CommandContext, FakeRouterOptions } from './fakes/raw-telnet-server.js';

const { routerSession } = telnetTestBed();

const LISTING = Array.from({ length: 40 }, (_, i) => `   ${i}  ${1000 + i}  all  --  ppp0  *  0.0.0.0/0  198.51.100.${i}`).join('\n');

/** The reply in pieces of `size` characters, each its own TCP write. */
function inPieces(text: string, size: number) {
  return async ({ connection, eol }: CommandContext): Promise<void> => {
    const wire = text.replace(/\n/g, eol);
    const pieces: string[] = [];
    for (let i = 0; i < wire.length; i += size) pieces.push(wire.slice(i, i + size));
    await connection.writeSeparately(...pieces);
  };
}

async function execCollecting(router: FakeRouterOptions, command: string) {
  const { session } = await routerSession(router);
  const handed: string[] = [];
  const output = await session.exec(command, { onLines: (lines) => handed.push(lines) });
  return { output, handed };
}

describe('lines handed over while the reply arrives', () => {
  test('a reply in many pieces: the lines come in several calls and add up to the output plus its last line end', async () => {
    const { output, handed } = await execCollecting({ shellCommands: { list: inPieces(`${LISTING}\n`, 300) } }, 'list');
    assert.equal(output, LISTING);
    assert.ok(handed.length > 3, `${handed.length} calls`);
    for (const lines of handed) assert.ok(lines.endsWith('\n'));
    assert.ok(`${output}\n`.startsWith(handed.join('')));
    assert.ok(!handed.join('').includes('__LANTOP'));
  });

  test('output without a final line end: its last line only comes with the output', async () => {
    const { output, handed } = await execCollecting({ shellCommands: { list: inPieces(`${LISTING}\ntail-without-newline`, 500) } }, 'list');
    assert.equal(output, `${LISTING}\ntail-without-newline`);
    assert.ok(output.startsWith(handed.join('')));
    assert.ok(!handed.join('').includes('tail-without-newline'));
  });

  test('a line a terminal would render differently (CR) stops the hand-over before it', async () => {
    const text = `line one\nline two\nprogress 10%\rprogress 99%\nline four\n`;
    const { output, handed } = await execCollecting({ shellCommands: { run: inPieces(text, 9) } }, 'run');
    assert.equal(output, 'line one\nline two\nprogress 99%\nline four');
    assert.ok(output.startsWith(handed.join('')));
    assert.ok(!handed.join('').includes('progress'));
  });

  test('a router that does not echo: nothing is handed over, the output is whole', async () => {
    const { output, handed } = await execCollecting({ echo: false, shellCommands: { list: inPieces(`${LISTING}\n`, 300) } }, 'list');
    assert.equal(output, LISTING);
    assert.deepEqual(handed, []);
  });

  test('a line longer than the end the framing looks at, arriving in tiny pieces, with the sentinel right after it', async () => {
    const long = 'x'.repeat(3000);
    const { output, handed } = await execCollecting({ shellPrompt: `root@${'r'.repeat(140)}:~# `, shellCommands: { long: inPieces(long, 97) } }, 'long');
    assert.equal(output, long);
    assert.deepEqual(handed, []);
  });

  test('in a vendor CLI (framed by its prompt): nothing is handed over', async () => {
    const { output, handed } = await execCollecting({ cliPrompt: ' > ', cliCommands: { 'arp show': 'IP address       HW type\n198.51.100.2     0x1\n' } }, 'arp show');
    assert.equal(output, 'IP address       HW type\n198.51.100.2     0x1');
    assert.deepEqual(handed, []);
  });
});
