/**
 * Sparse decode: x̂[t] = (bias ? b_dec : 0) + Σ_s val[e]·W_dec[idx[e]] over row t's `cap` entries,
 * reading only the active decoder rows; optional per-row L0/L1 stats.
 * Two paths, same sums in the same order: "texture" (sparse_decode_tex.wgsl, W_dec rows as rgba32float
 * texels, d_in % 4 == 0) and "buffer" (sparse_decode.wgsl, scalar loads, any d_in).
 * `auxBound`: only slots < min(cap, state.n_dead) are read (the AuxK selection writes only those).
 */
import { compileKernel, groupsFor, INVALID } from "./kernel.ts";
import { bindModule, compileTemplate, createRowTexture, type RowTexture, rowTexturesAvailable } from "./row_texture.ts";
import { createBuffer } from "./device.ts";
import type { BoundKernel } from "./kernel.ts";

const BUFFER_URL = new URL("./sparse_decode.wgsl", import.meta.url);
const TEX_URL = new URL("./sparse_decode_tex.wgsl", import.meta.url);
/** Texels per invocation on the texture path. */
const CQ = 8;

export interface SparseDecodeDims {
  rows: number;
  D: number;
  cap: number;
  entryBase?: number;
  bias?: boolean;
  stats?: boolean;
  auxBound?: boolean;
  /** "auto" (default): texture when available for this d_in. */
  path?: "auto" | "texture" | "buffer";
}

export interface SparseDecodeBuffers {
  idx: GPUBuffer;
  val: GPUBuffer;
  W_dec: GPUBuffer;
  b_dec: GPUBuffer;
  out: GPUBuffer;
  rowstats: GPUBuffer;
  /** Needed with auxBound (state[2] = n_dead). */
  state?: GPUBuffer;
  /**
   * Texture path: a row texture of W_dec that the caller refreshes each step (shared by several
   * kernels); without it the kernel owns one and copies W_dec into it on every encode.
   */
  W_decTex?: RowTexture;
}

/** Whether the texture path applies to this d_in on this device. */
export function sparseDecodePath(device: GPUDevice, D: number, want: SparseDecodeDims["path"] = "auto") {
  const ok = rowTexturesAvailable(device, D);
  if (want === "texture" && !ok) throw new Error(`sparse_decode: texture path unavailable for d_in ${D}`);
  return want === "buffer" || !ok ? "buffer" : "texture";
}

export async function createSparseDecode(device: GPUDevice, d: SparseDecodeDims) {
  const path = sparseDecodePath(device, d.D, d.path);
  const consts = {
    D: d.D,
    CAP: d.cap,
    ENTRY_BASE: d.entryBase ?? 0,
    BIAS: d.bias ?? true,
    STATS: d.stats ?? true,
    AUX_BOUND: d.auxBound ?? false,
  };
  const dummy = createBuffer(device, 16, "sparse_decode dummy");
  if (path === "buffer") {
    if (d.D > 4096) throw new Error(`sparse_decode: d_in ${d.D} above 4096 (32 KiB workgroup storage)`);
    const k = await compileKernel(device, BUFFER_URL, "main", consts);
    return (b: SparseDecodeBuffers): BoundKernel =>
      k.bind([b.idx, b.val, b.W_dec, b.b_dec, b.out, b.rowstats, b.state ?? dummy], [d.rows, 1]);
  }
  const nch = Math.ceil(d.D / 4 / CQ);
  const module = await compileTemplate(device, TEX_URL, { CQ });
  return (b: SparseDecodeBuffers): BoundKernel => {
    const tex = b.W_decTex ?? createRowTexture(device, Math.floor(b.W_dec.size / (4 * d.D)), d.D, "W_dec rows");
    const run = bindModule(
      device,
      module,
      "main",
      { ...consts, ROWS: d.rows, FOLD: tex.fold },
      [b.idx, b.val, tex.view, b.b_dec, b.out, b.rowstats, b.state ?? dummy],
      groupsFor(d.rows * nch, 64),
    );
    const own = !b.W_decTex;
    return {
      label: run.label,
      encode(enc) {
        if (own) tex.encodeCopy(enc, b.W_dec);
        run.encode(enc);
      },
    };
  };
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
