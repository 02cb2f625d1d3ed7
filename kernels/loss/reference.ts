/** Float64 references of the loss and metrics kernels (tests compare the WGSL against these). */
import { HYPER, STATE } from "../runtime/slots.ts";

/**
 * Float64 reference of the 8 metrics (formulas in metrics.wgsl) from rowstats [B, 8], x [B, D], the
 * dead-latent clocks, hyper (the sparsity and aux coefficients) and state (u32 view: the gradient norm
 * as f32 bits, the dead count AuxK used; slots in ../runtime/slots.ts). Also the new state.n_dead.
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
  const aux = d.aux ? b.hyper[HYPER.AUX_COEF] * Math.min(state[STATE.N_DEAD] / (d.auxK ?? 1), 1) * r[4] / B : 0;
  const pen = d.penalty ? b.hyper[HYPER.SPARSITY_COEF] * r[5] / B : 0;
  const gradNorm = new Float32Array(state.buffer, state.byteOffset, state.length)[STATE.GRAD_NORM];
  const ev = 1 - r[0] / Math.max(r[1] - colSq / B, 1e-30);
  return { metrics: [mse + pen + aux, mse, ev, r[2] / B, r[3] / B, nDead, aux, gradNorm], nDead };
}
