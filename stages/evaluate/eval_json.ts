/** The shape of `eval.json`, the evaluate stage's headline metrics (readers import this, not guess names). */
import type { DownstreamResult } from "./downstream.ts";
import type { FiringResult, ReconstructionResult } from "./metrics.ts";

export interface EvalJson extends ReconstructionResult, FiringResult {
  architecture: string;
  d_in: number;
  d_sae: number;
  k: number | null;
  model_name: string;
  hook_name: string;
  split: "heldout";
  downstream: DownstreamResult | null;
  /** Which SAE runner encoded the held-out activations. */
  encoder: string;
}
