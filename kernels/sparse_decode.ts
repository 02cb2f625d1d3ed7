/**
 * Sparse decode (kernels/sparse_decode.wgsl): x̂[t] = (bias ? b_dec : 0) + Σ_s val[e]·W_dec[idx[e]]
 * over row t's `cap` entries, reading only the active decoder rows; optional per-row L0/L1 stats.
 */
import { compileKernel, INVALID } from "./kernel.ts";

const URL_ = new URL("./sparse_decode.wgsl", import.meta.url);

export async function createSparseDecode(
  device: GPUDevice,
  d: { rows: number; D: number; cap: number; entryBase?: number; bias?: boolean; stats?: boolean },
) {
  if (d.D > 4096) throw new Error(`sparse_decode: d_in ${d.D} above 4096 (32 KiB workgroup storage)`);
  const k = await compileKernel(device, URL_, "main", {
    D: d.D,
    CAP: d.cap,
    ENTRY_BASE: d.entryBase ?? 0,
    BIAS: d.bias ?? true,
    STATS: d.stats ?? true,
  });
  return (
    b: { idx: GPUBuffer; val: GPUBuffer; W_dec: GPUBuffer; b_dec: GPUBuffer; out: GPUBuffer; rowstats: GPUBuffer },
  ) => k.bind([b.idx, b.val, b.W_dec, b.b_dec, b.out, b.rowstats], [d.rows, 1]);
}

/** Float64 reference of the decode. */
export function sparseDecodeReference(
  idx: ArrayLike<number>,
  val: ArrayLike<number>,
  W_dec: ArrayLike<number>,
  b_dec: ArrayLike<number> | null,
  rows: number,
  D: number,
  cap: number,
): Float64Array {
  const out = new Float64Array(rows * D);
  for (let t = 0; t < rows; t++) {
    for (let d = 0; d < D; d++) out[t * D + d] = b_dec ? b_dec[d] : 0;
    for (let s = 0; s < cap; s++) {
      const i = idx[t * cap + s];
      if (i === INVALID) continue;
      for (let d = 0; d < D; d++) out[t * D + d] += val[t * cap + s] * W_dec[i * D + d];
    }
  }
  return out;
}
