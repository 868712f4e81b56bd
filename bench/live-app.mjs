// The interactive app exactly as `lantop --host H --port P` builds it (LiveRouterController +
// runApp over dist/), but with a 1 s poll interval as in `lantop demo` (the CLI has no --interval
// for the app). Usage: node bench/live-app.mjs PORT   (LANTOP_PASSWORD, LANTOP_DB in the env)
// First, as in src/cli.ts: React's production build (NODE_ENV), before ink/react are evaluated.
import '../dist/production-env.js';
import { resolveSettings } from '../dist/config/resolve.js';
import { LiveRouterController } from '../dist/app/controller.js';
import { HistoryStore } from '../dist/store/history-store.js';
import { systemClock } from '../dist/domain/clock.js';
import { runApp } from '../dist/ui/run-app.js';

const port = Number(process.argv[2]);
const settings = resolveSettings({ host: '127.0.0.1', port, protocol: 'telnet', user: 'admin', wan: 'ppp0', db: process.env.LANTOP_DB }, {}, undefined, 'bench');
const store = HistoryStore.open({ path: process.env.LANTOP_DB });
const controller = new LiveRouterController({ settings, password: async () => process.env.LANTOP_PASSWORD ?? 'admin', clock: systemClock, store, profiles: null, intervalMs: 1000 });
try {
  process.exitCode = await runApp({ controller, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, isColor: true });
} finally {
  await controller.close();
  store.close();
}
