/** The GPU trainer's configuration, parameter and metric types (the trainer itself: ./trainer.ts). */
import type { METRIC_NAMES } from "../../kernels/loss/mod.ts";

export type Architecture = "topk" | "batchtopk" | "standard" | "jumprelu" | "gated" | "matryoshka_batchtopk";

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
  /** Gated: the auxiliary gate-path reconstruction sends no gradient into W_dec, b_dec (paper); default false (SAELens). */
  gatedFrozenDecoder?: boolean;
  /** W_enc = W_decᵀ, one trained matrix (not for gated). */
  tiedWeights?: boolean;
  /** matryoshka_batchtopk: the nested prefix widths (ascending; d_sae implied as the last). */
  matryoshkaWidths?: number[];
  /** Transcoder (standard, jumprelu): reconstruct a target y [batch, d_out] from x instead of x. */
  d_out?: number;
  /** Skip transcoder: ŷ also gets x·W_skip. */
  skip?: boolean;
  /** Dead-latent resampling will run (GpuTrainer.resample): checked against the slab plan up front. */
  resampling?: boolean;
  /**
   * Test-only: plan the latent slabs and batch chunks (./slab_plan.ts) as if maxStorageBufferBindingSize
   * were this many bytes, so small sizes take every split path.
   */
  bindingLimit?: number;
  /**
   * Test-only: store every slab's gradients for the whole step (as clipping must) instead of streaming
   * each slab's into its Adam update through one reused slab-sized buffer, so `gradients()` sees them all.
   */
  keepGradients?: boolean;
}

/** Host copies of the parameters (the trainer's scaled activation space). */
export interface SaeParams {
  W_enc: Float32Array;
  W_dec: Float32Array;
  b_enc: Float32Array;
  b_dec: Float32Array;
  log_threshold: Float32Array;
  /** Gated: the magnitude path's per-latent log scale of W_enc (b_enc is the gate bias b_gate). */
  r_mag: Float32Array;
  /** Gated: the magnitude path's bias. */
  b_mag: Float32Array;
  /** Skip transcoder: x·W_skip joins the output ([d_in, d_out]); absent otherwise. */
  W_skip?: Float32Array;
}

/** Per-step values written by the host. */
export interface StepHyper {
  lr: number;
  /** Adam step count t (1-based) for bias correction. */
  t: number;
  /** l1 (standard, gated) or l0 (jumprelu) coefficient after warmup; matryoshka_batchtopk: the inner levels' weight, 1. */
  sparsityCoef: number;
  auxCoef: number;
}

export type Metrics = Record<(typeof METRIC_NAMES)[number], number>;

export const PARAM_NAMES = ["W_enc", "W_dec", "b_enc", "b_dec", "log_threshold", "r_mag", "b_mag", "W_skip"] as const;
export type ParamName = (typeof PARAM_NAMES)[number];

/** Floats in each whole parameter (W_skip: 1 unused float unless a skip transcoder). */
export function paramSizes(c: Pick<TrainerConfig, "d_in" | "d_sae" | "d_out" | "skip">): Record<ParamName, number> {
  const { d_in: D, d_sae: S } = c;
  const O = c.d_out ?? D;
  return {
    W_enc: D * S,
    W_dec: S * O,
    b_enc: S,
    b_dec: O,
    log_threshold: S,
    r_mag: S,
    b_mag: S,
    W_skip: c.skip ? D * O : 1,
  };
}

export function isSparse(a: Architecture): boolean {
  return a === "topk" || isBatchTopk(a);
}

/** BatchTopK selection: batchtopk and matryoshka_batchtopk. */
export function isBatchTopk(a: Architecture): boolean {
  return a === "batchtopk" || a === "matryoshka_batchtopk";
}
