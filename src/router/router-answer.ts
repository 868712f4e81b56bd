// A router answer that is an error text, as a RouterError a person can act on: the command, where it
// ran, the router's own words (sanitised) and the next step for that kind of refusal.
import { RouterError } from '../errors.js';
import { sanitizeBlock, sanitizeText } from '../sanitize.js';
import type { CommandSpec } from './firmware/families.js';
import { classifyRouterOutput, type RouterOutputProblem } from './parsers/router-errors.js';

function nextStepFor(problem: RouterOutputProblem): string {
  switch (problem.kind) {
    case 'permission-denied':
      return 'Log in as the router\'s admin/root user: iptables needs root.';
    case 'not-found':
      return 'The router has no such command where lantop sent it. Leave --firmware out so lantop probes what the router offers, or run `lantop doctor`.';
    case 'incompatible-nft':
      return 'The chain was made by nft; remove it with nft, or use iptables-legacy.';
    case 'lock-busy':
      return 'Another program is changing the firewall; try again in a few seconds.';
    case 'unknown-command':
      return 'The router does not know this command here. Leave --firmware out so lantop probes what the router offers, or run `lantop doctor`.';
    default:
      return 'Run with --debug and report the router model and firmware version.';
  }
}

export function whereName(spec: CommandSpec): string {
  return spec.where === 'cli' ? 'the CLI' : 'the shell';
}

/** `goal` completes "The router could not …" (e.g. "list its LAN hosts"). */
export function routerAnswerError(goal: string, spec: CommandSpec, output: string): RouterError {
  const problem = classifyRouterOutput(output);
  const words = sanitizeText(problem?.line ?? output.trim().split(/\r?\n/)[0] ?? '', 200);
  return new RouterError(
    `The router could not ${goal}: \`${spec.command}\` in ${whereName(spec)} answered "${words}".`,
    problem ? nextStepFor(problem) : 'Leave --firmware out so lantop probes what the router offers, or run `lantop doctor`.',
    { seen: sanitizeBlock(output, 160, 6) },
  );
}
