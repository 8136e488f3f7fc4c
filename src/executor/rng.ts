/** A small seeded generator (mulberry32), so that weights and synthetic batches are the same on every run. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  uniform(out: Float32Array, low: number, high: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * this.next();
    return out;
  }

  /** Standard normal samples (Box–Muller). */
  normal(out: Float32Array): Float32Array {
    for (let i = 0; i < out.length; i += 2) {
      const u = 1 - this.next();
      const v = this.next();
      const r = Math.sqrt(-2 * Math.log(u));
      out[i] = r * Math.cos(2 * Math.PI * v);
      if (i + 1 < out.length) out[i + 1] = r * Math.sin(2 * Math.PI * v);
    }
    return out;
  }
}
