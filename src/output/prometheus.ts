// Prometheus metrics rendered from the Snapshot (STYLE.md principle 2: one model, every output).
// No sockets here: `lantop serve` (src/app/serve.ts) owns the HTTP listener; this file only maps
// snapshots onto a prom-client Registry, so tests can check the exposition text directly.
//
// Per address family (issue 15): lantop_host_bytes_total stays the total over both families (its
// labels unchanged, so dashboards keep working); lantop_host_family_bytes_total is the same bytes
// split by a `family` label ("ipv4" | "ipv6"), in a metric of its own so that summing either one
// never counts a byte twice. The unattributed IPv6 row is exported like a host, with hostname
// "unattributed IPv6" and empty ip and mac.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { sanitizeText } from '../sanitize.js';
import { familyBytesOf } from '../domain/family.js';
import { isUnattributedIdentity, UNATTRIBUTED_IPV6_NAME, type Snapshot } from '../domain/snapshot.js';
import type { CounterUsage } from '../domain/counter-usage.js';

/** Label values come from the network (DHCP hostnames…): control characters and escapes removed, capped. */
export const MAX_LABEL_LENGTH = 64;

export function labelValue(text: string | null): string {
  return text === null ? '' : sanitizeText(text, MAX_LABEL_LENGTH);
}

const HOST_LABELS = ['router', 'ip', 'mac', 'hostname', 'direction'] as const;
const RATE_LABELS = HOST_LABELS;
const FAMILY_LABELS = [...HOST_LABELS, 'family'] as const;

/** Seconds; a telnet poll on a slow router takes 50 ms … a few seconds. */
export const POLL_DURATION_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface LantopMetrics {
  registry: Registry;
  /** Takes the newest snapshot of one router; the exposition reflects it on the next scrape. */
  update(snapshot: Snapshot): void;
}

export function createLantopMetrics(options: { registry?: Registry; withDefaults?: boolean } = {}): LantopMetrics {
  const registry = options.registry ?? new Registry();
  const latest = new Map<string, Snapshot>();

  const hostLabels = (s: Snapshot, h: Snapshot['hosts'][number], direction: 'down' | 'up') => ({
    router: labelValue(s.router),
    ip: labelValue(h.ip),
    mac: labelValue(h.mac),
    hostname: isUnattributedIdentity(h.identity) ? UNATTRIBUTED_IPV6_NAME : labelValue(h.hostname),
    direction,
  });

  // The snapshot's downBytes/upBytes are lantop's cumulative totals, which already survive
  // router reboots and counter wraps (domain/accounting.ts), so exporting them as a counter is
  // honest: the value only goes down if this process restarts without history.
  new Counter({
    name: 'lantop_host_bytes_total',
    help: 'Bytes counted by lantop for a host (direction down = from the WAN to the host, up = to the WAN); monotonic across router resets.',
    labelNames: HOST_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        for (const h of s.hosts) {
          this.inc(hostLabels(s, h, 'down'), h.downBytes);
          this.inc(hostLabels(s, h, 'up'), h.upBytes);
        }
      }
    },
  });
  new Counter({
    name: 'lantop_host_family_bytes_total',
    help: 'Bytes counted by lantop for a host, by address family (family ipv4 or ipv6; they add up to lantop_host_bytes_total); monotonic across router resets.',
    labelNames: FAMILY_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        for (const h of s.hosts) {
          const split = familyBytesOf(h);
          this.inc({ ...hostLabels(s, h, 'down'), family: 'ipv4' }, split.down4Bytes);
          this.inc({ ...hostLabels(s, h, 'up'), family: 'ipv4' }, split.up4Bytes);
          this.inc({ ...hostLabels(s, h, 'down'), family: 'ipv6' }, split.down6Bytes);
          this.inc({ ...hostLabels(s, h, 'up'), family: 'ipv6' }, split.up6Bytes);
        }
      }
    },
  });
  new Gauge({
    name: 'lantop_host_rate_bytes_per_second',
    help: 'Current rate of a host over the last poll interval, bytes per second.',
    labelNames: RATE_LABELS,
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        for (const h of s.hosts) {
          this.set(hostLabels(s, h, 'down'), h.downBps);
          this.set(hostLabels(s, h, 'up'), h.upBps);
        }
      }
    },
  });
  new Gauge({
    name: 'lantop_hosts',
    help: 'Hosts in the latest snapshot of the router.',
    labelNames: ['router'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) this.set({ router: labelValue(s.router) }, s.hosts.length);
    },
  });
  new Gauge({
    name: 'lantop_up',
    help: '1 when lantop is connected to the router, 0 otherwise.',
    labelNames: ['router'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) this.set({ router: labelValue(s.router) }, s.connection.kind === 'connected' ? 1 : 0);
    },
  });
  // Issue 19: reconciliation against the WAN, and the fast paths found at connect.
  new Counter({
    name: 'lantop_wan_bytes_total',
    help: "Bytes that crossed the router's WAN interface since lantop started watching it (layer 3, as the firewall counts; direction down = received from the WAN).",
    labelNames: ['router', 'interface', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        if (!s.wan) continue;
        const labels = { router: labelValue(s.router), interface: labelValue(s.wan.interface) };
        this.inc({ ...labels, direction: 'down' }, s.wan.downBytes);
        this.inc({ ...labels, direction: 'up' }, s.wan.upBytes);
      }
    },
  });
  new Counter({
    name: 'lantop_router_own_bytes_total',
    help: "The router's own traffic on the WAN (what it received itself, down, and sent itself, up) over the same span as lantop_wan_bytes_total; absent where lantop cannot count it.",
    labelNames: ['router', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        if (!s.wan) continue;
        if (s.wan.routerDownBytes !== null) this.inc({ router: labelValue(s.router), direction: 'down' }, s.wan.routerDownBytes);
        if (s.wan.routerUpBytes !== null) this.inc({ router: labelValue(s.router), direction: 'up' }, s.wan.routerUpBytes);
      }
    },
  });
  new Gauge({
    name: 'lantop_accounted_ratio',
    help: "Share of the WAN's forwarded traffic (WAN minus the router's own) that lantop's per-device counters saw, 0-1 (window recent = last minute, run = since lantop started watching); absent until enough crossed.",
    labelNames: ['router', 'direction', 'window'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        if (!s.wan) continue;
        const router = labelValue(s.router);
        for (const [window, shares] of [['run', s.wan.accountedShare], ['recent', s.wan.recentAccountedShare]] as const) {
          if (shares.down !== null) this.set({ router, direction: 'down', window }, shares.down);
          if (shares.up !== null) this.set({ router, direction: 'up', window }, shares.up);
        }
      }
    },
  });
  new Gauge({
    name: 'lantop_offload_active',
    help: 'A fast path that skips the per-device counters (flow offload, flow cache): 1 on, 0 off, per kind found on the router at connect.',
    labelNames: ['router', 'kind'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        for (const f of s.offload?.findings ?? []) if (f.state !== 'unknown') this.set({ router: labelValue(s.router), kind: f.kind }, f.state === 'on' ? 1 : 0);
      }
    },
  });
  // Traffic classes (issue 19, setup --ports/--protocols): the snapshot's class totals are lantop's
  // cumulative ones (domain/class-usage.ts), monotonic across router resets like the hosts'.
  new Counter({
    name: 'lantop_class_bytes_total',
    help: 'Bytes a traffic class counted (class = protocol/port of the remote service, e.g. tcp/443, or a whole protocol; any device; direction down = from the WAN); monotonic across router resets. Classes overlap the per-host counters.',
    labelNames: ['router', 'class', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        for (const c of s.classes ?? []) {
          const labels = { router: labelValue(s.router), class: labelValue(c.key) };
          this.inc({ ...labels, direction: 'down' }, c.downBytes);
          this.inc({ ...labels, direction: 'up' }, c.upBytes);
        }
      }
    },
  });
  new Gauge({
    name: 'lantop_class_rate_bytes_per_second',
    help: 'Current rate of a traffic class over the last poll interval, bytes per second.',
    labelNames: ['router', 'class', 'direction'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) {
        for (const c of s.classes ?? []) {
          const labels = { router: labelValue(s.router), class: labelValue(c.key) };
          this.set({ ...labels, direction: 'down' }, c.downBps);
          this.set({ ...labels, direction: 'up' }, c.upBps);
        }
      }
    },
  });
  // Custom counters (issue 18, lantop counter add): totals since the counter's last `counter reset`
  // (a reset reads as a counter reset, which rate() and increase() handle), across router reboots.
  for (const [unit, pick] of [['bytes', (c: CounterUsage) => c.bytes], ['packets', (c: CounterUsage) => c.packets]] as const) {
    new Counter({
      name: `lantop_counter_${unit}_total`,
      help: `${unit === 'bytes' ? 'Bytes' : 'Packets'} a custom counter (lantop counter add) counted since its last reset; monotonic across router reboots.`,
      labelNames: ['router', 'counter'],
      registers: [registry],
      collect() {
        this.reset();
        for (const s of latest.values()) for (const c of s.counters ?? []) this.inc({ router: labelValue(s.router), counter: labelValue(c.name) }, pick(c));
      },
    });
  }
  new Gauge({
    name: 'lantop_counter_rate_bytes_per_second',
    help: 'Current rate of a custom counter over the last poll interval, bytes per second.',
    labelNames: ['router', 'counter'],
    registers: [registry],
    collect() {
      this.reset();
      for (const s of latest.values()) for (const c of s.counters ?? []) this.set({ router: labelValue(s.router), counter: labelValue(c.name) }, c.bps);
    },
  });
  const pollDuration = new Histogram({
    name: 'lantop_poll_duration_seconds',
    help: 'Time one poll of the router took (counter listing, and discovery when due).',
    labelNames: ['router'],
    buckets: POLL_DURATION_BUCKETS,
    registers: [registry],
  });

  if (options.withDefaults !== false) collectDefaultMetrics({ register: registry });

  return {
    registry,
    update(snapshot) {
      latest.set(snapshot.router, snapshot);
      if (snapshot.pollLatencyMs !== null) pollDuration.observe({ router: labelValue(snapshot.router) }, snapshot.pollLatencyMs / 1000);
    },
  };
}
