/** The "train" config section. Defaults suit the shipped run (USE-lite resid_post, d_in 512, ~1-2M tokens). */
import type { ParamSchema, ParamsOf } from "../../pipeline/params.ts";
import { isSparse } from "./trainer_types.ts";

export const trainParams = {
  architecture: {
    type: "enum",
    values: ["topk", "batchtopk", "standard", "jumprelu", "gated", "matryoshka_batchtopk"],
    default: "topk",
    doc:
      "SAE type: topk (k per token), batchtopk (k·batch per batch), standard (ReLU + L1), jumprelu (learned thresholds + L0), gated (gate and magnitude paths sharing W_enc, L1 on the gate), matryoshka_batchtopk (BatchTopK with nested prefixes that each reconstruct)",
  },
  expansion_factor: { type: "int", default: 8, min: 1, doc: "d_sae = expansion_factor × d_in (unless d_sae is set)" },
  d_sae: { type: "int", default: null, nullable: true, min: 1, doc: "number of latents; overrides expansion_factor" },
  k: { type: "int", default: 32, min: 1, doc: "active latents per token (topk) or mean per token (batchtopk)" },
  lr: { type: "number", default: 4e-3, min: 0, doc: "Adam learning rate (peak)" },
  batch_size: { type: "int", default: 2048, min: 1, doc: "tokens per training step" },
  training_tokens: {
    type: "int",
    default: null,
    nullable: true,
    min: 1,
    doc: "tokens to train on (whole steps of batch_size); null = epochs × train split size",
  },
  epochs: { type: "number", default: 1, min: 0, doc: "passes over the train split when training_tokens is null" },
  seed: { type: "int", default: 42, doc: "seed of initialisation and data order" },
  adam_beta1: { type: "number", default: 0.9, min: 0, max: 1, doc: "Adam β1" },
  adam_beta2: { type: "number", default: 0.999, min: 0, max: 1, doc: "Adam β2" },
  adam_epsilon: { type: "number", default: 1e-8, min: 0, doc: "Adam ε" },
  lr_warmup_steps: { type: "int", default: 10, min: 0, doc: "linear learning-rate warmup steps" },
  lr_decay: {
    type: "enum",
    values: ["constant", "cosine", "linear"],
    default: "cosine",
    doc: "learning-rate decay after warmup, to 0 at the last step",
  },
  l1_coefficient: {
    type: "number",
    default: null,
    nullable: true,
    min: 0,
    doc:
      "standard: L1 penalty coefficient (on Σ z_i·‖W_dec_i‖); gated: on the gate, Σ ReLU(π_gate)_i·‖W_dec_i‖; null = the value tuned for L0 ≈ 32 on the default run (standard 2.5, gated 3.5)",
  },
  l1_warmup_steps: { type: "int", default: 20, min: 0, doc: "linear warmup of the L1/L0 coefficient, in steps" },
  l0_coefficient: { type: "number", default: 0.5, min: 0, doc: "jumprelu: L0 penalty coefficient" },
  jumprelu_bandwidth: {
    type: "number",
    default: 0.05,
    min: 0,
    doc: "jumprelu: straight-through estimator bandwidth ε",
  },
  jumprelu_init_threshold: {
    type: "number",
    default: 0.1,
    min: 0,
    doc: "jumprelu: initial threshold (about 1σ of the initial pre-activations; log-thresholds move ~lr per step)",
  },
  tied_weights: {
    type: "boolean",
    default: false,
    doc: "W_enc = W_decᵀ: one matrix trained on both uses' gradients (topk, batchtopk, standard, jumprelu; not gated)",
  },
  gated_frozen_decoder: {
    type: "boolean",
    default: false,
    doc:
      "gated, experimental: the auxiliary gate-path reconstruction trains the gate only (frozen W_dec, b_dec, as the Gated SAE paper; needs normalize_decoder true); false = SAELens (the tested default)",
  },
  target_hook: {
    type: "string",
    default: null,
    nullable: true,
    doc:
      "train a transcoder: read extract.hook, reconstruct this hook (e.g. blocks.0.ln2.hook_normalized → blocks.0.hook_mlp_out; extract writes both from one pass); standard, jumprelu, topk or batchtopk; null = a plain SAE",
  },
  skip_transcoder: {
    type: "boolean",
    default: false,
    doc:
      "transcoder with a linear skip path W_skip (ŷ += x·W_skipᵀ, SAELens skip_transcoder, sparsify skip_connection); needs target_hook and standard or topk",
  },
  clip_grad_norm: { type: "number", default: 0, min: 0, doc: "clip gradients to this global L2 norm; 0 = off" },
  normalize_activations: {
    type: "enum",
    values: ["none", "expected_average_only_in"],
    default: "expected_average_only_in",
    doc: "scale inputs so the mean norm is sqrt(d_in) while training (folded into the saved weights)",
  },
  b_dec_init: {
    type: "enum",
    values: ["mean", "geometric_median", "zeros"],
    default: "mean",
    doc: "b_dec initialisation from the first 16384 training rows",
  },
  normalize_decoder: {
    type: "boolean",
    default: null,
    nullable: true,
    doc:
      "keep decoder rows unit norm (gradient parallel to them removed); null = true for the TopK family, false for standard/jumprelu/gated (rows start at norm 0.1, free norm: SAELens/Anthropic recipe)",
  },
  dead_feature_window: {
    type: "int",
    default: 200000,
    min: 1,
    doc:
      "tokens without firing after which a latent is dead (one not shorter than the run becomes half the run, logged)",
  },
  resample_every: {
    type: "int",
    default: 0,
    min: 0,
    doc:
      "steps between dead-latent resamplings (Anthropic 2023): latents dead for dead_feature_window tokens restart toward badly reconstructed inputs, Adam state reset; 0 = off",
  },
  aux_k: {
    type: "int",
    default: null,
    nullable: true,
    min: 0,
    doc:
      "AuxK dead latents per token (topk/batchtopk); null = d_in/2 (SAELens; a transcoder's d_out/2, sparsify), 0 = off",
  },
  aux_k_coefficient: { type: "number", default: 0.03125, min: 0, doc: "AuxK loss coefficient" },
  matryoshka_widths: {
    type: "json",
    default: null,
    nullable: true,
    doc:
      "matryoshka_batchtopk: ascending prefix widths (d_sae is added as the last); null = [d_sae/16, d_sae/4, d_sae] (at least k)",
  },
  batchtopk_candidates: {
    type: "number",
    default: 4,
    min: 1,
    doc: "batchtopk: candidates kept per token before the batch-wide selection, as a multiple of k",
  },
  threshold_decay: {
    type: "number",
    default: 0.99,
    min: 0,
    max: 1,
    doc: "batchtopk: decay of the threshold's moving average",
  },
  shuffle_buffer_tokens: { type: "int", default: 65536, min: 1, doc: "rows in the shuffle (mixing) buffer" },
  log_every: { type: "int", default: 10, min: 1, doc: "steps between training-log rows (and metric reads)" },
  checkpoint_every: { type: "int", default: 100, min: 0, doc: "steps between checkpoints in the scratch dir; 0 = off" },
  validation_tokens: {
    type: "int",
    default: 16384,
    min: 0,
    doc: "held-out tokens (extract's heldout split) for val_* metrics at each checkpoint and the end; 0 = off",
  },
} as const satisfies ParamSchema;

export type TrainParams = ParamsOf<typeof trainParams>;

/**
 * Whether decoder rows stay unit norm. Default (null): TopK-family SAEs select by rank, so unit rows
 * with W_enc = W_decᵀ train well; L1/L0-penalised SAEs need small initial activations (rows at norm
 * 0.1, free norm, penalty scaled by ‖W_dec_i‖), else the penalty shuts every latent off in the first
 * steps, before the decoder rows have turned towards the data.
 */
export function normalizesDecoder(p: Pick<TrainParams, "architecture" | "normalize_decoder">): boolean {
  return p.normalize_decoder ?? isSparse(p.architecture);
}

/**
 * The sparsity coefficient a step scales its penalty by: l1_coefficient (standard, gated; null = the
 * value tuned for L0 ≈ 32 on the default run, 720 steps of 2048 tokens), l0_coefficient (jumprelu), 0
 * for the TopK family (their sparsity is k).
 */
export function sparsityCoefficient(
  p: Pick<TrainParams, "architecture" | "l1_coefficient" | "l0_coefficient">,
): number {
  if (p.architecture === "jumprelu") return p.l0_coefficient;
  if (p.architecture === "standard") return p.l1_coefficient ?? TUNED_L1.standard;
  if (p.architecture === "gated") return p.l1_coefficient ?? TUNED_L1.gated;
  return 0;
}

/** l1_coefficient for L0 ≈ 32 on the default run (README, "Architectures at matched L0"). */
export const TUNED_L1 = { standard: 2.5, gated: 3.5 } as const;
