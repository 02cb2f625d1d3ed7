/**
 * The shape of `eval.json`, the evaluate stage's headline metrics: readers (export, the CLI) import these
 * types instead of guessing names (it imports only metrics.ts's types, so a reader's fingerprint stays small).
 */
import type { FiringResult, ReconstructionResult } from "./metrics.ts";

/** eval.json's extra fields for a transcoder: which hook the metrics measure. */
export interface TranscoderEvalJson {
  /** The hook the reconstruction metrics and the downstream splice are about (the target). */
  hook_name_out: string;
  d_out: number;
  /** Always "hook_name_out" for a transcoder: explained_variance etc. measure ŷ against the target hook. */
  metrics_measured_on: "hook_name_out";
}

/**
 * For a transcoder (`hook_name_out` present) the reconstruction metrics (mse, explained_variance, ...) compare
 * its output ŷ with the target hook hook_name_out, and `downstream` replaces that hook.
 */
export interface EvalJson extends ReconstructionResult, FiringResult, Partial<TranscoderEvalJson> {
  architecture: string;
  d_in: number;
  d_sae: number;
  k: number | null;
  model_name: string;
  hook_name: string;
  split: "heldout";
  downstream: DownstreamResult | null;
  /** k-sparse probing on POS tags and genres (supervised.ts). */
  sparse_probing: SparseProbingJson;
  /** First-letter feature absorption; null when no letter had enough sampled tokens (supervised.ts). */
  absorption: AbsorptionJson | null;
  /** Which SAE runner encoded the held-out activations. */
  encoder: string;
}

/** Mean over tasks of one probe kind: accuracy and F1 on the held-out split. */
export interface ProbeScoresJson {
  accuracy: number;
  f1: number;
  tasks: number;
}

export interface SparseProbingJson {
  /** Keys `sae_top_K`, `random_top_K` (K = 1, 2, 5, 10, 20) and `raw`. */
  pos: Record<string, ProbeScoresJson>;
  genre: Record<string, ProbeScoresJson>;
  pos_tasks: number;
  genre_tasks: number;
  sample_tokens: number;
  sample_sequences: number;
}

export interface AbsorptionJson {
  letters: number;
  mean_absorption_fraction: number;
  mean_full_absorption_rate: number;
  mean_main_latents: number;
  sample_tokens: number;
}

export type VariantMetrics = Record<string, number>;

export interface DownstreamResult {
  kind: "encoder" | "causal_lm";
  /** The hook tensor the variants replace (a transcoder's target hook). */
  hook_tensor: string;
  /** A transcoder's input hook tensor, whose rows the transcoder reads (absent for an SAE). */
  input_hook_tensor?: string;
  n_sequences: number;
  n_tokens: number;
  spliced: VariantMetrics;
  zero_ablation: VariantMetrics;
  mean_ablation: VariantMetrics;
  /** Causal LMs: the clean model's CE loss. */
  clean_ce_loss?: number;
  /** Causal LMs: CE loss of the clean model, with the SAE spliced in, and with the hook zero-ablated. */
  ce_loss_without_sae?: number;
  ce_loss_with_sae?: number;
  ce_loss_with_ablation?: number;
  fraction_recovered_zero: number;
  fraction_recovered_mean: number;
  kl_recovered_zero?: number;
  kl_recovered_mean?: number;
}
