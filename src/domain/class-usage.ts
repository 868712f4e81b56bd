// Traffic classes over time (issue 19: `setup --ports/--protocols`): the router's cumulative
// counters per class (BackendReading.classCounters) → totals that survive router resets and lantop
// restarts, rates from the last two reads, and each read's deltas for the history
// (store/class-store.ts). The counters follow the device rules of counter-deltas.ts: a value below
// its baseline restarts from that value (the rule was re-created: it counted from 0); a class first
// seen after an earlier read was installed since, so its whole value counts; on the very first read
// (no earlier one, no imported state) the values are of unknown age: baseline only.
// Pure: time comes in with every read.
import { serviceName } from './service-names.js';
import { classKey, classOfKey, compareClasses, type ClassProtocol, type TrafficClass } from './traffic-class.js';

/** One class as every output shows it. */
export interface ClassUsage {
  /** classKey: `tcp/443`, `udp`. */
  key: string;
  /** The key and the port's well-known name: `tcp/443 https`, `udp/53 dns`, `udp`. */
  label: string;
  protocol: ClassProtocol;
  /** The remote service's port; null: the whole protocol. */
  port: number | null;
  /** Cumulative since lantop first counted the class (across router resets and lantop restarts). */
  downBytes: number;
  upBytes: number;
  /** Over the interval between the last two reads. */
  downBps: number;
  upBps: number;
}

/** A class's cumulative router counters (BackendReading.classCounters' values; accounting-model.ts
 * CounterPair's shape, not imported: snapshot.ts imports this file and accounting-model.ts it). */
export interface ClassCounterPair {
  downBytes: number;
  upBytes: number;
}

/** What one read added to a class (what the history records). */
export interface ClassDelta {
  downBytes: number;
  upBytes: number;
}

/** exportState()'s object: JSON-able, one small entry per class. */
export interface ClassAccountantState {
  version: 1;
  /** The last read's time; null: none yet. */
  atMs: number | null;
  /** Per class key: the router's raw counters at the last read (null: not read yet) and lantop's totals. */
  classes: Record<string, { baseDownBytes: number | null; baseUpBytes: number | null; downBytes: number; upBytes: number }>;
}

interface Tracked {
  cls: TrafficClass;
  label: string;
  /** The raw counters at the last read that had them; null: none yet. */
  base: ClassCounterPair | null;
  down: number;
  up: number;
  downBps: number;
  upBps: number;
}

const isCount = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** `tcp/443 https`; the bare key where the port has no well-known name (or there is no port). */
export function classLabel(c: TrafficClass): string {
  const name = serviceName(c.protocol, c.port);
  return name === null ? classKey(c) : `${classKey(c)} ${name}`;
}

export class ClassAccountant {
  private readonly tracked = new Map<string, Tracked>();
  private lastAtMs: number | null = null;
  private deltas = new Map<string, ClassDelta>();

  /** The non-zero deltas of the last observe() (what to record in history); empty when none. */
  get lastDeltas(): ReadonlyMap<string, ClassDelta> {
    return this.deltas;
  }

  /**
   * One read. `counters` null (the read failed) changes nothing: the counters are cumulative, so
   * the next good read's deltas span both intervals. `installed` null (not known this read): the
   * classes counted before, and any the counters name. A class no longer installed leaves the view
   * and the state (its recorded history stays). Returns the installed classes in classKey order.
   */
  observe(atMs: number, counters: ReadonlyMap<string, ClassCounterPair> | null, installed: readonly TrafficClass[] | null): ClassUsage[] {
    this.deltas = new Map();
    if (counters === null || !Number.isFinite(atMs)) return this.view();
    const wanted = this.wantedKeys(counters, installed);
    for (const key of [...this.tracked.keys()]) if (!wanted.has(key)) this.tracked.delete(key);
    const hasEarlierRead = this.lastAtMs !== null;
    const elapsedS = hasEarlierRead ? (atMs - (this.lastAtMs as number)) / 1000 : 0;
    for (const [key, cls] of wanted) {
      let t = this.tracked.get(key);
      if (t === undefined) {
        t = { cls, label: classLabel(cls), base: null, down: 0, up: 0, downBps: 0, upBps: 0 };
        this.tracked.set(key, t);
      }
      t.downBps = 0;
      t.upBps = 0;
      const c = counters.get(key);
      // Installed but not in this read, or unreadable: the baseline waits for the next read.
      if (c === undefined || !isCount(c.downBytes) || !isCount(c.upBytes)) continue;
      let dDown: number;
      let dUp: number;
      if (t.base === null) {
        // First read of the class. After an earlier read: installed since, counted from 0. Else unknown age.
        dDown = hasEarlierRead ? c.downBytes : 0;
        dUp = hasEarlierRead ? c.upBytes : 0;
      } else {
        dDown = c.downBytes < t.base.downBytes ? c.downBytes : c.downBytes - t.base.downBytes;
        dUp = c.upBytes < t.base.upBytes ? c.upBytes : c.upBytes - t.base.upBytes;
      }
      t.base = { downBytes: c.downBytes, upBytes: c.upBytes };
      t.down += dDown;
      t.up += dUp;
      if (elapsedS > 0) {
        t.downBps = dDown / elapsedS;
        t.upBps = dUp / elapsedS;
      }
      if (dDown > 0 || dUp > 0) this.deltas.set(key, { downBytes: dDown, upBytes: dUp });
    }
    this.lastAtMs = atMs;
    return this.view();
  }

  /** The classes as of the last read (without a new one). */
  view(): ClassUsage[] {
    return [...this.tracked.values()]
      .sort((a, b) => compareClasses(a.cls, b.cls))
      .map((t) => ({ key: classKey(t.cls), label: t.label, protocol: t.cls.protocol, port: t.cls.port, downBytes: t.down, upBytes: t.up, downBps: t.downBps, upBps: t.upBps }));
  }

  exportState(): ClassAccountantState {
    const classes: ClassAccountantState['classes'] = {};
    for (const [key, t] of this.tracked) classes[key] = { baseDownBytes: t.base?.downBytes ?? null, baseUpBytes: t.base?.upBytes ?? null, downBytes: t.down, upBytes: t.up };
    return { version: 1, atMs: this.lastAtMs, classes };
  }

  /**
   * Takes the baselines and totals of a previous run. False (nothing taken) when the object is no
   * state; inside one, an entry that is not a class with counts is skipped.
   */
  importState(state: unknown): boolean {
    if (typeof state !== 'object' || state === null) return false;
    const s = state as Partial<ClassAccountantState>;
    if (s.version !== 1 || !(s.atMs === null || (typeof s.atMs === 'number' && Number.isFinite(s.atMs)))) return false;
    if (typeof s.classes !== 'object' || s.classes === null || Array.isArray(s.classes)) return false;
    this.tracked.clear();
    this.deltas = new Map();
    this.lastAtMs = s.atMs;
    for (const [key, e] of Object.entries(s.classes as Record<string, unknown>)) {
      const cls = classOfKey(key);
      if (cls === null || classKey(cls) !== key || typeof e !== 'object' || e === null) continue;
      const { baseDownBytes, baseUpBytes, downBytes, upBytes } = e as Record<string, unknown>;
      if (!isCount(downBytes) || !isCount(upBytes)) continue;
      // Both raw counters, or neither (not read yet).
      const base = isCount(baseDownBytes) && isCount(baseUpBytes) ? { downBytes: baseDownBytes, upBytes: baseUpBytes } : null;
      if (base === null && !(baseDownBytes === null && baseUpBytes === null)) continue;
      this.tracked.set(key, { cls, label: classLabel(cls), base, down: downBytes, up: upBytes, downBps: 0, upBps: 0 });
    }
    return true;
  }

  /** The classes this read is about, by key. */
  private wantedKeys(counters: ReadonlyMap<string, ClassCounterPair>, installed: readonly TrafficClass[] | null): Map<string, TrafficClass> {
    const out = new Map<string, TrafficClass>();
    if (installed !== null) {
      for (const c of installed) {
        const cls = classOfKey(classKey(c));
        if (cls !== null) out.set(classKey(cls), cls);
      }
      return out;
    }
    for (const [key, t] of this.tracked) out.set(key, t.cls);
    for (const key of counters.keys()) {
      const cls = classOfKey(key);
      if (cls !== null && classKey(cls) === key) out.set(key, cls);
    }
    return out;
  }
}
