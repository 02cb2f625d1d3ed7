/**
 * Logit lens of SAE latents: each latent's direct effect on the logits, e_l = W_dec[l] · W_U (length vocab),
 * and its n most boosted (largest e_l[t]) and most suppressed (smallest e_l[t]) tokens, as on Neuronpedia's
 * feature pages. W_U is the bare final projection found by unembedding.ts: no final layer norm is applied
 * (like Neuronpedia and SAELens's dashboards), so the values are unnormalised logit contributions of a unit
 * activation. Ties go to the lower token id.
 *
 * Memory stays bounded for wide SAEs: e is computed for a block of latents at a time (block × vocab float64,
 * ≤ 32 MB) and only the top / bottom n per latent are kept, so the result is 2 · n entries per latent.
 * The loop runs over W_U's rows outermost within a block, so each row is read once per block, not per latent.
 */
import type { Unembedding } from "./unembedding.ts";

/** Top and bottom n tokens of each latent in `latents`, flat: latent i's entries are [i·n, (i+1)·n). */
export interface LogitLens {
  latents: number[];
  n: number;
  boostedIds: Int32Array;
  boostedValues: Float64Array;
  suppressedIds: Int32Array;
  suppressedValues: Float64Array;
}

/** Entries of one latent (its position in `lens.latents`): [token id, value], most extreme first. */
export function lensEntries(
  lens: LogitLens,
  i: number,
): { boosted: [number, number][]; suppressed: [number, number][] } {
  const pick = (ids: Int32Array, vals: Float64Array) =>
    Array.from({ length: lens.n }, (_, r) => [ids[i * lens.n + r], vals[i * lens.n + r]] as [number, number])
      .filter(([t]) => t >= 0);
  return {
    boosted: pick(lens.boostedIds, lens.boostedValues),
    suppressed: pick(lens.suppressedIds, lens.suppressedValues),
  };
}

const BLOCK_BYTES = 32 << 20;

/**
 * The logit lens of `latents` (default: all rows of W_dec [dSae, d]). `blockLatents` overrides the block
 * size (tests use it to exercise partial blocks).
 */
export function logitLens(
  wDec: ArrayLike<number>,
  u: Unembedding,
  n: number,
  latents: number[],
  blockLatents = Math.max(1, Math.floor(BLOCK_BYTES / (8 * u.vocab))),
): LogitLens {
  const { d, vocab: V, W } = u;
  const m = Math.min(n, V), L = latents.length;
  const lens: LogitLens = {
    latents,
    n: m,
    boostedIds: new Int32Array(L * m).fill(-1),
    boostedValues: new Float64Array(L * m),
    suppressedIds: new Int32Array(L * m).fill(-1),
    suppressedValues: new Float64Array(L * m),
  };
  const B = Math.max(1, Math.min(blockLatents, L));
  const e = new Float64Array(B * V);
  for (let s = 0; s < L; s += B) {
    const b = Math.min(B, L - s);
    e.fill(0, 0, b * V);
    for (let j = 0; j < d; j++) {
      const row = j * V;
      for (let i = 0; i < b; i++) {
        const v = wDec[latents[s + i] * d + j];
        if (v === 0) continue;
        const o = i * V;
        for (let t = 0; t < V; t++) e[o + t] += v * W[row + t];
      }
    }
    for (let i = 0; i < b; i++) {
      const at = (s + i) * m;
      keepExtreme(e, i * V, V, m, lens.boostedIds, lens.boostedValues, at, 1);
      keepExtreme(e, i * V, V, m, lens.suppressedIds, lens.suppressedValues, at, -1);
    }
  }
  return lens;
}

/**
 * The m entries of e[o, o+V) with the largest sign·value, most extreme first, into ids/vals[at, at+m):
 * an insertion list of length m, so O(V) for the usual case and never more than O(V·m).
 */
function keepExtreme(
  e: Float64Array,
  o: number,
  V: number,
  m: number,
  ids: Int32Array,
  vals: Float64Array,
  at: number,
  sign: 1 | -1,
) {
  let count = 0;
  for (let t = 0; t < V; t++) {
    const v = sign * e[o + t];
    if (count === m && !(v > sign * vals[at + m - 1])) continue; // ties keep the earlier (lower) id
    let p = count < m ? count++ : m - 1;
    while (p > 0 && v > sign * vals[at + p - 1]) {
      ids[at + p] = ids[at + p - 1];
      vals[at + p] = vals[at + p - 1];
      p--;
    }
    ids[at + p] = t;
    vals[at + p] = e[o + t];
  }
}
