/**
 * Dead-latent resampling kernels (./resample.wgsl): the alive latents' mean encoder and decoder norms,
 * re-initialisation of picked latents toward picked input rows, and the reset of their Adam moments
 * and per-latent parameters. The picks (latent, row) come from the host (stages/train/resample.ts).
 * A transcoder (`d_out` set) binds its targets `y` [rows, d_out]: its decoder rows follow them. Over a slab
 * plan W_enc, W_dec and their moments come as slab parts; picks name global latents.
 */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";
import type { BoundKernel } from "../runtime/kernel.ts";

/** A run of latents [start, start + size) (a slab of stages/train/slab_plan.ts). */
interface Range {
  start: number;
  size: number;
}

const URL_ = new URL("./resample.wgsl", import.meta.url);

export interface ResampleBuffers {
  /** u32 [1 + 2·maxPicks]: count, then (latent, row) pairs (global latents). */
  picks: GPUBuffer;
  x: GPUBuffer;
  /** Transcoders: the targets [rows, d_out] (an SAE binds nothing here: x is used). */
  y?: GPUBuffer;
  b_dec: GPUBuffer;
  /** Scratch: 8 floats (the means, then the sums carried from slab to slab). */
  norms: GPUBuffer;
  /** One part per latent slab: W_enc's columns [D, w], W_dec's rows [w, O]. */
  W_enc: GPUBuffer[];
  W_dec: GPUBuffer[];
  since: GPUBuffer;
  /** Adam moments (m, v) of W_enc and W_dec, the same parts. */
  mW_enc: GPUBuffer[];
  vW_enc: GPUBuffer[];
  mW_dec: GPUBuffer[];
  vW_dec: GPUBuffer[];
}

/**
 * The resampling kernels over latent slabs (default: one slab of all `S` latents): every slab's
 * alive_norms pass (the sums carry over), then per slab the re-initialisation and moment reset of the
 * picks that fall in it, then the whole per-latent vectors.
 */
export async function createResample(
  device: GPUDevice,
  d: { D: number; S: number; window: number; normalize: boolean; d_out?: number; slabs?: Range[] },
) {
  const slabs = d.slabs ?? [{ start: 0, size: d.S }];
  const base = {
    D: d.D,
    O: d.d_out ?? d.D,
    TRANSCODER: d.d_out !== undefined,
    WINDOW: d.window,
    NORMALIZE: d.normalize,
    TOTAL: d.S,
  };
  const parts = await Promise.all(slabs.map((s, j) => {
    const c = { ...base, S: s.size, LO: s.start, FIRST: j === 0, LAST: j === slabs.length - 1 };
    return Promise.all(["alive_norms", "reinit", "reset_rows"].map((e) => compileKernel(device, URL_, e, c)));
  }));
  const zero = await compileKernel(device, URL_, "zero_at", { ...base, S: d.S });
  /** The kernels for `n` picks (bound per call: n changes from one resampling to the next). */
  return (b: ResampleBuffers, n: number, perLatent: GPUBuffer[]): BoundKernel[] => {
    const { picks, x, b_dec, norms, since } = b;
    const out = parts.map(([alive], j) => alive.bind({ W_enc: b.W_enc[j], W_dec: b.W_dec[j], since, norms }, [1, 1]));
    for (const [j, [, reinit, rows]] of parts.entries()) {
      const W_enc = b.W_enc[j], W_dec = b.W_dec[j];
      out.push(reinit.bind({ picks, x, y: b.y ?? x, b_dec, norms, W_enc, W_dec, since }, n));
      out.push(rows.bind({ picks, mat_a: b.mW_enc[j], mat_b: b.vW_enc[j], mat_c: b.mW_dec[j], mat_d: b.vW_dec[j] }, n));
    }
    // per-latent vectors [S] zeroed at the picked latents (parameters such as b_enc and Adam moments)
    for (const mat_a of perLatent) out.push(zero.bind({ picks, mat_a }, groupsFor(n, 64)));
    return out;
  };
}
