// Runs the real Ink app (runApp) on the real process streams against an in-process scripted
// controller, so a test can drive it in a real terminal (tmux) without a router.
// Usage: node --import tsx test/fakes/fake-app-main.ts <exit-code-file>
import { writeFileSync } from 'node:fs';
import { runApp } from '../../src/ui/run-app.js';
import type { RouterController } from '../../src/app/types.js';
import { discovered, historyView, host, makeSnapshot, plan } from './fake-controller.js';

const exitCodeFile = process.argv[2];
const setupPlan = plan('setup', ['acct create lantop', 'acct hook lantop 1']);

const controller: RouterController = {
  label: '198.51.100.1 over telnet',
  protocol: 'telnet',
  async connect() {},
  async listHosts() {
    return [discovered('198.51.100.10', { hostname: 'laptop', mac: '02:00:00:00:00:10', isCounted: true })];
  },
  async plan(action) {
    return action === 'setup' ? setupPlan : plan(action, []);
  },
  async apply(p) {
    return { applied: p.commands, failed: null, isVerified: true, notes: [] };
  },
  watch(listener) {
    let tick = 0;
    const emit = () => {
      tick += 1;
      listener(
        makeSnapshot(
          [
            host('198.51.100.10', { hostname: 'laptop', downBps: 1_000_000 + tick * 1000, upBps: 20_000, downBytes: tick * 1_000_000, upBytes: tick * 20_000 }),
            host('198.51.100.11', { hostname: '\u001b[31mtv\u0007', downBps: 300_000, upBps: 5_000, downBytes: tick * 300_000, upBytes: tick * 5_000 }),
          ],
          { atMs: Date.now(), pollLatencyMs: 12 },
        ),
      );
    };
    emit();
    const timer = setInterval(emit, 250);
    return () => clearInterval(timer);
  },
  async history(period) {
    return historyView(period, [{ identity: 'ip:198.51.100.10', ip: '198.51.100.10', mac: null, hostname: 'laptop', downBytes: 5e9, upBytes: 1e8 }]);
  },
  async blockDevice() {
    return { isDone: false, message: 'not in this fake' };
  },
  async unblockDevice() {
    return { isDone: false, message: 'not in this fake' };
  },
  async quotas() {
    return { quotas: [], subjects: [{ subject: { kind: 'line' }, label: 'whole line (every device)' }], blocks: [], audit: [] };
  },
  async saveQuota() {},
  async removeQuota() {},
  async connections(identity) {
    return {
      atMs: Date.now(),
      identity,
      name: 'laptop',
      addresses: ['198.51.100.10'],
      connections: [],
      accounting: 'unknown',
      enableAccountingCommand: null,
      source: 'fake',
      notes: [],
    };
  },
  async enableConnectionAccounting() {
    return { isDone: false, message: 'not in this fake' };
  },
  async close() {},
};

const code = await runApp({ controller, stdin: process.stdin, stdout: process.stdout, stderr: process.stderr, isColor: !process.env.NO_COLOR });
if (exitCodeFile) writeFileSync(exitCodeFile, String(code));
process.exitCode = code;
