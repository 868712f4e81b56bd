// Reconciliation against the WAN (issue 19): what crossed the WAN interface, what the router itself
// sent and received there, and how much of the rest lantop's per-device counters saw.

/** The WAN interface's own counters at one read (cumulative, as the kernel keeps them). */
export interface WanSample {
  atMs: number;
  interface: string;
  rxBytes: number;
  rxPackets: number;
  txBytes: number;
  txPackets: number;
  /** Bytes of link header per packet the interface counts and netfilter does not (Ethernet 14, PPP 0). */
  linkHeaderBytes: number;
  /** 32 on old kernels' /proc/net/dev (wraps at 4 GiB), else 64. */
  counterBits: 32 | 64;
  /** (Added) The ARPHRD_* link type read from /sys/class/net/<wan>/type; null when not read. */
  linkType?: number | null;
  /** (Added) False when the link type was unknown and linkHeaderBytes is a guess of 0. */
  isLinkHeaderKnown?: boolean;
}

/** The `wan` object of `usage --json` and the snapshot. Bytes at layer 3 (as netfilter counts them). */
export interface WanView {
  interface: string;
  /** Since lantop started watching this router (this run): what crossed the WAN. */
  downBytes: number;
  upBytes: number;
  /** The router's own traffic on the WAN over the same span; null when lantop cannot count it. */
  routerDownBytes: number | null;
  routerUpBytes: number | null;
  /** The per-device totals over the same span. */
  hostDownBytes: number;
  hostUpBytes: number;
  /**
   * hosts / (WAN − router's own) per direction over the span, clamped to 0–1 (the reads' timing
   * alone can put it a little over 1); null until enough crossed the WAN (src/domain/wan.ts).
   */
  accountedShare: { down: number | null; up: number | null };
  /** The same over the last minute (the live screen's figure). */
  recentAccountedShare: { down: number | null; up: number | null };
  /** When the span began (ms). */
  sinceMs: number;
  /**
   * (Added) Reads whose deltas were left out of the span: a counter went down (reboot, interface
   * re-created, lantop restarted), the WAN interface changed, the clock stepped back, or too long a
   * gap. The bytes of those intervals are in none of the figures above.
   */
  discardedReads?: number;
  /** (Added) As in the last WanSample: false when the link header was a guess (unknown link type). */
  isLinkHeaderKnown?: boolean;
}
