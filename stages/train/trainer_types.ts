/** The GPU trainer's configuration, parameter and metric types (the trainer itself: ./trainer.ts). */
import type { METRIC_NAMES } from "../../kernels/loss/mod.ts";

export type Architecture = "topk" | "batchtopk" | "standard" | "jumprelu";

export interface TrainerConfig {
  architecture: Architecture;
  d_in: number;
  d_sae: number;
  k: number;
  /** Tokens per step. */
  batch: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** Max global gradient norm; 0 turns clipping off. */
  clipGradNorm: number;
  /** Keep decoder rows unit norm (and drop the gradient parallel to them). */
  normalizeDecoder: boolean;
  /** Tokens without firing after which a latent counts as dead. */
  deadWindow: number;
  /** AuxK latents per token (TopK family); 0 turns AuxK off. */
  auxK: number;
  /** JumpReLU STE bandwidth ε. */
  bandwidth: number;
  /** BatchTopK candidates kept per row, as a multiple of k. */
  batchTopkCap: number;
  /** BatchTopK threshold moving-average decay. */
  thresholdDecay: number;
  /**
   * Test-only: plan the latent slabs and batch chunks (./slab_plan.ts) as if maxStorageBufferBindingSize
   * were this many bytes, so small sizes take every split path.
   */
  bindingLimit?: number;
}

/** Host copies of the parameters (the trainer's scaled activation space). */
export interface SaeParams {
  W_enc: Float32Array;
  W_dec: Float32Array;
  b_enc: Float32Array;
  b_dec: Float32Array;
  log_threshold: Float32Array;
}

/** Per-step values written by the host. */
export interface StepHyper {
  lr: number;
  /** Adam step count t (1-based) for bias correction. */
  t: number;
  /** l1 (standard) or l0 (jumprelu) coefficient after warmup. */
  sparsityCoef: number;
  auxCoef: number;
}

export type Metrics = Record<(typeof METRIC_NAMES)[number], number>;

export const PARAM_NAMES = ["W_enc", "W_dec", "b_enc", "b_dec", "log_threshold"] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

export function isSparse(a: Architecture): boolean {
  return a === "topk" || a === "batchtopk";
}
