/**
 * What the GPU trainer is configured with (TrainerConfig), what it holds (SaeParams) and is given each
 * step (StepHyper), what it reports (Metrics), and the config check against a device.
 */
import { METRIC_NAMES } from "../../kernels/loss/mod.ts";

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

/** Check a config against itself and the device; one-line errors. */
export function checkConfig(c: TrainerConfig, device: GPUDevice): void {
  if (c.k < 1 || c.k > c.d_sae) throw new Error(`train: k = ${c.k} must be between 1 and d_sae (${c.d_sae})`);
  if (c.batch < 1 || c.batch > device.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`train: batch_size ${c.batch} must be in 1..${device.limits.maxComputeWorkgroupsPerDimension}`);
  }
  if (c.d_in > device.limits.maxComputeWorkgroupsPerDimension) throw new Error(`train: d_in ${c.d_in} is too large`);
  const max = device.limits.maxStorageBufferBindingSize;
  const big = c.batch * c.d_sae * 4;
  if (big > max || c.d_in * c.d_sae * 4 > max) {
    throw new Error(
      `train: batch_size × d_sae (${c.batch} × ${c.d_sae} f32 = ${
        (big / 2 ** 20).toFixed(0)
      } MiB) or d_in × d_sae exceeds maxStorageBufferBindingSize (${max / 2 ** 20} MiB); lower batch_size or d_sae`,
    );
  }
}
