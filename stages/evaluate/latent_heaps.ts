/**
 * One bounded min-heap per latent, in flat typed arrays: keeps the `cap` entries with the largest keys
 * (each entry: key, a u32 token index, an f32 value). Memory d_sae × cap entries whatever the number of
 * tokens; a push costs O(1) when rejected and O(log cap) when accepted.
 *
 * Used twice: top-N activating tokens (key = activation) and a uniform sample of each latent's firings
 * for quantile examples (key = −hash(token, latent): bottom-k sampling, deterministic, independent of
 * batch order).
 */
export class LatentHeaps {
  readonly keys: Float64Array;
  readonly tokens: Uint32Array;
  readonly values: Float32Array;
  readonly size: Uint32Array;

  constructor(readonly dSae: number, readonly cap: number) {
    if (cap < 1) throw new Error(`latent heaps: capacity must be ≥ 1, got ${cap}`);
    this.keys = new Float64Array(dSae * cap);
    this.tokens = new Uint32Array(dSae * cap);
    this.values = new Float32Array(dSae * cap);
    this.size = new Uint32Array(dSae);
  }

  /** Entry a is "less" than b: smaller key, or equal key and larger token (so ties keep earlier tokens). */
  #less(a: number, b: number): boolean {
    const ka = this.keys[a], kb = this.keys[b];
    return ka < kb || (ka === kb && this.tokens[a] > this.tokens[b]);
  }

  #swap(a: number, b: number): void {
    const k = this.keys[a], t = this.tokens[a], v = this.values[a];
    this.keys[a] = this.keys[b];
    this.tokens[a] = this.tokens[b];
    this.values[a] = this.values[b];
    this.keys[b] = k;
    this.tokens[b] = t;
    this.values[b] = v;
  }

  push(latent: number, key: number, token: number, value: number): void {
    const base = latent * this.cap, n = this.size[latent];
    if (n < this.cap) {
      let i = n;
      this.keys[base + i] = key;
      this.tokens[base + i] = token;
      this.values[base + i] = value;
      this.size[latent] = n + 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (!this.#less(base + i, base + p)) break;
        this.#swap(base + i, base + p);
        i = p;
      }
      return;
    }
    const root = this.keys[base];
    if (key < root || (key === root && token >= this.tokens[base])) return;
    this.keys[base] = key;
    this.tokens[base] = token;
    this.values[base] = value;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < n && this.#less(base + l, base + m)) m = l;
      if (r < n && this.#less(base + r, base + m)) m = r;
      if (m === i) break;
      this.#swap(base + i, base + m);
      i = m;
    }
  }

  /** The entries of one latent, largest key first. */
  sorted(latent: number): { key: number; token: number; value: number }[] {
    const base = latent * this.cap, out = [];
    for (let i = 0; i < this.size[latent]; i++) {
      out.push({ key: this.keys[base + i], token: this.tokens[base + i], value: this.values[base + i] });
    }
    return out.sort((a, b) => b.key - a.key || a.token - b.token);
  }
}

/** A 32-bit mix of (token, latent) in [0, 1): the sampling key for bottom-k sampling. */
export function sampleHash(token: number, latent: number): number {
  let h = Math.imul(token ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(latent + 0x632be5ab, 0xc2b2ae35);
  h ^= h >>> 16;
  h = Math.imul(h, 0x7feb352d);
  h ^= h >>> 15;
  h = Math.imul(h, 0x846ca68b);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}
