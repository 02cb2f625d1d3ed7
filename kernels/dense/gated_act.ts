/**
 * Gated SAE activations, their statistics and backward (./gated_act.wgsl): the gate and magnitude
 * paths sharing W_enc, stacked [f; a] latents for one decode GEMM, the per-latent gradients of
 * b_gate, b_mag, r_mag and the pre-activation gradient du for W_enc.
 * The per-latent vectors are packed into two buffers by copies recorded with the kernels (`pack` before
 * forward, `unpack` after backward): a few S-float copies per step keep each entry within 6 storage
 * bindings (the portable per-stage limit is 8).
 */
import { type BoundKernel, compileKernel, groupsFor } from "../runtime/kernel.ts";
import { type DenseTile, tileConstants } from "./dense_act.ts";

const URL_ = new URL("./gated_act.wgsl", import.meta.url);

export interface GatedActBuffers {
  /** π_gate [B, S]. */
  pre: GPUBuffer;
  r_mag: GPUBuffer;
  b_gate: GPUBuffer;
  b_mag: GPUBuffer;
  /** ‖W_dec_i‖ [S]. */
  wnorm: GPUBuffer;
  hyper: GPUBuffer;
  /** [2B, S]: f rows, then a rows. */
  z: GPUBuffer;
  /** [2B, S]: in df, da; out du in the first B rows. */
  dz: GPUBuffer;
  rowstats: GPUBuffer;
  gb_gate: GPUBuffer;
  gb_mag: GPUBuffer;
  gr_mag: GPUBuffer;
  /** Σ_t du [S]. */
  gsum: GPUBuffer;
  /** Σ_t ReLU(π_gate) [S]. */
  zsum: GPUBuffer;
  since: GPUBuffer;
  /** Scratch: 4·S floats (the packed inputs) and 5·S floats (the packed per-latent outputs). */
  lat: GPUBuffer;
  lgrad: GPUBuffer;
}

function copies(label: string, parts: [GPUBuffer, number, GPUBuffer, number][], bytes: number): BoundKernel {
  return { label, encode: (e) => parts.forEach(([src, so, dst, dO]) => e.copyBufferToBuffer(src, so, dst, dO, bytes)) };
}

/**
 * `S`: the latents of the tile (all of them without `tile`), `SA` the packed vectors' length (d_sae). With a
 * tile, pre is [rows, S] and z, dz [2·rows, S]; `pack` and `unpack` always move all SA latents.
 */
export async function createGatedAct(device: GPUDevice, d: { B: number; S: number; SA?: number; tile?: DenseTile }) {
  const SA = d.SA ?? d.S;
  const { t, c: tc } = tileConstants(d.B, d.S, d.tile);
  const c = { ...tc, SA };
  const [fwd, bwd] = await Promise.all(["forward", "backward"].map((e) => compileKernel(device, URL_, e, c)));
  const n = SA * 4;
  return (b: GatedActBuffers) => {
    const { lat, lgrad } = b;
    const ins = [b.r_mag, b.b_gate, b.b_mag, b.wnorm];
    const outs = [b.gb_gate, b.gb_mag, b.gr_mag, b.gsum, b.zsum];
    const all = { pre: b.pre, lat, hyper: b.hyper, z: b.z, dz: b.dz, rowstats: b.rowstats, lgrad, since: b.since };
    return {
      /** Refresh the packed per-latent inputs (after the decoder norms are computed). */
      pack: copies("gated pack", ins.map((src, j) => [src, 0, lat, j * n]), n),
      forward: fwd.bind(all, [t.rows, 1]),
      backward: bwd.bind(all, groupsFor(d.S, 64)),
      unpack: copies("gated unpack", outs.map((dst, j) => [lgrad, j * n, dst, 0]), n),
    };
  };
}
