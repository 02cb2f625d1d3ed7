/**
 * Upstream directories for running the evaluate stage without the engine: a tiny model (the shared
 * fixture), a pretokenize dir (tokens, docs, POS tags, genres), an extract dir with random held-out
 * activation shards, and a train dir with a random SAE; plus a StageContext built by hand.
 */
import { join } from "node:path";
import { resolveParams } from "../../pipeline/params.ts";
import type { StageContext } from "../../pipeline/stage.ts";
import { ShardWriter } from "../../stages/io/activations.ts";
import { f32, writeSafetensors } from "../../stages/io/safetensors.ts";
import { type EvaluateParams, evaluateStage } from "../../stages/evaluate/mod.ts";
import { makeTinyModelDir, TINY_D } from "../fixtures/tiny_model.ts";
import { mulberry32, randn } from "./fixtures.ts";

export const TAGS = ["nn", "vb", "jj", "at"];
export const GENRES = ["news", "fiction"];

export interface EvalFixture {
  root: string;
  inputs: Record<string, string>;
  nSeq: number;
  S: number;
  dIn: number;
  dSae: number;
  k: number;
  vocab: string[];
  tokens: Uint32Array;
  tag: Uint16Array;
  genre: Uint8Array;
  /** Held-out flat token indices in shard order, and their activations [n, d_in]. */
  heldoutRows: Uint32Array;
  heldoutActs: Float32Array;
}

export async function makeEvalFixture(
  opts: { architecture?: "topk" | "jumprelu"; seed?: number } = {},
): Promise<EvalFixture> {
  const root = await Deno.makeTempDir({ prefix: "evaluate_test_" });
  const rnd = mulberry32(opts.seed ?? 1);
  const dirs = Object.fromEntries(["model", "pretokenize", "extract", "train"].map((s) => [s, join(root, s)]));
  for (const d of Object.values(dirs)) await Deno.mkdir(d, { recursive: true });
  const tiny = await makeTinyModelDir(dirs.model);
  const nSeq = 8, S = 12, dIn = TINY_D, dSae = 24, k = 4, V = tiny.vocab.length;

  // pretokenize: random tokens, the last sequence padded after 5 tokens; docs of 2 sequences each.
  const n = nSeq * S, padFrom = (nSeq - 1) * S + 5;
  const tokens = new Uint32Array(n).map(() => 3 + Math.floor(rnd() * (V - 3)));
  const doc = new Uint32Array(n).map((_, i) => Math.floor(i / (2 * S)));
  const tag = new Uint16Array(n).map((_, i) => (tokens[i] % 5 === 4 ? 0xffff : tokens[i] % 4));
  const genre = new Uint8Array(n).map((_, i) => doc[i] % 2);
  tokens.fill(0, padFrom);
  doc.fill(0xffffffff, padFrom);
  tag.fill(0xffff, padFrom);
  genre.fill(255, padFrom);
  const p = dirs.pretokenize;
  const bytes = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  await Deno.writeFile(join(p, "tokens.bin"), bytes(tokens));
  await Deno.writeFile(join(p, "doc.bin"), bytes(doc));
  await Deno.writeFile(join(p, "tag.bin"), bytes(tag));
  await Deno.writeFile(join(p, "genre.bin"), bytes(genre));
  await Deno.writeTextFile(
    join(p, "docs.json"),
    JSON.stringify(Array.from({ length: nSeq / 2 }, (_, i) => ({ id: `d${i}`, genre: GENRES[i % 2] }))),
  );
  await Deno.writeTextFile(join(p, "vocab.json"), JSON.stringify(tiny.vocab));
  await Deno.writeTextFile(
    join(p, "meta.json"),
    JSON.stringify({
      n_seq: nSeq,
      context_size: S,
      n_tokens: padFrom,
      vocab_size: V,
      pad_token_id: 0,
      bos_token_id: null,
      tags: TAGS,
      genres: GENRES,
      corpus: "fixture",
      prepend_bos: false,
      seed: 1,
    }),
  );

  // extract: sequences 0-3 train, 4-7 held out (in the order 6, 4, 7, 5 to test the row mapping).
  const acts = (rows: number[]) =>
    Float32Array.from({ length: rows.length * dIn }, (_, i) => 0.5 + randn(rnd) * (1 + (i % dIn) / dIn));
  const seqRows = (s: number) => Array.from({ length: S }, (_, q) => s * S + q).filter((i) => i < padFrom);
  const split = async (name: string, seqs: number[]) => {
    const rows = seqs.flatMap(seqRows), a = acts(rows);
    const w = new ShardWriter(dirs.extract, name, dIn, 10);
    await w.append(a.subarray(0, 13 * dIn), Uint32Array.from(rows.slice(0, 13)));
    await w.append(a.subarray(13 * dIn), Uint32Array.from(rows.slice(13)));
    return { info: await w.finish(), rows: Uint32Array.from(rows), acts: a };
  };
  const train = await split("train", [0, 1, 2, 3]);
  const held = await split("heldout", [6, 4, 7, 5]);
  await Deno.writeTextFile(
    join(dirs.extract, "meta.json"),
    JSON.stringify({
      model_name: "tiny-test-model",
      hook_name: "blocks.0.hook_resid_post",
      hook_layer: 0,
      d_in: dIn,
      dtype: "float32",
      context_size: S,
      prepend_bos: false,
      dataset_path: "fixture",
      mean_norm: train.info.mean_norm,
      splits: {
        train: { n_tokens: train.info.n_tokens, shards: train.info.shards },
        heldout: { n_tokens: held.info.n_tokens, shards: held.info.shards },
      },
    }),
  );

  // train: a random SAE.
  const architecture = opts.architecture ?? "topk";
  const W_enc = new Float32Array(dIn * dSae).map(() => randn(rnd) * 0.4);
  const W_dec = new Float32Array(dSae * dIn).map(() => randn(rnd) * 0.3);
  const b_enc = new Float32Array(dSae).map(() => randn(rnd) * 0.1);
  const b_dec = new Float32Array(dIn).map(() => 0.3 + randn(rnd) * 0.1);
  const tensors: Record<string, ReturnType<typeof f32>> = {
    W_enc: f32([dIn, dSae], W_enc),
    W_dec: f32([dSae, dIn], W_dec),
    b_enc: f32([dSae], b_enc),
    b_dec: f32([dIn], b_dec),
  };
  if (architecture === "jumprelu") tensors.threshold = f32([dSae], new Float32Array(dSae).map(() => rnd() * 0.8));
  await writeSafetensors(join(dirs.train, "sae_weights.safetensors"), tensors);
  await Deno.writeTextFile(
    join(dirs.train, "cfg.json"),
    JSON.stringify({
      architecture,
      d_in: dIn,
      d_sae: dSae,
      dtype: "float32",
      device: "cpu",
      model_name: "tiny-test-model",
      hook_name: "blocks.0.hook_resid_post",
      hook_layer: 0,
      hook_head_index: null,
      context_size: S,
      prepend_bos: false,
      normalize_activations: "none",
      dataset_path: "fixture",
      apply_b_dec_to_input: true,
      k: architecture === "topk" ? k : null,
      metadata: {},
    }),
  );
  return {
    root,
    inputs: dirs,
    nSeq,
    S,
    dIn,
    dSae,
    k,
    vocab: tiny.vocab,
    tokens,
    tag,
    genre,
    heldoutRows: held.rows,
    heldoutActs: held.acts,
  };
}

/** A StageContext for the evaluate stage over the fixture's inputs, with `params` overriding defaults. */
export async function evalContext(
  fx: EvalFixture,
  params: Record<string, unknown> = {},
  out = "out",
): Promise<StageContext<EvaluateParams>> {
  const outDir = join(fx.root, out), scratchDir = join(fx.root, `scratch-${out}`);
  await Deno.mkdir(outDir, { recursive: true });
  await Deno.mkdir(scratchDir, { recursive: true });
  return {
    params: resolveParams("evaluate", evaluateStage.params, params) as unknown as EvaluateParams,
    outDir,
    inputs: fx.inputs,
    scratchDir,
    config: {},
    progress() {},
    log() {},
    signal: new AbortController().signal,
  };
}
