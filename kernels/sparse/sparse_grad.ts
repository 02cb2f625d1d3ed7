/**
 * Per-entry pre-activation gradient: g[e] = dvec[r(e)] · W_dec[idx[e]] (r = t for the main entries,
 * the reconstruction gradient; r = B + t for the AuxK entries, the aux gradient rows); INVALID → 0.
 * Paths: "texture" (sparse_grad_tex.wgsl: rows as rgba32float texels, G entries per invocation sharing
 * each dvec texel, d_in % 4 == 0) and "buffer" (sparse_grad.wgsl: one invocation per entry, any d_in).
 * `auxBound`: AuxK slots ≥ min(auxCap, state.n_dead) are skipped (the AuxK selection fills only those).
 */
import { type BoundKernel, compileKernel, groupsFor, kernelOf } from "../runtime/kernel.ts";
import { compileShader } from "../runtime/compile.ts";
import { createRowTexture, type RowTexture, rowTexturesAvailable } from "../runtime/row_texture.ts";
import { createBuffer } from "../runtime/device.ts";
import { dvecRows, levelConstants, type LevelRows } from "./levels.ts";

const BUFFER_URL = new URL("./sparse_grad.wgsl", import.meta.url);
const TEX_URL = new URL("./sparse_grad_tex.wgsl", import.meta.url);
/** Entries per invocation on the texture path. */
const G = 8;

export interface SparseGradDims {
  B: number;
  D: number;
  cap: number;
  auxCap: number;
  auxBound?: boolean;
  /** Slab mode: W_dec holds latents [lo, hi) only; other entries are left for their slab's pass. */
  lo?: number;
  hi?: number;
  /** Matryoshka: main entries read their group's gradient rows (./level_rows.wgsl). */
  levels?: LevelRows;
  path?: "auto" | "texture" | "buffer";
}

export interface SparseGradBuffers {
  idx: GPUBuffer;
  dvec: GPUBuffer;
  W_dec: GPUBuffer;
  g: GPUBuffer;
  /** Needed with auxBound (it holds n_dead, kernels/runtime/slots.ts). */
  state?: GPUBuffer;
  /** Texture path: row textures refreshed by the caller; else owned and copied on every encode. */
  dvecTex?: RowTexture;
  W_decTex?: RowTexture;
}

export async function createSparseGrad(device: GPUDevice, d: SparseGradDims) {
  const want = d.path ?? "auto";
  const ok = rowTexturesAvailable(device, d.D);
  if (want === "texture" && !ok) throw new Error(`sparse_grad: texture path unavailable for d_in ${d.D}`);
  const dummy = createBuffer(device, 16, "sparse_grad dummy");
  if (want === "buffer" || !ok) {
    const k = await compileKernel(device, BUFFER_URL, "main", {
      B: d.B,
      D: d.D,
      CAP: d.cap,
      AUXCAP: d.auxCap,
      AUX_BOUND: !!d.auxBound,
      LO: d.lo ?? 0,
      HI: d.hi ?? 0xffffffff,
      ...levelConstants(d.levels),
    });
    return (b: SparseGradBuffers): BoundKernel =>
      k.bind(
        { idx: b.idx, dvec: b.dvec, W_dec: b.W_dec, g: b.g, state: b.state ?? dummy },
        groupsFor(d.B * (d.cap + d.auxCap), 64),
      );
  }
  const shader = await compileShader(device, TEX_URL, { G });
  return (b: SparseGradBuffers): BoundKernel => {
    const dvecTex = b.dvecTex ?? createRowTexture(device, dvecRows(d), d.D, "dvec rows");
    const wTex = b.W_decTex ?? createRowTexture(device, Math.floor(b.W_dec.size / (4 * d.D)), d.D, "W_dec rows");
    const part = (cap: number, entryBase: number, rowBase: number, auxBound: boolean) =>
      kernelOf(device, shader, "main", {
        ...(rowBase === 0 && d.levels ? { ...levelConstants(d.levels), LEVELED: true } : {}),
        ROWS: d.B,
        D: d.D,
        CAP: cap,
        ENTRY_BASE: entryBase,
        ROW_BASE: rowBase,
        AUX_BOUND: auxBound,
        FOLD_G: dvecTex.fold,
        FOLD_W: wTex.fold,
        LO: d.lo ?? 0,
        HI: d.hi ?? 0xffffffff,
      }).bind(
        { idx: b.idx, dvec: dvecTex.view, W_dec: wTex.view, g: b.g, state: b.state ?? dummy },
        groupsFor(d.B * Math.ceil(cap / G), 64),
      );
    const parts = [part(d.cap, 0, 0, false)];
    if (d.auxCap > 0) parts.push(part(d.auxCap, d.B * d.cap, d.B, !!d.auxBound));
    return {
      label: parts[0].label,
      encode(enc) {
        if (!b.dvecTex) dvecTex.encodeCopy(enc, b.dvec);
        if (!b.W_decTex) wTex.encodeCopy(enc, b.W_dec);
        parts.forEach((p) => p.encode(enc));
      },
    };
  };
}
