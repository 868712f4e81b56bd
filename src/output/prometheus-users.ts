// Prometheus metrics of users mode (issue 18, `lantop --mode users serve`): one series per user of
// the gateway, labelled `router` and `user`, in the naming style of the device metrics
// (output/prometheus.ts). No sockets here: app/users-serve.ts owns the listener. User names passed
// the login-name rule before they got here; they are still sanitised like any label from a router.
import { Counter, Gauge, Registry } from 'prom-client';
import type { UserUsage } from '../domain/user-usage.js';
import { labelValue } from './prometheus.js';

const USER_LABELS = ['router', 'user'] as const;

export interface UsersMetrics {
  registry: Registry;
  /** The newest poll of one gateway: its users (with their totals, rates and live sessions). */
  update(router: string, atMs: number, users: readonly UserUsage[]): void;
}

export function createUsersMetrics(options: { registry?: Registry } = {}): UsersMetrics {
  const registry = options.registry ?? new Registry();
  const latest = new Map<string, { atMs: number; users: readonly UserUsage[] }>();
  const each = (fn: (labels: { router: string; user: string }, u: UserUsage) => void) => {
    for (const [router, poll] of latest) for (const u of poll.users) fn({ router: labelValue(router), user: labelValue(u.user) }, u);
  };
  // The accountant's totals survive gateway counter resets and ended sessions (domain/user-usage.ts),
  // and go on from the history at start, so they are honest counters.
  new Counter({
    name: 'lantop_user_download_bytes_total',
    help: 'Bytes from the gateway to a user\'s SSH sessions (what the user downloads through them); monotonic across sessions and counter resets.',
    labelNames: USER_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      each((labels, u) => this.inc(labels, u.downBytes));
    },
  });
  new Counter({
    name: 'lantop_user_upload_bytes_total',
    help: 'Bytes from a user\'s SSH sessions to the gateway (what the user uploads through them); monotonic across sessions and counter resets.',
    labelNames: USER_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      each((labels, u) => this.inc(labels, u.upBytes));
    },
  });
  new Gauge({
    name: 'lantop_user_download_bytes_per_second',
    help: 'A user\'s download rate over the last poll interval, bytes per second.',
    labelNames: USER_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      each((labels, u) => this.set(labels, Math.round(u.downBps)));
    },
  });
  new Gauge({
    name: 'lantop_user_upload_bytes_per_second',
    help: 'A user\'s upload rate over the last poll interval, bytes per second.',
    labelNames: USER_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      each((labels, u) => this.set(labels, Math.round(u.upBps)));
    },
  });
  new Gauge({
    name: 'lantop_user_sessions',
    help: 'A user\'s live SSH sessions counted at the last poll (lantop\'s own login is never counted).',
    labelNames: USER_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      each((labels, u) => this.set(labels, u.liveSessions));
    },
  });
  new Gauge({
    name: 'lantop_users_last_poll_timestamp_seconds',
    help: 'When the gateway\'s users were last polled successfully (Unix seconds).',
    labelNames: ['router'],
    registers: [registry],
    collect() {
      this.reset();
      for (const [router, poll] of latest) this.set({ router: labelValue(router) }, poll.atMs / 1000);
    },
  });
  return {
    registry,
    update(router, atMs, users) {
      latest.set(router, { atMs, users: [...users] });
    },
  };
}
