// Where the history database lives when --db does not say (docs/history.md).

import { isAbsolute, join } from 'node:path';
import { homedir } from 'node:os';

/** $XDG_DATA_HOME/lantop/history.sqlite, else ~/.local/share/lantop/history.sqlite. */
export function defaultHistoryPath(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
  const xdg = env.XDG_DATA_HOME;
  // The XDG spec says relative values are invalid and must be ignored.
  const base = xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'share');
  return join(base, 'lantop', 'history.sqlite');
}
