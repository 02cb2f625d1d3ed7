/** Float64 references of the sparse decode and gradient kernels (tests compare the WGSL against these). */
import { INVALID } from "../runtime/kernel.ts";
import { blockOf, type LevelRows } from "./levels.ts";

// ---- sparse_decode
/** Float64 reference of the decode (latents ≥ idxLimit skipped: a Matryoshka prefix). */
export function sparseDecodeReference(
  idx: ArrayLike<number>,
  val: ArrayLike<number>,
  W_dec: ArrayLike<number>,
  b_dec: ArrayLike<number> | null,
  rows: number,
  D: number,
  cap: number,
  idxLimit = Infinity,
): Float64Array {
  const out = new Float64Array(rows * D);
  for (let t = 0; t < rows; t++) {
    for (let d = 0; d < D; d++) out[t * D + d] = b_dec ? b_dec[d] : 0;
    for (let s = 0; s < cap; s++) {
      const i = idx[t * cap + s];
      if (i === INVALID || i >= idxLimit) continue;
      for (let d = 0; d < D; d++) out[t * D + d] += val[t * cap + s] * W_dec[i * D + d];
    }
  }
  return out;
}

// ---- sparse_grad
/** Float64 reference of g for every entry (main then AuxK), 0 for INVALID ones; Matryoshka `levels` pick main rows. */
export function sparseGradReference(
  idx: ArrayLike<number>,
  dvec: ArrayLike<number>,
  W_dec: ArrayLike<number>,
  d: { B: number; D: number; cap: number; auxCap: number; levels?: LevelRows },
): Float64Array {
  const { B, D, cap, auxCap } = d;
  const g = new Float64Array(B * (cap + auxCap));
  for (let e = 0; e < g.length; e++) {
    const i = idx[e];
    if (i === INVALID) continue;
    const r = e < B * cap ? blockOf(i, d.levels) * B + Math.floor(e / cap) : B + Math.floor((e - B * cap) / auxCap);
    let s = 0;
    for (let k = 0; k < D; k++) s += dvec[r * D + k] * W_dec[i * D + k];
    g[e] = s;
  }
  return g;
}

// ---- latent_grad
/** Float64 reference of gW_dec [S, D], gW_enc [DX, S] and gb_enc from token-major entries (xc rows DX wide, default D). */
export function latentGradReference(
  idx: ArrayLike<number>,
  val: ArrayLike<number>,
  g: ArrayLike<number>,
  dvec: ArrayLike<number>,
  xc: ArrayLike<number>,
  d: { B: number; D: number; DX?: number; S: number; cap: number; auxCap: number; levels?: LevelRows },
) {
  const { B, D, S, cap, auxCap } = d;
  const DX = d.DX ?? D;
  const gW_dec = new Float64Array(S * D);
  const gW_enc = new Float64Array(DX * S);
  const gb_enc = new Float64Array(S);
  const fired = new Array<boolean>(S).fill(false);
  for (let e = 0; e < B * (cap + auxCap); e++) {
    const i = idx[e];
    if (i === INVALID) continue;
    const main = e < B * cap;
    const t = main ? Math.floor(e / cap) : Math.floor((e - B * cap) / auxCap);
    const r = main ? blockOf(i, d.levels) * B + t : B + t;
    if (main) fired[i] = true;
    gb_enc[i] += g[e];
    for (let k = 0; k < D; k++) gW_dec[i * D + k] += val[e] * dvec[r * D + k];
    for (let k = 0; k < DX; k++) gW_enc[k * S + i] += g[e] * xc[t * DX + k];
  }
  return { gW_dec, gW_enc, gb_enc, fired };
}
