// The emulated Broadcom router with 250 hosts and real-time simulated traffic, in its own process
// (so its CPU is not counted against the app). Prints "PORT <n>" and runs until stdin closes or
// a signal arrives. Plain JavaScript over dist/ (run `npm run build` first).
import { startEmulatedRouter } from '../dist/emulator/index.js';

const router = await startEmulatedRouter({ clock: 'real', hostCount: 250, churn: false });
process.stdout.write(`PORT ${router.port} USER ${router.user} PASSWORD ${router.password}\n`);
const stop = async () => {
  await router.close();
  process.exit(0);
};
process.stdin.on('end', stop);
process.stdin.resume();
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// A bound on a forgotten emulator; above the longest bench that uses it (the app section: 10 min
// of live usage, then its floors).
setTimeout(stop, 30 * 60_000).unref();
