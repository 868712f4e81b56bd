// SSH exec: one channel per command, for routers whose login shell is POSIX but whose pty shell
// channel does not behave, and when asked for (preferExec). Also the first question to a fresh
// SSH login: does exec land in a POSIX shell at all?
import { LantopError, RouterError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { commandTimeoutError, describeEndpoint, type Endpoint } from './errors.js';
import { SHELL_PROBE_COMMAND, SHELL_PROBE_OUTPUT } from './interactive-shell.js';
import type { SshClient } from './ssh-client.js';
import type { ClientChannel } from 'ssh2';

/** The router refused an exec channel ("Unable to exec", channel open failure). */
class ExecRefusedError extends RouterError {
  constructor(endpoint: Endpoint, cause: Error) {
    super(`${describeEndpoint(endpoint)} refused to run a command over SSH exec: ${sanitizeText(cause.message, 120)}.`, undefined, { cause });
  }
}

/**
 * Runs one command on its own exec channel: stdout and stderr in arrival order, CR LF made LF.
 * registerFail receives the function that fails the command early (the connection closed).
 */
export function runExec(
  client: SshClient,
  command: string,
  timeoutMs: number,
  endpoint: Endpoint,
  registerFail: (fail: (error: Error) => void) => void,
): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let isDone = false;
    let channel: ClientChannel | undefined;
    const finish = (error: Error | null, output?: string) => {
      if (isDone) return;
      isDone = true;
      clearTimeout(timer);
      if (error) {
        channel?.close();
        reject(error);
      } else resolve(output ?? '');
    };
    registerFail((error) => finish(error));
    const timer = setTimeout(() => finish(commandTimeoutError(endpoint, command, timeoutMs)), timeoutMs);
    client.exec(command, (error, stream) => {
      if (error) {
        finish(new ExecRefusedError(endpoint, error));
        return;
      }
      channel = stream;
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.stderr.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('close', () => {
        finish(null, cleanExecOutput(Buffer.concat(chunks).toString('utf8')));
      });
      // Commands reading stdin (a CLI forced as the login shell) must see EOF, not hang.
      stream.end();
    });
  });
}

/** True when exec runs commands in a POSIX shell; false when it is refused, silent or lands in a CLI. */
export async function isExecPosix(client: SshClient, endpoint: Endpoint, timeoutMs: number): Promise<boolean> {
  try {
    return SHELL_PROBE_OUTPUT.test(await runExec(client, SHELL_PROBE_COMMAND, timeoutMs, endpoint, () => undefined));
  } catch (error) {
    if (error instanceof ExecRefusedError || (error instanceof LantopError && error.name === 'TimeoutError')) return false;
    throw error;
  }
}

/** CR LF → LF, one final line end dropped: the same shape as a telnet reply. */
function cleanExecOutput(text: string): string {
  return text.replace(/\r+\n/g, '\n').replace(/\n$/, '');
}
