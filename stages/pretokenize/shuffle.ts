/**
 * Seeded shuffling: a small deterministic PRNG (mulberry32) and Fisher-Yates, so the same seed gives
 * the same order on every machine and run.
 */
import type { Packed } from "./pack.ts";

/** mulberry32: uniform floats in [0, 1) from a 32-bit seed. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
export function permutation(n: number, seed: number): Uint32Array {
  const rand = mulberry32(seed);
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}

/**
 * Reorder the complete sequences of `packed` by a seeded permutation, all per-token arrays alike.
 * The last sequence stays last when it is padded, so padding remains the flat indices >= nTokens.
 */
export function shuffleSequences(packed: Packed, contextSize: number, seed: number): Packed {
  const C = contextSize;
  const nFull = Math.floor(packed.nTokens / C);
  const perm = permutation(nFull, seed);
  const move = <T extends Uint32Array | Uint16Array | Uint8Array>(src: T): T => {
    const dst = src.slice() as T;
    for (let s = 0; s < nFull; s++) dst.set(src.subarray(perm[s] * C, perm[s] * C + C), s * C);
    return dst;
  };
  return {
    ...packed,
    tokens: move(packed.tokens),
    doc: move(packed.doc),
    tag: move(packed.tag),
    genre: move(packed.genre),
  };
}
