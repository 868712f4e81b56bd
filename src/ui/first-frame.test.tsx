// tsconfig.json excludes tests, so tsx compiles them with the classic JSX runtime: React must be in scope.
import React from 'react';
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { Deferred, FakeController } from '../../test/fakes/fake-controller.js';
import { cleanupTerminals, renderInTerminal } from '../../test/fakes/fake-terminal.js';
import { ThemeProvider } from './theme.js';
import { ConnectScreen } from './screens/connect-screen.js';
import { connectingFrameLines, drawFirstFrame, ENTER_ALTERNATE_SCREEN, LEAVE_ALTERNATE_SCREEN } from './first-frame.js';
import { lineText } from './styled-line.js';

afterEach(cleanupTerminals);

async function inkFrame(options: { protocol: 'telnet' | 'ssh'; label: string; telnetWarning?: string; columns: number }): Promise<string> {
  const fake = new FakeController({ protocol: options.protocol, label: options.label }).expectConnect(new Deferred());
  const t = renderInTerminal(
    <ThemeProvider isColor={false}>
      <ConnectScreen controller={fake} needsPassword={false} telnetWarning={options.telnetWarning} isInputActive onConnected={() => {}} onQuit={() => {}} />
    </ThemeProvider>,
    { columns: options.columns },
  );
  const frame = await t.waitFor('Connecting');
  t.unmount();
  return frame;
}

const plain = (lines: ReturnType<typeof connectingFrameLines>) => lines.map((line) => lineText(line, false)).join('\n');

test('first frame: the connecting frame drawn before Ink is the frame Ink draws first (telnet, ssh, narrow, hostile label)', async () => {
  const cases = [
    { protocol: 'telnet' as const, label: '127.0.0.1:4023 over telnet', columns: 120 },
    { protocol: 'telnet' as const, label: '198.51.100.1:23 over telnet', telnetWarning: 'Telnet sends the password in clear text.', columns: 100 },
    { protocol: 'telnet' as const, label: '198.51.100.1:23 over telnet', columns: 40 },
    { protocol: 'ssh' as const, label: 'router.lan:22 over ssh', columns: 80 },
    { protocol: 'ssh' as const, label: 'evil\u001b[2J\u0007.lan:22 over ssh', columns: 30 },
  ];
  for (const c of cases) {
    const expected = await inkFrame(c);
    assert.equal(plain(connectingFrameLines({ ...c, width: c.columns })), expected, `${c.label} at ${c.columns} columns`);
  }
});

test('first frame: drawn on the alternate screen, cursor home; styled only with colour; abandon leaves the screen, once', () => {
  const out = new PassThrough();
  let written = '';
  out.on('data', (d: Buffer) => (written += d.toString()));
  const stdout = Object.assign(out, { columns: 60 });
  const frame = drawFirstFrame(stdout, { label: '127.0.0.1:23 over telnet', protocol: 'telnet', isColor: true, env: {} });
  assert.ok(written.startsWith(ENTER_ALTERNATE_SCREEN + '\u001b[H'), 'enters the alternate screen at its top-left');
  assert.ok(written.endsWith('\u001b[H'), 'leaves the cursor where Ink starts drawing');
  assert.match(written, /\u001b\[1mlantop\u001b\[22m/);
  assert.match(written, /Connecting to 127\.0\.0\.1:23 over telnet…/);
  assert.equal(process.listenerCount('SIGINT') > 0, true, 'Ctrl-C before Ink leaves the alternate screen');
  frame.abandon();
  frame.abandon();
  assert.equal(written.split(LEAVE_ALTERNATE_SCREEN).length - 1, 1);
  assert.equal(process.listenerCount('SIGINT'), 0);

  written = '';
  const noColor = drawFirstFrame(stdout, { label: 'x', protocol: 'ssh', isColor: false, env: {} });
  assert.ok(!/\u001b\[[0-9;]*m/.test(written), 'no SGR codes without colour');
  noColor.handOver();
  noColor.abandon();
  assert.ok(!written.includes(LEAVE_ALTERNATE_SCREEN), 'after the hand-over the app owns the screen');
  assert.equal(process.listenerCount('SIGINT'), 0);
  const dumb = drawFirstFrame(stdout, { label: 'x', protocol: 'ssh', isColor: true, env: { TERM: 'dumb' } });
  assert.ok(!/\u001b\[[0-9;]*m/.test(written), 'a dumb terminal gets no SGR codes either');
  dumb.abandon();
});
