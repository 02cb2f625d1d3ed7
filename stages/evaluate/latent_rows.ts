/**
 * Rows of `latents.parquet`, one per latent, from the accumulated statistics. Column meanings:
 *   fires = c_l (held-out tokens where latent l is non-zero), frequency = c_l / N,
 *   log10_frequency = log10(c_l / N + 1e-10) (SAELens `sparsity`), mean_activation = Σ_t f_t,l / c_l
 *   (over firings; null when dead), max_activation, dead = c_l = 0, dense = c_l / N > dense_threshold,
 *   decoder_norm, enc_dec_cosine (see latent_stats.ts), act_hist = counts of the activation histogram
 *   over (0, act_hist_max] in equal bins, top_tag / top_genre = the label with the highest F1 of
 *   "fires" vs "token has the label", with its precision, recall and F1 (see tag_association.ts).
 */
import type { ActivationHistograms, WeightStats } from "./latent_stats.ts";
import type { FiringAccumulator } from "./metrics.ts";
import type { LabelAssociation } from "./tag_association.ts";
import type { TokenCorpus } from "./token_corpus.ts";
import { LATENTS_SCHEMA } from "./parquet_schemas.ts";

export { LATENTS_SCHEMA };

export interface LatentRowInputs {
  firing: FiringAccumulator;
  hists: ActivationHistograms;
  weights: WeightStats;
  tags: LabelAssociation | null;
  genres: LabelAssociation | null;
  corpus: TokenCorpus;
  denseThreshold: number;
}

export function* latentRows(a: LatentRowInputs): Generator<Record<string, unknown>> {
  const { firing, hists, weights, tags, genres, corpus } = a;
  const n = firing.n;
  const label = (assoc: LabelAssociation | null, names: string[], l: number, prefix: string) => {
    const i = assoc ? assoc.label[l] : -1;
    return i < 0
      ? { [prefix]: null, [`${prefix}_precision`]: null, [`${prefix}_recall`]: null, [`${prefix}_f1`]: null }
      : {
        [prefix]: names[i] ?? String(i),
        [`${prefix}_precision`]: assoc!.precision[l],
        [`${prefix}_recall`]: assoc!.recall[l],
        [`${prefix}_f1`]: assoc!.f1[l],
      };
  };
  for (let l = 0; l < firing.dSae; l++) {
    const c = firing.fires[l], freq = c / n, h = hists.of(l);
    yield {
      latent: l,
      fires: c,
      frequency: freq,
      log10_frequency: Math.log10(freq + 1e-10),
      mean_activation: c > 0 ? firing.sum[l] / c : null,
      max_activation: c > 0 ? firing.max[l] : null,
      dead: c === 0,
      dense: freq > a.denseThreshold,
      decoder_norm: weights.decoderNorm[l],
      enc_dec_cosine: weights.encDecCosine[l],
      act_hist: h.counts,
      act_hist_max: h.max,
      ...label(tags, corpus.meta.tags, l, "top_tag"),
      ...label(genres, corpus.meta.genres, l, "top_genre"),
    };
  }
}
