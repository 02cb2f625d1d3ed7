/**
 * Per-step metric reductions (./metrics.wgsl) into an 8-float buffer:
 * [loss, mse, explained_variance, l0, l1, dead_latents, aux_loss, grad_norm] (definitions in the WGSL).
 */
import { compileKernel } from "../runtime/kernel.ts";

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

export interface MetricsDims {
  B: number;
  D: number;
  S: number;
  window: number;
  auxK?: number;
  penalty?: boolean;
  aux?: boolean;
  /** The gated SAE's auxiliary loss (coefficient 1, no dead-latent scale) instead of AuxK. */
  gateAux?: boolean;
  /** Update state.n_dead (off for validation passes). */
  dead?: boolean;
}

export async function createMetrics(device: GPUDevice, d: MetricsDims) {
  const k = await compileKernel(device, URL_, "main", {
    B: d.B,
    D: d.D,
    S: d.S,
    WINDOW: d.window,
    AUX_K: d.auxK ?? 1,
    PENALTY: !!d.penalty,
    AUX: !!d.aux,
    GATE_AUX: !!d.gateAux,
    DEAD: d.dead ?? true,
  });
  return (
    b: { rowstats: GPUBuffer; x: GPUBuffer; since: GPUBuffer; hyper: GPUBuffer; state: GPUBuffer; metrics: GPUBuffer },
  ) =>
    k.bind({ rowstats: b.rowstats, x: b.x, since: b.since, hyper: b.hyper, state: b.state, metrics: b.metrics }, [
      1,
      1,
    ]);
}
