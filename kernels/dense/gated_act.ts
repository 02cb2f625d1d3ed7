/**
 * Gated SAE activations, their statistics and backward (./gated_act.wgsl): the gate and magnitude
 * paths sharing W_enc, stacked [f; a] latents for one decode GEMM, the per-latent gradients of
 * b_gate, b_mag, r_mag and the pre-activation gradient du for W_enc.
 */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";

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
  gsum: GPUBuffer;
  zsum: GPUBuffer;
  since: GPUBuffer;
}

export async function createGatedAct(device: GPUDevice, d: { B: number; S: number }) {
  const c = { B: d.B, S: d.S };
  const [fwd, bwd] = await Promise.all(["forward", "backward"].map((e) => compileKernel(device, URL_, e, c)));
  return (b: GatedActBuffers) => {
    const { pre, r_mag, b_gate, b_mag, wnorm, hyper, z, dz, rowstats, gb_gate, gb_mag, gr_mag, gsum, zsum, since } = b;
    const all = {
      pre,
      r_mag,
      b_gate,
      b_mag,
      wnorm,
      hyper,
      z,
      dz,
      rowstats,
      gb_gate,
      gb_mag,
      gr_mag,
      gsum,
      zsum,
      since,
    };
    return { forward: fwd.bind(all, [d.B, 1]), backward: bwd.bind(all, groupsFor(d.S, 64)) };
  };
}
