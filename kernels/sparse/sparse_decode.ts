/**
 * Sparse decode: x̂[t] = (bias ? b_dec : 0) + Σ_s val[e]·W_dec[idx[e]] over row t's `cap` entries,
 * reading only the active decoder rows; optional per-row L0/L1 stats.
 * Two paths, same sums in the same order: "texture" (sparse_decode_tex.wgsl, W_dec rows as rgba32float
 * texels, d_in % 4 == 0) and "buffer" (sparse_decode.wgsl, scalar loads, any d_in).
 * Slab mode: `lo`/`hi` bound the latents the given W_dec holds, `accumulate` adds to out (a pass per slab).
 * `auxBound`: only slots < min(cap, state.n_dead) are read (the AuxK selection writes only those).
 * `idxLimit` / `outRowBase`: a Matryoshka prefix's reconstruction (latents < idxLimit) into a stacked output.
 */
import { type BoundKernel, compileKernel, groupsFor, kernelOf } from "../runtime/kernel.ts";
import { compileShader } from "../runtime/compile.ts";
import { createRowTexture, type RowTexture, rowTexturesAvailable } from "../runtime/row_texture.ts";
import { createBuffer } from "../runtime/device.ts";

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
  /** Slab mode: W_dec holds latents [lo, hi) only (others skipped); `accumulate` adds to out. */
  lo?: number;
  hi?: number;
  accumulate?: boolean;
  /** Matryoshka prefix: only latents < idxLimit decode; row t is written at out row outRowBase + t. */
  idxLimit?: number;
  outRowBase?: number;
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
  /** Needed with auxBound (it holds n_dead, kernels/runtime/slots.ts). */
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
    LO: d.lo ?? 0,
    HI: d.hi ?? 0xffffffff,
    ACCUMULATE: d.accumulate ?? false,
    IDX_LIMIT: d.idxLimit ?? 0xffffffff,
    OUT_ROW_BASE: d.outRowBase ?? 0,
  };
  const dummy = createBuffer(device, 16, "sparse_decode dummy");
  /** The shader's bindings; W_dec is the buffer or its row-texture view by path. */
  const bindings = (b: SparseDecodeBuffers, W_dec: GPUBuffer | GPUTextureView) => {
    const { idx, val, b_dec, out, rowstats } = b;
    return { idx, val, W_dec, b_dec, out, rowstats, state: b.state ?? dummy };
  };
  if (path === "buffer") {
    if (d.D > 4096) throw new Error(`sparse_decode: d_in ${d.D} above 4096 (32 KiB workgroup storage)`);
    const k = await compileKernel(device, BUFFER_URL, "main", consts);
    return (b: SparseDecodeBuffers): BoundKernel => k.bind(bindings(b, b.W_dec), [d.rows, 1]);
  }
  const nch = Math.ceil(d.D / 4 / CQ);
  const shader = await compileShader(device, TEX_URL, { CQ });
  return (b: SparseDecodeBuffers): BoundKernel => {
    const tex = b.W_decTex ?? createRowTexture(device, Math.floor(b.W_dec.size / (4 * d.D)), d.D, "W_dec rows");
    const run = kernelOf(device, shader, "main", { ...consts, ROWS: d.rows, FOLD: tex.fold }).bind(
      bindings(b, tex.view),
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
