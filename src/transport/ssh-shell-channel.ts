// The persistent SSH shell() channel with a pty: the same prompt-framed InteractiveShell telnet
// uses, fed from the channel. Used when exec is refused or lands in a vendor CLI, and for POSIX
// logins, where one long-lived channel is cheaper than a channel per command (BENCHMARKS.md).
import { StringDecoder } from 'node:string_decoder';
import type { ClientChannel } from 'ssh2';
import { RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { describeEndpoint, type Endpoint } from './errors.js';
import { InteractiveShell, type InteractiveShellOptions } from './interactive-shell.js';
import { endClient, type SshClient } from './ssh-client.js';

export type ShellChannelOptions = Pick<InteractiveShellOptions, 'cliSettleMs' | 'shellEntryCommands' | 'onTrace'>;

/** Opens the shell channel, learns its prompt and probes where commands land. */
export async function openShellChannel(
  client: SshClient,
  endpoint: Endpoint,
  options: ShellChannelOptions,
  connectTimeoutMs: number,
  commandTimeoutMs: number,
): Promise<InteractiveShell> {
  const stream = await new Promise<ClientChannel>((resolve, reject) => {
    // Wide and tall pty: fewer wrapped echoes and pagers.
    client.shell({ term: 'vt100', cols: 512, rows: 1000 }, (error, channel) => {
      if (error) reject(new RouterError(`${describeEndpoint(endpoint)} offers neither SSH exec nor a shell: ${sanitizeText(error.message, 120)}.`, 'Try telnet.', { cause: error }));
      else resolve(channel);
    });
  });
  const decoder = new StringDecoder('utf8');
  const shell = new InteractiveShell(
    {
      write: (text) => {
        if (stream.writable) stream.write(text);
      },
      // Never reuse: a failed interactive channel takes the connection with it.
      destroy: () => {
        stream.close();
        endClient(client);
      },
    },
    {
      endpoint,
      protocol: 'ssh',
      newline: '\r',
      ...(options.cliSettleMs !== undefined ? { cliSettleMs: options.cliSettleMs } : {}),
      ...(options.shellEntryCommands !== undefined ? { shellEntryCommands: options.shellEntryCommands } : {}),
      ...(options.onTrace ? { onTrace: options.onTrace } : {}),
    },
  );
  stream.on('data', (chunk: Buffer) => shell.receive(decoder.write(chunk)));
  stream.stderr.on('data', (chunk: Buffer) => shell.receive(chunk.toString('utf8')));
  stream.on('close', () => shell.connectionClosed());
  await shell.awaitPrompt(connectTimeoutMs);
  await shell.probeMode(commandTimeoutMs);
  return shell;
}
