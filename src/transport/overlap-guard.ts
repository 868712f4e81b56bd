// One call at a time on one connection (issue 4), without a second queue: the queue is
// ReconnectingSession's, the one every command path of the app goes through (issue 14). A
// connection used on its own (tests, benchmarks) must be awaited call by call; a call that
// overlaps another is refused before it writes anything, so two commands never interleave on the wire.
import { BugError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';

export class OverlapGuard {
  private isBusy = false;

  /** Runs task, or rejects at once (nothing sent) while an earlier task is still running. */
  async run<T>(what: string, task: () => Promise<T>): Promise<T> {
    if (this.isBusy) throw new BugError(`lantop started '${sanitizeText(what, 80)}' while another command was still running on the same connection.`);
    this.isBusy = true;
    try {
      return await task();
    } finally {
      this.isBusy = false;
    }
  }
}
