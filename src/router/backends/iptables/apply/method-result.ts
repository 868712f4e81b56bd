// What each way of applying a plan (restore, shell-batch, line-by-line) reports back to applyBatch.
import { sanitizeBlock } from '../../../../sanitize.js';
import type { ShellMode } from '../../../../transport/session.js';
import { classifyRouterOutput, type RouterOutputProblem } from '../../../parsers/router-errors.js';

export type ApplyMethod = 'restore' | 'shell-batch' | 'line-by-line';

/** Sends one command where it must run and resolves with what the router answered. */
export type RunCommand = (spec: { command: string; where: ShellMode }) => Promise<string>;

/** The command the router refused, its words (sanitised) and what they mean. */
export type RefusedCommand = { command: string; output: string; problem: RouterOutputProblem | null };

export interface MethodResult {
  /** Commands now in effect, in plan order. With restore: all of them or none. */
  applied: string[];
  failed: RefusedCommand | null;
  isVerified: boolean;
  method: ApplyMethod;
  /** The router's answer could not be read: neither success nor "nothing changed" is claimed. */
  isUnread?: boolean;
}

export function refusal(command: string, output: string): RefusedCommand {
  return { command, output: sanitizeBlock(output, 200, 6), problem: classifyRouterOutput(output) };
}
