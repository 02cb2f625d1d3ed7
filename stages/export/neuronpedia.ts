/**
 * Neuronpedia upload batches: `neuronpedia/batch-N.json`, the feature-dashboard batches that SAEDashboard's
 * Neuronpedia runner writes and Neuronpedia imports (its converter turns each feature into a `Neuron` row and
 * each activation into an `Activation` row of the webapp's Prisma schema), plus `skipped_indexes.json` for
 * latents that never fired (Neuronpedia creates them empty).
 *
 *   batch:   {model_id, layer, sae_set, sae_id_suffix, features: [feature]}
 *   feature: feature_index, frac_nonzero (held-out firing frequency), freq_hist_data_bar_heights / _values
 *            (activation histogram counts / bin centres), neuron_alignment_indices / _values / _l1 (the 3
 *            largest |W_dec[l, j]| and their share of ‖W_dec[l]‖₁), activations, explanations (empty: no
 *            auto-interpretation here), pos_str / pos_values and neg_str / neg_values (the top boosted and
 *            suppressed tokens W_dec[l] · W_U of latent_logits.ts, most extreme first; empty lists for a model
 *            without an unembedding); every other Neuron column the converter reads (correlated_*,
 *            logits_hist_*, decoder_weights_dist) is an empty list.
 *   activation: tokens, values (the example window), bin_min −1, bin_max = the latent's largest example
 *            activation, bin_contains −1 (SAEDashboard's top-activation bin), qualifying_token_index.
 * Only the top examples are exported (quantile examples have no bin range to report).
 */
import type { ExampleRow } from "./inputs.ts";
import type { Columns } from "./inputs.ts";
import type { LatentTokenTable } from "./latent_logits.ts";

export interface NeuronpediaInput {
  modelId: string;
  layer: number;
  hookName: string;
  dSae: number;
  dIn: number;
  /** W_dec [dSae, dIn]. */
  wDec: ArrayLike<number>;
  latents: Columns | null;
  examples: ExampleRow[];
  /** Top boosted / suppressed tokens per latent; null when the model has no unembedding. */
  topTokens?: LatentTokenTable | null;
  batchSize: number;
}

/** Neuronpedia's source-set naming: res / att / mlp by hook kind, suffixed with this tool's name. */
export function saeSetName(hookName: string): string {
  const kind = /resid/.test(hookName)
    ? "res"
    : /attn|hook_z/.test(hookName)
    ? "att"
    : /mlp/.test(hookName)
    ? "mlp"
    : hookName.replace(/[^a-z0-9]+/gi, "_").toLowerCase();
  return `${kind}-sae-pipeline`;
}

/** Top-3 |W_dec[l, j]| with their share of the row's L1 norm (SAEDashboard's neuron alignment). */
export function neuronAlignment(wDec: ArrayLike<number>, l: number, dIn: number) {
  let l1 = 0;
  const js = Array.from({ length: dIn }, (_, j) => j);
  for (const j of js) l1 += Math.abs(wDec[l * dIn + j]);
  const top = js.sort((a, b) => Math.abs(wDec[l * dIn + b]) - Math.abs(wDec[l * dIn + a]) || a - b).slice(0, 3);
  return {
    neuron_alignment_indices: top,
    neuron_alignment_values: top.map((j) => round(wDec[l * dIn + j])),
    neuron_alignment_l1: top.map((j) => round(l1 > 0 ? Math.abs(wDec[l * dIn + j]) / l1 : 0)),
  };
}

function round(v: number): number {
  return Number.isFinite(v) ? +v.toPrecision(5) : 0;
}

/** Batch files (name -> JSON text) and the skipped (never firing) latents. */
export function neuronpediaBatches(inp: NeuronpediaInput): Map<string, string> {
  const files = new Map<string, string>();
  const byLatent = new Map<number, ExampleRow[]>();
  for (const e of inp.examples) {
    if (e.kind === "top") (byLatent.get(e.latent) ?? byLatent.set(e.latent, []).get(e.latent)!).push(e);
  }
  const rowOf = new Map<number, number>();
  (inp.latents?.latent as number[] | undefined)?.forEach((id, r) => rowOf.set(Number(id), r));
  const col = (name: string, l: number) => {
    const r = rowOf.get(l);
    return r === undefined || !inp.latents?.[name] ? null : inp.latents[name][r];
  };
  const sae_set = saeSetName(inp.hookName);
  const head = { model_id: inp.modelId, layer: inp.layer, sae_set, sae_id_suffix: null };
  const features: Record<string, unknown>[] = [], skipped: number[] = [];
  for (let l = 0; l < inp.dSae; l++) {
    const exs = byLatent.get(l) ?? [];
    if (!exs.length) {
      skipped.push(l);
      continue;
    }
    const hist = (col("act_hist", l) as number[] | null) ?? [];
    const hmax = Number(col("act_hist_max", l) ?? 0);
    const maxAct = Math.max(...exs.flatMap((e) => e.acts));
    features.push({
      feature_index: l,
      ...neuronAlignment(inp.wDec, l, inp.dIn),
      correlated_neurons_indices: [],
      correlated_neurons_pearson: [],
      correlated_neurons_l1: [],
      correlated_features_indices: [],
      correlated_features_pearson: [],
      correlated_features_l1: [],
      ...(inp.topTokens?.get(l) ?? { neg_str: [], neg_values: [], pos_str: [], pos_values: [] }),
      frac_nonzero: round(Number(col("frequency", l) ?? 0)),
      freq_hist_data_bar_heights: hist,
      freq_hist_data_bar_values: hist.map((_, i) => round(((i + 0.5) * hmax) / hist.length)),
      logits_hist_data_bar_heights: [],
      logits_hist_data_bar_values: [],
      decoder_weights_dist: [],
      explanations: [],
      activations: exs.map((e) => ({
        bin_min: -1,
        bin_max: round(maxAct),
        bin_contains: -1,
        tokens: e.tokens,
        values: e.acts.map(round),
        qualifying_token_index: e.center,
      })),
    });
  }
  for (let b = 0; b * inp.batchSize < features.length; b++) {
    const batch = { ...head, features: features.slice(b * inp.batchSize, (b + 1) * inp.batchSize) };
    files.set(`batch-${b}.json`, JSON.stringify(batch) + "\n");
  }
  files.set(
    "skipped_indexes.json",
    JSON.stringify({ ...head, sae_id: `${inp.layer}-${sae_set}`, skipped_indexes: skipped }) + "\n",
  );
  return files;
}
