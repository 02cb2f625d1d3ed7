/**
 * Per-latent sparse gradients from the latent-major lists of csc.ts, each latent reading only the tokens
 * where it is active (e: entry id; t(e) its token; r(e) = t for main entries, B + t for AuxK ones):
 *   gW_dec[i, d] = Σ_e val[e]·dvec[r(e), d],  gW_enc[d, i] = Σ_e g[e]·xc[t(e), d],  gb_enc[i] = Σ_e g[e],
 *   (dvec rows D wide, xc rows DX: they differ for a transcoder, d_out and d_in),
 *   since[i] = 0 if i fired (a main entry), else since[i] + B.
 * Paths: "texture" (latent_grad_tex.wgsl: dvec/xc rows as rgba32float texels, d_in % 4 == 0) and
 * "buffer" (latent_grad.wgsl, scalar loads, any d_in ≤ 4096).
 */
import { type BoundKernel, compileKernel, groupsFor, kernelOf } from "../runtime/kernel.ts";
import { compileShader } from "../runtime/compile.ts";
import { createRowTexture, type RowTexture, rowTexturesAvailable } from "../runtime/row_texture.ts";
import { dvecRows, levelConstants, type LevelRows } from "./levels.ts";

const BUFFER_URL = new URL("./latent_grad.wgsl", import.meta.url);
const TEX_URL = new URL("./latent_grad_tex.wgsl", import.meta.url);
/** Texels per invocation on the texture path. */
const CQ = 8;

export interface LatentGradDims {
  B: number;
  /** Width of the gradient rows (dvec, gW_dec): d_in, or a transcoder's d_out. */
  D: number;
  /** Width of the input rows (xc, gW_enc); default D (a transcoder's d_in). */
  DX?: number;
  S: number;
  cap: number;
  auxCap: number;
  /** Slab mode: this pass covers latents [lo, lo + S) (S = the slab's width; gW_* are its buffers). */
  lo?: number;
  /** Matryoshka: main entries read their group's gradient rows (./level_rows.wgsl). */
  levels?: LevelRows;
  path?: "auto" | "texture" | "buffer";
}

export interface LatentGradBuffers {
  list: GPUBuffer;
  start: GPUBuffer;
  val: GPUBuffer;
  g: GPUBuffer;
  /** [B (+B with AuxK) (+B per inner Matryoshka level), D]: main, AuxK, then the levels' gradient rows. */
  dvec: GPUBuffer;
  xc: GPUBuffer;
  gW_dec: GPUBuffer;
  /** [D, S] (W_enc's layout). */
  gW_enc: GPUBuffer;
  gb_enc: GPUBuffer;
  since: GPUBuffer;
  /** Texture path: row textures of dvec / xc refreshed by the caller; else owned and copied per encode. */
  dvecTex?: RowTexture;
  xcTex?: RowTexture;
}

export async function createLatentGrad(device: GPUDevice, d: LatentGradDims) {
  const want = d.path ?? "auto";
  const DX = d.DX ?? d.D;
  const ok = rowTexturesAvailable(device, d.D) && rowTexturesAvailable(device, DX);
  if (want === "texture" && !ok) throw new Error(`latent_grad: texture path unavailable for widths ${d.D}, ${DX}`);
  const consts = {
    B: d.B,
    D: d.D,
    DX,
    S: d.S,
    CAP: d.cap,
    AUXCAP: d.auxCap,
    LO: d.lo ?? 0,
    ...levelConstants(d.levels),
  };
  if (want === "buffer" || !ok) {
    if (d.D + DX > 8192) throw new Error(`latent_grad: widths ${d.D} + ${DX} above 8192 (32 KiB workgroup storage)`);
    const k = await compileKernel(device, BUFFER_URL, "main", consts);
    return (b: LatentGradBuffers): BoundKernel => k.bind(latentGradBindings(b, b.dvec, b.xc), d.S);
  }
  const shader = await compileShader(device, TEX_URL, { CQ });
  const nch = Math.ceil(Math.max(d.D, DX) / 4 / CQ);
  return (b: LatentGradBuffers): BoundKernel => {
    const dvecTex = b.dvecTex ?? createRowTexture(device, dvecRows(d), d.D, "dvec rows");
    const xcTex = b.xcTex ?? createRowTexture(device, d.B, DX, "xc rows");
    const run = kernelOf(device, shader, "main", { ...consts, FOLD_G: dvecTex.fold, FOLD_X: xcTex.fold }).bind(
      latentGradBindings(b, dvecTex.view, xcTex.view),
      groupsFor(d.S * nch, 64),
    );
    return {
      label: run.label,
      encode(enc) {
        if (!b.dvecTex) dvecTex.encodeCopy(enc, b.dvec);
        if (!b.xcTex) xcTex.encodeCopy(enc, b.xc);
        run.encode(enc);
      },
    };
  };
}

/** The shader's bindings; dvec and xc are buffers or row-texture views by path. */
function latentGradBindings(b: LatentGradBuffers, dvec: GPUBuffer | GPUTextureView, xc: GPUBuffer | GPUTextureView) {
  const { list, start, val, g, gW_dec, gW_enc, gb_enc, since } = b;
  return { list, start, val, g, dvec, xc, gW_dec, gW_enc, gb_enc, since };
}
