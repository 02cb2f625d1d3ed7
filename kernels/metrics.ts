/**
 * Per-step metric reductions (kernels/metrics.wgsl) into an 8-float buffer:
 * [loss, mse, explained_variance, l0, l1, dead_latents, aux_loss, grad_norm] (definitions in the WGSL).
 */
import { compileKernel } from "./kernel.ts";

const URL_ = new URL("./metrics.wgsl", import.meta.url);

export const METRIC_NAMES = [
  "loss",
  "mse",
  "explained_variance",
  "l0",
  "l1",
  "dead_latents",
  "aux_loss",
  "grad_norm",
] as const;

export async function createMetrics(
  device: GPUDevice,
  d: {
    B: number;
    D: number;
    S: number;
    window: number;
    auxK?: number;
    penalty?: boolean;
    aux?: boolean;
    dead?: boolean;
  },
) {
  const k = await compileKernel(device, URL_, "main", {
    B: d.B,
    D: d.D,
    S: d.S,
    WINDOW: d.window,
    AUX_K: d.auxK ?? 1,
    PENALTY: !!d.penalty,
    AUX: !!d.aux,
    DEAD: d.dead ?? true,
  });
  return (
    b: { rowstats: GPUBuffer; x: GPUBuffer; since: GPUBuffer; hyper: GPUBuffer; state: GPUBuffer; metrics: GPUBuffer },
  ) => k.bind([b.rowstats, b.x, b.since, b.hyper, b.state, b.metrics], [1, 1]);
}

/**
 * Float64 reference of the 8 metrics (formulas in metrics.wgsl) from rowstats [B, 8], x [B, D], the
 * dead-latent clocks, hyper (slot 6 sparsity coefficient, 7 aux coefficient) and state (u32 view:
 * 1 = gradient norm as f32 bits, 2 = the dead count AuxK used). Also the new state.n_dead.
 */
export function metricsReference(
  d: { B: number; D: number; S: number; window: number; auxK?: number; penalty?: boolean; aux?: boolean },
  b: { rowstats: ArrayLike<number>; x: ArrayLike<number>; since: ArrayLike<number>; hyper: ArrayLike<number> },
  state: Uint32Array,
): { metrics: number[]; nDead: number } {
  const { B, D } = d;
  const r = new Float64Array(6);
  for (let t = 0; t < B; t++) for (let c = 0; c < 6; c++) r[c] += b.rowstats[t * 8 + c];
  let colSq = 0;
  for (let k = 0; k < D; k++) {
    let s = 0;
    for (let t = 0; t < B; t++) s += b.x[t * D + k];
    colSq += s * s;
  }
  let nDead = 0;
  for (let i = 0; i < d.S; i++) if (b.since[i] >= d.window) nDead++;
  const mse = r[0] / B;
  const aux = d.aux ? b.hyper[7] * Math.min(state[2] / (d.auxK ?? 1), 1) * r[4] / B : 0;
  const pen = d.penalty ? b.hyper[6] * r[5] / B : 0;
  const gradNorm = new Float32Array(state.buffer, state.byteOffset, state.length)[1];
  const ev = 1 - r[0] / Math.max(r[1] - colSq / B, 1e-30);
  return { metrics: [mse + pen + aux, mse, ev, r[2] / B, r[3] / B, nDead, aux, gradNorm], nDead };
}
