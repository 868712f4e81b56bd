// Seeded pseudo-random numbers (mulberry32) so a seed gives the same hosts, MACs and traffic every
// run. State is a plain number so it can live inside the router model.

export interface Prng {
  state: number;
}

export function createPrng(seed: number): Prng {
  return { state: seed >>> 0 };
}

/** Uniform in [0, 1). */
export function nextFloat(prng: Prng): number {
  prng.state = (prng.state + 0x6d2b79f5) >>> 0;
  let t = prng.state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

/** Integer in [min, max]. */
export function nextInt(prng: Prng, min: number, max: number): number {
  return min + Math.floor(nextFloat(prng) * (max - min + 1));
}

/** Standard normal (Box–Muller). */
export function nextGaussian(prng: Prng): number {
  const u = Math.max(nextFloat(prng), 1e-12);
  const v = nextFloat(prng);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export function chance(prng: Prng, probability: number): boolean {
  return nextFloat(prng) < probability;
}
