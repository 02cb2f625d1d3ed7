/**
 * The evaluate stage: one streaming pass over the extract stage's held-out activations through the SAE
 * (sparse codes per batch, never a dense tokens × latents matrix), accumulating reconstruction metrics,
 * per-latent statistics, label associations and bounded top-N / sample heaps; then downstream fidelity
 * on a few held-out sequences. Writes `eval.json`, `latents.parquet`, `examples.parquet`. A transcoder
 * (./transcoder_eval.ts) is measured on its target hook: ŷ against the paired target rows, spliced there.
 */
import { join } from "node:path";
import { ParamError, type ParamSchema, type ParamsOf } from "../../pipeline/params.ts";
import { defineStage, type StageContext } from "../../pipeline/stage.ts";
import { readActivationMeta, readShard } from "../io/activations.ts";
import { writeParquet } from "../io/parquet.ts";
import { listHooks, resolveHook } from "../model/onnx_graph.ts";
import { readExternalData } from "../model/external_data.ts";
import { readModelIo } from "../model/model_io.ts";
import { loadSae } from "../export/load.ts";
import { CodesSpool } from "./codes_spool.ts";
import type { EvalJson } from "./eval_json.ts";
import { downstreamFidelity, type DownstreamResult } from "./downstream.ts";
import { exampleRows, EXAMPLES_SCHEMA, pickExamples } from "./examples.ts";
import { LatentHeaps, sampleHash } from "./latent_heaps.ts";
import { latentRows, LATENTS_SCHEMA } from "./latent_rows.ts";
import { ActivationHistograms, weightStats } from "./latent_stats.ts";
import { FiringAccumulator, ReconstructionAccumulator } from "./metrics.ts";
import { openRunner } from "./open_runner.ts";
import { decodeSparse } from "./sae_runner.ts";
import type { SparseCodes } from "./sparse_codes.ts";
import { LabelCooccurrence } from "./tag_association.ts";
import { NO_GENRE, NO_TAG, TokenCorpus } from "./token_corpus.ts";
import { heldoutRows, SUPERVISED_PARAMS, supervisedEvals } from "./supervised.ts";
import { addSkip } from "../train/sae_cpu.ts";
import { encoderDirections, openTargetActs, transcoderWeightStats } from "./transcoder_eval.ts";

const evaluateParams = {
  top_n: { type: "int", default: 10, min: 1, max: 1000, doc: "top activating examples kept per latent" },
  window: { type: "int", default: 8, min: 0, max: 256, doc: "context tokens shown on each side of an example" },
  quantile_examples: {
    type: "int",
    default: 4,
    min: 0,
    max: 100,
    doc: "examples per latent from lower quantiles of its activations",
  },
  quantile_sample: {
    type: "int",
    default: 64,
    min: 1,
    max: 10000,
    doc: "firings sampled per latent to pick the quantile examples from",
  },
  downstream_sequences: {
    type: "int",
    default: 32,
    min: 0,
    doc: "held-out sequences run through the model for downstream fidelity (0 = skip)",
  },
  dense_threshold: {
    type: "number",
    default: 0.1,
    min: 0,
    max: 1,
    doc: "a latent firing on more than this fraction of tokens is dense",
  },
  batch_tokens: { type: "int", default: 4096, min: 1, doc: "tokens encoded per batch" },
  max_tokens: {
    type: "int",
    default: null,
    nullable: true,
    min: 1,
    doc: "evaluate at most this many held-out tokens (null = all)",
  },
  hist_bins: {
    type: "int",
    default: 16,
    min: 2,
    max: 1024,
    doc: "bins of each latent's activation histogram (a power of two)",
  },
  backend: {
    type: "enum",
    values: ["auto", "webgpu", "cpu"],
    default: "auto",
    doc: "SAE encoder: WebGPU kernels, the float64 CPU reference, or auto",
  },
  ...SUPERVISED_PARAMS,
} as const satisfies ParamSchema;

export type EvaluateParams = ParamsOf<typeof evaluateParams>;

export const evaluateStage = defineStage<EvaluateParams>({
  name: "evaluate",
  upstream: ["model", "pretokenize", "extract", "train"],
  description:
    "reconstruction metrics, downstream fidelity, latent statistics and top examples on held-out activations",
  module: import.meta.url,
  packages: ["@duckdb/node-api", "onnxruntime-node"],
  unit: "tokens",
  params: evaluateParams,
  validate(p) {
    if ((p.hist_bins & (p.hist_bins - 1)) !== 0) {
      throw new ParamError(`config key "evaluate.hist_bins": ${p.hist_bins} is not a power of two`);
    }
  },
  run: runEvaluate,
});

async function runEvaluate(ctx: StageContext<EvaluateParams>): Promise<void> {
  const p = ctx.params;
  const { weights, cfg } = await loadSae(ctx.inputs.train);
  const acts = await readActivationMeta(ctx.inputs.extract);
  if (acts.d_in !== cfg.d_in) throw new Error(`SAE d_in ${cfg.d_in} does not match the activations' d_in ${acts.d_in}`);
  const split = acts.splits.heldout;
  if (!split || split.n_tokens === 0) {
    throw new Error("the extract stage wrote no held-out tokens (is extract.heldout_fraction 0?)");
  }
  const corpus = await TokenCorpus.load(ctx.inputs.pretokenize);
  const { d_in: dIn, d_sae: dSae } = cfg;
  const total = Math.min(split.n_tokens, p.max_tokens ?? Infinity);
  const target = await openTargetActs(ctx.inputs.extract, acts, cfg); // a transcoder's y rows, else null
  const dOut = target?.meta.d_in ?? dIn;
  /** The model's output for `n` rows of x and their codes: x̂ (an SAE) or ŷ [n, d_out] (a transcoder). */
  const output = (xs: Float32Array, codes: SparseCodes) => {
    const out = decodeSparse(weights, dOut, codes);
    addSkip(weights, cfg, xs, out, codes.n);
    return out;
  };

  const recon = new ReconstructionAccumulator(dOut);
  const firing = new FiringAccumulator(dSae);
  const hists = new ActivationHistograms(dSae, p.hist_bins);
  const tags = corpus.meta.tags.length ? new LabelCooccurrence(dSae, corpus.meta.tags.length, NO_TAG) : null;
  const genres = corpus.meta.genres.length ? new LabelCooccurrence(dSae, corpus.meta.genres.length, NO_GENRE) : null;
  const top = new LatentHeaps(dSae, p.top_n);
  const sample = p.quantile_examples > 0 ? new LatentHeaps(dSae, p.quantile_sample) : null;
  const supervised = supervisedEvals(corpus, await heldoutRows(ctx.inputs.extract, split.shards, total), p, dIn, dSae);
  const spool = await CodesSpool.create(join(ctx.scratchDir, "codes"));
  const runner = await openRunner(weights, cfg, p.backend, p.batch_tokens, (m) => ctx.log(m));
  const B = Math.min(p.batch_tokens, runner.maxRows);
  ctx.log(`${total} held-out tokens, SAE ${cfg.architecture} d_in ${dIn} d_sae ${dSae} on ${runner.name}`);
  const started = performance.now();
  try {
    let done = 0;
    for (const shard of split.shards) {
      if (done >= total) break;
      ctx.signal.throwIfAborted();
      const { acts: x, rows } = await readShard(ctx.inputs.extract, shard, dIn);
      const shardIndex = split.shards.indexOf(shard);
      const y = target ? (await readShard(target.dir, target.meta.splits.heldout.shards[shardIndex], dOut)).acts : x;
      const n = Math.min(shard.n, total - done);
      corpus.markHeldout(rows.subarray(0, n), done);
      // Encode batch i+1 on the device while batch i's statistics run on the CPU.
      const batch = (s: number) => x.subarray(s * dIn, Math.min(n, s + B) * dIn);
      let next: Promise<SparseCodes> | null = runner.encode(batch(0), Math.min(n, B));
      for (let s = 0; s < n; s += B) {
        const b = Math.min(B, n - s);
        const codes: SparseCodes = await next!;
        next = s + b < n ? runner.encode(batch(s + b), Math.min(B, n - s - b)) : null;
        const xb = batch(s), r = rows.subarray(s, s + b);
        recon.add(target ? y.subarray(s * dOut, (s + b) * dOut) : xb, output(xb, codes), codes);
        firing.add(codes);
        hists.add(codes);
        tags?.add(codes, gather(corpus.tag, r));
        genres?.add(codes, gather(corpus.genre, r));
        pushHeaps(codes, r, top, sample);
        supervised.add(xb, codes, r);
        await spool.append(codes);
        done += b;
        ctx.progress(done, total, `${Math.round(done / ((performance.now() - started) / 1000))} tokens/s`);
      }
    }
    const seconds = (performance.now() - started) / 1000;
    ctx.log(`main pass ${done} tokens in ${seconds.toFixed(1)} s (${Math.round(done / seconds)} tokens/s)`);

    const reconstruction = recon.result();
    const firingResult = firing.result(p.dense_threshold);
    const ws = target
      ? transcoderWeightStats(weights.W_dec, dSae, dOut)
      : weightStats(toF32(weights.W_enc), toF32(weights.W_dec), dIn, dSae);
    await writeParquet(
      join(ctx.outDir, "latents.parquet"),
      LATENTS_SCHEMA,
      latentRows({
        firing,
        hists,
        weights: ws,
        tags: tags?.result() ?? null,
        genres: genres?.result() ?? null,
        corpus,
        denseThreshold: p.dense_threshold,
      }),
    );
    const picks = pickExamples(top, sample ?? new LatentHeaps(dSae, 1), p.quantile_examples);
    await writeParquet(
      join(ctx.outDir, "examples.parquet"),
      EXAMPLES_SCHEMA,
      await exampleRows(picks, corpus, spool, p.window),
    );

    // absorption compares probe directions of x with each latent's direction in x's space
    const latentDirs = target ? encoderDirections(weights.W_enc, dIn, dSae) : weights.W_dec;
    const supervisedResult = await supervised.finish(ctx.outDir, latentDirs, (m) => ctx.log(m));

    let downstream: DownstreamResult | null = null;
    if (p.downstream_sequences > 0) {
      const hooks = target ? { replaced: target.meta.hook_name, input: acts.hook_name } : { replaced: acts.hook_name };
      downstream = await runDownstream(ctx, corpus, hooks, dIn, dOut, recon.mean(), async (xs, n) => {
        const out = new Float32Array(n * dOut);
        for (let s = 0; s < n; s += B) {
          const b = Math.min(B, n - s), xb = xs.subarray(s * dIn, (s + b) * dIn);
          out.set(output(xb, await runner.encode(xb, b)), s * dOut);
        }
        return out;
      });
    }
    const evalJson: EvalJson = {
      architecture: cfg.architecture,
      d_in: dIn,
      d_sae: dSae,
      k: cfg.k ?? null,
      model_name: acts.model_name,
      hook_name: acts.hook_name,
      ...(target ? { hook_name_out: target.meta.hook_name, d_out: dOut, metrics_measured_on: "hook_name_out" } : {}),
      split: "heldout",
      ...reconstruction,
      ...firingResult,
      downstream,
      ...supervisedResult,
      encoder: runner.name,
    };
    await Deno.writeTextFile(join(ctx.outDir, "eval.json"), JSON.stringify(evalJson, finiteOrNull, 2) + "\n");
  } finally {
    runner.dispose();
    await spool.dispose();
  }
}

function toF32(v: Float32Array | Float64Array): Float32Array {
  return v instanceof Float32Array ? v : Float32Array.from(v);
}

/** NaN and ±Infinity are not JSON: write null. */
function finiteOrNull(_k: string, v: unknown): unknown {
  return typeof v === "number" && !Number.isFinite(v) ? null : v;
}

function gather<T extends Uint16Array | Uint8Array>(labels: T, rows: Uint32Array): number[] {
  return Array.from(rows, (r) => labels[r]);
}

/** Top-N by activation, and the bottom-k hash sample of firings, per latent. */
function pushHeaps(codes: SparseCodes, rows: Uint32Array, top: LatentHeaps, sample: LatentHeaps | null): void {
  for (let t = 0; t < codes.n; t++) {
    const tok = rows[t];
    for (let e = codes.offsets[t]; e < codes.offsets[t + 1]; e++) {
      const v = codes.val[e];
      if (v === 0) continue;
      const l = codes.idx[e];
      top.push(l, v, tok, v);
      sample?.push(l, -sampleHash(tok, l), tok, v);
    }
  }
}

/** The first `downstream_sequences` held-out sequences, run through the model with the SAE spliced in. */
async function runDownstream(
  ctx: StageContext<EvaluateParams>,
  corpus: TokenCorpus,
  hooks: { replaced: string; input?: string },
  dIn: number,
  dOut: number,
  mean: Float64Array,
  reconstruct: (x: Float32Array, n: number) => Promise<Float32Array>,
): Promise<DownstreamResult | null> {
  const S = corpus.contextSize, want = ctx.params.downstream_sequences;
  const seqs: number[] = [];
  for (let s = 0; s < corpus.meta.n_seq && seqs.length < want; s++) {
    for (let q = 0; q < S; q++) {
      if (corpus.heldoutRow[s * S + q] >= 0) {
        seqs.push(s);
        break;
      }
    }
  }
  if (seqs.length === 0) return null;
  const ids = new Uint32Array(seqs.length * S), mask = new Uint8Array(seqs.length * S);
  const splice = new Uint8Array(seqs.length * S);
  seqs.forEach((s, i) => {
    ids.set(corpus.tokens.subarray(s * S, (s + 1) * S), i * S);
    for (let q = 0; q < S; q++) {
      mask[i * S + q] = s * S + q < corpus.meta.n_tokens ? 1 : 0; // real tokens (padding is the tail)
      splice[i * S + q] = corpus.heldoutRow[s * S + q] >= 0 ? 1 : 0; // the tokens extract kept
    }
  });
  const modelBytes = await Deno.readFile(join(ctx.inputs.model, "onnx", "model.onnx"));
  const hookTensor = await hookTensorName(ctx.inputs.model, modelBytes, hooks.replaced);
  const input = hooks.input
    ? { tensor: await hookTensorName(ctx.inputs.model, modelBytes, hooks.input), d: dIn }
    : undefined;
  ctx.log(`downstream fidelity on ${seqs.length} sequences (hook tensor ${hookTensor} replaced)`);
  return await downstreamFidelity({
    modelBytes,
    hookTensor,
    dIn: dOut,
    input,
    ids,
    mask,
    splice,
    io: readModelIo(ctx.inputs.model, modelBytes),
    externalData: await readExternalData(ctx.inputs.model),
    nSeq: seqs.length,
    contextSize: S,
    reconstruct,
    mean,
  });
}

/** The ONNX tensor of a hook: from the model stage's hooks.json, else resolved from the graph. */
async function hookTensorName(modelDir: string, modelBytes: Uint8Array, hookName: string): Promise<string> {
  try {
    const hooks = JSON.parse(await Deno.readTextFile(join(modelDir, "hooks.json"))) as {
      name: string;
      tensor: string;
    }[];
    const h = hooks.find((x) => x.name === hookName || x.tensor === hookName);
    if (h) return h.tensor;
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return resolveHook(listHooks(modelBytes), hookName).tensor;
}
