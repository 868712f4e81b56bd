// The interactive app exactly as `lantop --host H --port P` builds it (the composition root's
// services → LiveRouterController → runApp, over dist/), but with a 1 s poll interval as in
// `lantop demo` (the CLI has no --interval for the app).
// Usage: node bench/live-app.mjs PORT [--headless]   (LANTOP_PASSWORD, LANTOP_DB in the env)
// --headless: the same controller, polls and history with no screen (the live screen's
// subscription, no Ink): what the app costs before it draws anything (bench/app-bench.ts's floor).
// First, as in src/cli.ts: React's production build (NODE_ENV) and V8's young generation kept at
// its first size (src/production-env.ts), before anything else loads.
import '../dist/production-env.js';
import { resolveSettings } from '../dist/config/resolve.js';
import { servicesOf } from '../dist/app/services.js';
import { LiveRouterController } from '../dist/app/controller.js';

const port = Number(process.argv[2]);
const isHeadless = process.argv.includes('--headless');
const settings = resolveSettings({ host: '127.0.0.1', port, protocol: 'telnet', user: 'admin', wan: 'ppp0', db: process.env.LANTOP_DB }, {}, undefined, 'bench');
const services = servicesOf({
  settings,
  profiles: null,
  password: { isKnown: true, get: async () => process.env.LANTOP_PASSWORD ?? 'admin' },
  io: { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin },
  env: process.env,
});
const store = services.openHistory();
const controller = new LiveRouterController({ services, store, intervalMs: 1000 });
try {
  if (isHeadless) {
    await controller.connect();
    let polls = 0;
    controller.watch(() => {
      polls += 1;
    });
    process.stdout.write(`headless: connected to ${controller.label}; polling (q quits)\n`);
    if (process.stdin.isTTY) process.stdin.setRawMode(true);
    await new Promise((resolve) => process.stdin.on('data', (d) => String(d).includes('q') && resolve(undefined)));
    process.stdout.write(`${polls} polls\n`);
    process.exitCode = 0;
  } else {
    const { runApp } = await import('../dist/ui/run-app.js');
    process.exitCode = await runApp({ controller, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, isColor: true });
  }
} finally {
  await controller.close();
  store.close();
  process.stdin.pause();
}
