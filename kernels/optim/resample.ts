/**
 * Dead-latent resampling kernels (./resample.wgsl): the alive latents' mean encoder and decoder norms,
 * re-initialisation of picked latents toward picked input rows, and the reset of their Adam moments
 * and per-latent parameters. The picks (latent, row) come from the host (stages/train/resample.ts).
 * A transcoder (`d_out` set) binds its targets `y` [rows, d_out]: its decoder rows follow them.
 */
import { compileKernel, groupsFor } from "../runtime/kernel.ts";
import type { BoundKernel } from "../runtime/kernel.ts";

const URL_ = new URL("./resample.wgsl", import.meta.url);

export interface ResampleBuffers {
  /** u32 [1 + 2·maxPicks]: count, then (latent, row) pairs. */
  picks: GPUBuffer;
  x: GPUBuffer;
  /** Transcoders: the targets [rows, d_out] (an SAE binds nothing here: x is used). */
  y?: GPUBuffer;
  b_dec: GPUBuffer;
  /** Scratch: 2 floats. */
  norms: GPUBuffer;
  W_enc: GPUBuffer;
  W_dec: GPUBuffer;
  since: GPUBuffer;
  /** Adam moments (m, v) of W_enc and W_dec. */
  mW_enc: GPUBuffer;
  vW_enc: GPUBuffer;
  mW_dec: GPUBuffer;
  vW_dec: GPUBuffer;
}

export async function createResample(
  device: GPUDevice,
  d: { D: number; S: number; window: number; normalize: boolean; d_out?: number },
) {
  const transcoder = d.d_out !== undefined;
  const c = { D: d.D, S: d.S, O: d.d_out ?? d.D, TRANSCODER: transcoder, WINDOW: d.window, NORMALIZE: d.normalize };
  const [alive, reinit, rows, zero] = await Promise.all(
    ["alive_norms", "reinit", "reset_rows", "zero_at"].map((e) => compileKernel(device, URL_, e, c)),
  );
  /** The kernels for `n` picks (bound per call: n changes from one resampling to the next). */
  return (b: ResampleBuffers, n: number, perLatent: GPUBuffer[]): BoundKernel[] => {
    const { picks, x, b_dec, norms, W_enc, W_dec, since } = b;
    const out = [
      alive.bind({ W_enc, W_dec, since, norms }, [1, 1]),
      reinit.bind({ picks, x, y: b.y ?? x, b_dec, norms, W_enc, W_dec, since }, n),
      rows.bind({ picks, mat_a: b.mW_enc, mat_b: b.vW_enc, mat_c: b.mW_dec, mat_d: b.vW_dec }, n),
    ];
    // per-latent vectors [S] zeroed at the picked latents (parameters such as b_enc and Adam moments)
    for (const mat_a of perLatent) out.push(zero.bind({ picks, mat_a }, groupsFor(n, 64)));
    return out;
  };
}
