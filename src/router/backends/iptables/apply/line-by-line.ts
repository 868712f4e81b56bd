// The way for a vendor CLI with no shell: one command per round trip, judged by its text
// (iptables prints nothing on success; the CLI prints no exit status).
import type { ShellMode } from '../../../../transport/session.js';
import { classifyRouterOutput } from '../../../parsers/router-errors.js';
import { refusal, type MethodResult, type RunCommand } from './method-result.js';

export async function deliverLineByLine(run: RunCommand, where: ShellMode, commands: readonly string[]): Promise<MethodResult> {
  const applied: string[] = [];
  for (const command of commands) {
    const output = await run({ command, where });
    if (classifyRouterOutput(output) !== null || output.trim() !== '') {
      return { applied, failed: refusal(command, output), isVerified: false, method: 'line-by-line' };
    }
    applied.push(command);
  }
  return { applied, failed: null, isVerified: true, method: 'line-by-line' };
}
