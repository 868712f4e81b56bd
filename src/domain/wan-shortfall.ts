// The shortfall notice (issue 19): when the per-device counters saw clearly less than crossed the
// WAN for a sustained minute, one notice naming the likely cause (a fast path, uncounted devices,
// the router's own traffic uncounted). Reads the reconciler's recent window (wan.ts). Pure.
import type { OffloadReport } from './offload-model.js';
import { accountedShareOf, type WanWindow } from './wan.js';

/** As src/domain/snapshot.ts Notice, without atMs (the caller stamps it). */
export interface WanNotice {
  level: 'info' | 'warn' | 'error';
  text: string;
}

export interface ShortfallContext {
  /** The fast paths found at connect (or simply whether one is on); null/absent: not probed. */
  offload?: OffloadReport | boolean | null;
  /** Devices seen on the LAN that have no per-device counters (yet). */
  uncountedHosts?: number;
}

export interface ShortfallOptions {
  /** A direction is short below this share. Default 0.9. */
  threshold?: number;
  /** …and counts as recovered (re-arming the notice) from this share on. Default 0.95. */
  rearmShare?: number;
  /** The window must cover this much time. Default 60 s. */
  minWindowMs?: number;
  /** …and this much must have crossed (WAN − router) in the direction. Default 1 MB. */
  minBytes?: number;
}

/**
 * A sustained shortfall — the per-device counters saw less than `threshold` of what crossed the WAN
 * over a window of at least a minute with at least 1 MB crossed — yields ONE notice, naming the
 * likely cause; the next one only after the share recovered (≥ rearmShare, measured the same way).
 */
export class ShortfallDetector {
  private readonly threshold: number;
  private readonly rearmShare: number;
  private readonly minWindowMs: number;
  private readonly minBytes: number;
  private armed = { down: true, up: true };

  constructor(options: ShortfallOptions = {}) {
    this.threshold = options.threshold ?? 0.9;
    this.rearmShare = options.rearmShare ?? 0.95;
    this.minWindowMs = options.minWindowMs ?? 60_000;
    this.minBytes = options.minBytes ?? 1_000_000;
  }

  /** Call once a poll with the reconciler's recentWindow(); a notice at most once per shortfall. */
  check(window: WanWindow | null, context: ShortfallContext = {}): WanNotice | null {
    if (window === null || window.durationMs < this.minWindowMs) return null;
    const short: Array<{ direction: 'download' | 'upload'; share: number }> = [];
    for (const dir of ['down', 'up'] as const) {
      const share = accountedShareOf(window[dir].wanBytes, window[dir].routerBytes, window[dir].hostBytes, this.minBytes);
      if (share === null) continue;
      if (share >= this.rearmShare) this.armed[dir] = true;
      else if (share < this.threshold && this.armed[dir]) {
        this.armed[dir] = false;
        short.push({ direction: dir === 'down' ? 'download' : 'upload', share });
      }
    }
    if (short.length === 0) return null;
    const figures = short.map((s) => `${Math.floor(s.share * 100)}% of the ${s.direction}`).join(' and ');
    return {
      level: 'warn',
      text: `Only ${figures} on ${window.interface} over the last minute was counted per device. ${this.likelyCause(window, context)}`,
    };
  }

  private likelyCause(window: WanWindow, context: ShortfallContext): string {
    const causes: string[] = [];
    const offload = context.offload;
    const isOffloadOn = typeof offload === 'boolean' ? offload : offload?.isOn === true;
    if (isOffloadOn) {
      const on = typeof offload === 'object' && offload !== null ? offload.findings.filter((f) => f.state === 'on') : [];
      const names = on.map((f) => f.name).join(', ');
      const isHardware = on.some((f) => f.isHardware === true);
      causes.push(
        `${names === '' ? 'a fast path (flow offload)' : names} is on: forwarded traffic skips the per-device counters` +
          (isHardware ? ', and under hardware offload the WAN counters may undercount too' : ''),
      );
    }
    const uncounted = context.uncountedHosts ?? 0;
    if (uncounted > 0) causes.push(`${uncounted} device${uncounted === 1 ? ' has' : 's have'} no per-device counters yet`);
    if (!window.isRouterCounted) causes.push('the router\'s own traffic (DNS, updates, VPN) cannot be counted on this router and shows as unaccounted');
    if (causes.length === 0) return 'No fast path was found and every device is counted; run `lantop doctor` to look further.';
    return `Likely cause: ${causes.join('; ')}.`;
  }
}
