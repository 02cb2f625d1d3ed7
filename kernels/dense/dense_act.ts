/**
 * Dense ReLU / JumpReLU activation, its per-latent statistics and backward (./dense_act.wgsl),
 * for the standard and jumprelu SAEs (whose gradients are dense anyway), on the whole [B, S] or on
 * one tile of it (`DenseTile`: a chunk of batch rows × a slab of latents).
 */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";

const URL_ = new URL("./dense_act.wgsl", import.meta.url);

/** Where a tile sits in [batch, d_sae] and what it adds to (./dense_act.wgsl's overrides). */
export interface DenseTile {
  /** Batch rows of the tile and the first of them. */
  rows: number;
  row0: number;
  /** The tile's first latent (its width is `S`). */
  lo: number;
  /** Add to rowstats (a later slab of the same rows). */
  rowAcc: boolean;
  /** Add to the per-latent sums (a later chunk of the same latents). */
  latAcc: boolean;
  /** Write rowstats at all (false: the backward's recompute of z). */
  rowStats: boolean;
}

/** ./dense_tile.wgsl's constants for a tile of S latents (the whole [B, S] without one). */
export function tileConstants(B: number, S: number, tile?: DenseTile) {
  const t = tile ?? { rows: B, row0: 0, lo: 0, rowAcc: false, latAcc: false, rowStats: true };
  const c = { B, S, ROWS: t.rows, LO: t.lo, ROW0: t.row0, ROW_ACC: t.rowAcc, LAT_ACC: t.latAcc, ROW_STATS: t.rowStats };
  return { t, c };
}

export async function createDenseAct(
  device: GPUDevice,
  d: { B: number; S: number; jump: boolean; bandwidth: number; tile?: DenseTile },
) {
  const { t, c: tc } = tileConstants(d.B, d.S, d.tile);
  const c = { ...tc, JUMP: d.jump, BANDWIDTH: d.bandwidth };
  const [fwd, stats, bwd] = await Promise.all(
    ["forward", "latent_stats", "backward"].map((e) => compileKernel(device, URL_, e, c)),
  );
  return (b: {
    pre: GPUBuffer;
    z: GPUBuffer;
    dz: GPUBuffer;
    log_thr: GPUBuffer;
    wnorm: GPUBuffer;
    hyper: GPUBuffer;
    gb_enc: GPUBuffer;
    zsum: GPUBuffer;
    glog: GPUBuffer;
    since: GPUBuffer;
    rowstats: GPUBuffer;
  }) => {
    const { pre, z, dz, log_thr, wnorm, hyper, gb_enc, zsum, glog, since, rowstats } = b;
    const all = { pre, z, dz, log_thr, wnorm, hyper, gb_enc, zsum, glog, since, rowstats };
    // each entry point binds the ones it uses (by name, ../runtime/bindings.ts)
    return {
      forward: fwd.bind(all, [t.rows, 1]),
      stats: stats.bind(all, groupsFor(d.S, 64)),
      backward: bwd.bind(all, groupsFor(t.rows * d.S, 256)),
    };
  };
}
