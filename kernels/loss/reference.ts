/** Float64 references of the loss and metrics kernels (tests compare the WGSL against these). */
import { HYPER, STATE } from "../runtime/slots.ts";
import type { MetricsDims } from "./metrics.ts";

/**
 * Float64 reference of the 8 metrics (formulas in metrics.wgsl) from rowstats [B, 8], x [B, D], the
 * dead-latent clocks, hyper (the sparsity and aux coefficients) and state (u32 view: the gradient norm
 * as f32 bits, the dead count AuxK used; slots in ../runtime/slots.ts). Also the new state.n_dead.
 */
export function metricsReference(
  d: MetricsDims,
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
  const aux = d.gateAux
    ? r[4] / B
    : d.aux
    ? b.hyper[HYPER.AUX_COEF] * Math.min(state[STATE.N_DEAD] / (d.auxK ?? 1), 1) * r[4] / B
    : 0;
  const pen = d.penalty ? b.hyper[HYPER.SPARSITY_COEF] * r[5] / B : 0;
  const gradNorm = new Float32Array(state.buffer, state.byteOffset, state.length)[STATE.GRAD_NORM];
  const ev = 1 - r[0] / Math.max(r[1] - colSq / B, 1e-30);
  return { metrics: [mse + pen + aux, mse, ev, r[2] / B, r[3] / B, nDead, aux, gradNorm], nDead };
}

/**
 * Float64 reference of recon_loss.wgsl on x [B, D]: the main mode (dvec[0..B) = (2/B)(x̂ − x), rowstats
 * slots 0 ‖x − x̂‖², 1 ‖x‖²), AuxK (dvec[B..2B) = (2/B)·aux_coef·min(n_dead/aux_k, 1)·(ê − (x − x̂)),
 * slot 4 ‖ê − (x − x̂)‖²) or the gated auxiliary (dvec[B..2B) = (2/B)(x̂_gate − x) with x̂_gate =
 * ehat rows B..2B, slot 4 ‖x̂_gate − x‖²). Returns the dvec half and rowstats slots the mode writes.
 */
export function reconLossReference(
  d: { B: number; D: number; mode: "main" | "aux" | "gate_aux"; auxK?: number; auxCoef?: number; nDead?: number },
  x: ArrayLike<number>,
  xhat: ArrayLike<number>,
  ehat: ArrayLike<number>,
): { dvec: Float64Array; rowstats: Float64Array } {
  const { B, D } = d;
  const dvec = new Float64Array(B * D);
  const rowstats = new Float64Array(B * 8);
  const nDead = d.nDead ?? 0;
  const auxScale = nDead > 0 ? (d.auxCoef ?? 0) * Math.min(nDead / (d.auxK ?? 1), 1) : 0;
  for (let t = 0; t < B; t++) {
    for (let k = 0; k < D; k++) {
      const j = t * D + k;
      if (d.mode === "main") {
        const r = xhat[j] - x[j];
        dvec[j] = 2 / B * r;
        rowstats[t * 8] += r * r;
        rowstats[t * 8 + 1] += x[j] * x[j];
      } else {
        const diff = d.mode === "aux" ? ehat[j] - (x[j] - xhat[j]) : ehat[B * D + j] - x[j];
        dvec[j] = 2 / B * (d.mode === "aux" ? auxScale : 1) * diff;
        rowstats[t * 8 + 4] += diff * diff;
      }
    }
  }
  return { dvec, rowstats };
}

/**
 * Float64 reference of matryoshka_loss.wgsl: x [B, D], inner reconstructions xhatIn [L, B, D] and the
 * full level's gradient dvec0 [B, D] → rowstats slot 5 per row (Σ_m ‖x̂_m − x‖²) and the blocks D_m [L, B, D].
 */
export function matryoshkaLossReference(
  d: { B: number; D: number; levels: number },
  x: ArrayLike<number>,
  xhatIn: ArrayLike<number>,
  dvec0: ArrayLike<number>,
): { inner: Float64Array; blocks: Float64Array } {
  const { B, D, levels: L } = d;
  const inner = new Float64Array(B);
  const blocks = new Float64Array(L * B * D);
  for (let t = 0; t < B; t++) {
    for (let k = 0; k < D; k++) {
      let acc = dvec0[t * D + k];
      for (let m = L - 1; m >= 0; m--) {
        const r = xhatIn[(m * B + t) * D + k] - x[t * D + k];
        inner[t] += r * r;
        acc += 2 / B * r;
        blocks[(m * B + t) * D + k] = acc;
      }
    }
  }
  return { inner, blocks };
}
