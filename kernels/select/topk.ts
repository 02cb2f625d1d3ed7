/**
 * Per-row TopK: the k largest pre-activations of each row (ties: lower index), stored in latent order
 * as (idx, val = ReLU(pre)) with INVALID for pre ≤ 0 and unused slots.
 * `aux` restricts candidates to dead latents (since ≥ window) and takes min(k, state.n_dead); only
 * those slots are written (the AuxK consumers read no others) and n_dead = 0 costs nothing.
 * Slab mode (stages/train/slab_plan.ts): `pre` holds latents idxBase.. only; `rowStride` spaces the rows'
 * outputs so several slabs' candidates interleave (kernels/select/slab_merge.ts merges them).
 * Paths: "texture" (topk_tex.wgsl: pre read as rgba32float texels, d_sae % 4 == 0, chunk maxima skip
 * most of the second read) and "buffer" (topk.wgsl, any d_sae); same selection.
 */
import { type BoundKernel, compileKernel, kernelOf } from "../runtime/kernel.ts";
import { compileShader } from "../runtime/compile.ts";
import { createRowTexture, type RowTexture, rowTexturesAvailable } from "../runtime/row_texture.ts";

const URL_ = new URL("./topk.wgsl", import.meta.url);
const TEX_URL = new URL("./topk_tex.wgsl", import.meta.url);
/** Rows per workgroup on the texture path (at most). */
const RPW = 8;

export interface TopkDims {
  rows: number;
  S: number;
  k: number;
  /** Output slots per row (≥ k); default k. */
  cap?: number;
  /** First output entry. */
  outBase?: number;
  aux?: boolean;
  window?: number;
  /** Slab mode: output entries per row (default cap), added to written indices, offset into `since`. */
  rowStride?: number;
  idxBase?: number;
  sinceBase?: number;
  path?: "auto" | "texture" | "buffer";
}

export interface TopkBuffers {
  pre: GPUBuffer;
  since: GPUBuffer;
  state: GPUBuffer;
  idx: GPUBuffer;
  val: GPUBuffer;
  /** Texture path: a row texture of pre the caller refreshes (shared by the main and AuxK TopK). */
  preTex?: RowTexture;
}

export async function createTopk(device: GPUDevice, d: TopkDims) {
  if (!(d.k >= 1 && d.k <= d.S)) throw new Error(`topk: k ${d.k} must be in 1..d_sae (${d.S})`);
  const consts = {
    S: d.S,
    CAP: d.cap ?? d.k,
    K: d.k,
    OUT_BASE: d.outBase ?? 0,
    AUX: !!d.aux,
    WINDOW: d.window ?? 0,
    ROW_STRIDE: d.rowStride ?? d.cap ?? d.k,
    IDX_BASE: d.idxBase ?? 0,
    SINCE_BASE: d.sinceBase ?? 0,
  };
  const want = d.path ?? "auto";
  const ok = rowTexturesAvailable(device, d.S);
  if (want === "texture" && !ok) throw new Error(`topk: texture path unavailable for d_sae ${d.S}`);
  if (want === "buffer" || !ok) {
    const k = await compileKernel(device, URL_, "main", consts);
    return (b: TopkBuffers): BoundKernel =>
      k.bind({ pre: b.pre, since: b.since, state: b.state, out_idx: b.idx, out_val: b.val }, [d.rows, 1]);
  }
  const shader = await compileShader(device, TEX_URL);
  return (b: TopkBuffers): BoundKernel => {
    const tex = b.preTex ?? createRowTexture(device, d.rows, d.S, "pre rows");
    const rpw = Math.max(1, Math.min(RPW, Math.floor(d.rows / 256))); // keep ≥ 256 workgroups
    const run = kernelOf(device, shader, "main", { ...consts, FOLD: tex.fold, ROWS: d.rows, RPW: rpw }).bind(
      { pre: tex.view, since: b.since, state: b.state, out_idx: b.idx, out_val: b.val },
      [Math.ceil(d.rows / rpw), 1],
    );
    return {
      label: run.label,
      encode(enc) {
        if (!b.preTex) tex.encodeCopy(enc, b.pre);
        run.encode(enc);
      },
    };
  };
}
