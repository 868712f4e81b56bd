// `report --mode users` (issue 18): the normal report (table, --json, --csv, --html) over the
// gateway's users history (domain/user-history.ts usersHistoryKey): the users are its rows and the
// HTML report's series, identity `user:NAME`.
import { UsageError } from '../errors.js';
import { sanitizeText } from '../sanitize.js';
import { usersHistoryKey } from '../domain/user-history.js';
import { runReport } from './commands.js';
import type { Services } from './services.js';

export type UsersReportOptions = Parameters<typeof runReport>[1];

export async function runUsersReport(services: Services, options: UsersReportOptions): Promise<number> {
  const key = usersHistoryKey(services.key);
  // Said here, for the users-mode command to run: the devices report's "no history" hint names `lantop`.
  if (!options.json && !options.csv && (options.html !== undefined || options.open === true || services.io.stdout.isTTY)) {
    const store = services.openHistory();
    let isKnown: boolean;
    try {
      isKnown = store.findRouter(key) !== null;
    } finally {
      store.close();
    }
    if (!isKnown) throw new UsageError(`No users history for ${sanitizeText(services.key)} yet.`, 'Record some with `lantop usage --mode users --watch` (or one-shot `usage --mode users`).');
  }
  return runReport({ ...services, key }, options);
}
