// No iptables-restore: the commands joined with `&&` into shell lines, stopping at the first
// failure; the FORWARD jump goes in a line of its own after its chains.
import type { AddressFamily } from '../../../../domain/address.js';
import { parseIptablesCommand, shellWords, type ParsedCommand } from './iptables-words.js';
import { marker, NONCE_PATTERN, readMarker, withoutMarker } from './markers.js';
import { refusal, type MethodResult, type RunCommand } from './method-result.js';

export interface ShellBatchLine {
  line: string;
  /** The plan's commands this line runs, in order. */
  commands: string[];
}

/** True for commands that touch FORWARD: the jump into lantop's chains and its clean-up. */
function isJumpCommand(parsed: ParsedCommand): boolean {
  return parsed.chain === 'FORWARD';
}

/**
 * Commands joined with `&&` into shell lines; each line reports how many of its commands
 * succeeded (`a<count>`). A run of FORWARD commands (the jump) never shares a line with chain
 * commands, so the jump goes in only after every line before it succeeded. Null when a command
 * cannot be parsed.
 */
export function planShellBatch(commands: readonly string[], options: { maxLineBytes: number; nonce: string; family?: AddressFamily }): ShellBatchLine[] | null {
  if (!NONCE_PATTERN.test(options.nonce)) return null;
  const head = '_L=0;';
  const tail = `;${marker(options.nonce, 'a${_L}')}`;
  const out: ShellBatchLine[] = [];
  let body = '';
  let batch: string[] = [];
  let isJumpBatch = false;
  for (const command of commands) {
    const parsed = parseIptablesCommand(command, options.family ?? 4);
    if (parsed === null) return null;
    const text = `${shellWords([parsed.binary])} ${shellWords(parsed.words)}`;
    const isJump = isJumpCommand(parsed);
    const nextBody = `${body}${batch.length === 0 ? '' : '&&'}${text}&&_L=${batch.length + 1}`;
    if (batch.length > 0 && (isJump !== isJumpBatch || head.length + nextBody.length + tail.length > options.maxLineBytes)) {
      out.push({ line: head + body + tail, commands: batch });
      body = `${text}&&_L=1`;
      batch = [command];
    } else {
      body = nextBody;
      batch.push(command);
    }
    isJumpBatch = isJump;
  }
  if (batch.length > 0) out.push({ line: head + body + tail, commands: batch });
  return out;
}

export async function deliverShellBatch(run: RunCommand, lines: readonly ShellBatchLine[], nonce: string): Promise<MethodResult> {
  const applied: string[] = [];
  for (const { line, commands } of lines) {
    const output = await run({ command: line, where: 'shell' });
    const status = readMarker(output, nonce, 'a');
    const said = withoutMarker(output, nonce);
    const number = status !== null && /^\d+$/.test(status) ? Number(status) : null;
    const count = number !== null && number <= commands.length ? number : null;
    if (count === commands.length) {
      applied.push(...commands);
      continue;
    }
    // count null: the line's result is unreadable; report its first command, claim none of it.
    if (count !== null) applied.push(...commands.slice(0, count));
    return { applied, failed: refusal(commands[count ?? 0]!, said), isVerified: false, method: 'shell-batch' };
  }
  return { applied, failed: null, isVerified: true, method: 'shell-batch' };
}
