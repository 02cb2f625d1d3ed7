/**
 * extract: run the model over the packed sequences with the hook tensor exposed as a graph output,
 * and stream its per-token rows (padding dropped) into f32 activation shards, split by sequence into
 * train and heldout (layout in stages/CONTRACTS.md). The graph is cut at the hook, so layers
 * after it cost nothing; shard files are written while the next batches are computed.
 */
import { join } from "node:path";
import { defineStage } from "../../pipeline/stage.ts";
import { ParamError } from "../../pipeline/params.ts";
import { type ActivationMeta, ShardWriter } from "../io/activations.ts";
import { readExternalData } from "../model/external_data.ts";
import { readModelIo } from "../model/model_io.ts";
import { findHook } from "./hook.ts";
import {
  checkExclude,
  checkSlice,
  type ExcludeSpec,
  keepRows,
  type SliceSpec,
  type SpecialMeta,
  specialTokenIds,
  tokenFilter,
} from "./token_filter.ts";
import { BatchFeeds, createSession, runForOutput } from "./session.ts";
import { isHeldout } from "./split.ts";
import { graphUpToHook } from "./truncate.ts";
import { ifMissing, ignoreMissing } from "../../pipeline/missing.ts";

export interface ExtractParams {
  hook: string;
  batch_size: number;
  heldout_fraction: number;
  max_tokens: number | null;
  shard_tokens: number;
  exclude_special_tokens: ExcludeSpec;
  seqpos_slice: SliceSpec;
}

interface TokensMeta extends SpecialMeta {
  n_seq: number;
  context_size: number;
  n_tokens: number;
  prepend_bos?: boolean;
  corpus?: string;
}

export const extractStage = defineStage<ExtractParams>({
  name: "extract",
  upstream: ["model", "pretokenize"],
  description: "run the model over the token sequences and store the hook's activations in f32 shards",
  module: import.meta.url,
  packages: ["onnxruntime-node", "onnx-proto"],
  unit: "tokens",
  params: {
    hook: { type: "string", default: "blocks.0.hook_resid_post", doc: "hook point (TransformerLens name)" },
    batch_size: { type: "int", default: 32, min: 1, doc: "sequences per forward pass" },
    heldout_fraction: {
      type: "number",
      default: 0.1,
      min: 0,
      max: 0.9,
      doc: "fraction of sequences held out for evaluation (evenly spaced, deterministic)",
    },
    max_tokens: { type: "int", default: null, nullable: true, min: 1, doc: "cap on extracted tokens (null = all)" },
    shard_tokens: { type: "int", default: 65536, min: 1, doc: "activation rows per shard file" },
    exclude_special_tokens: {
      type: "json",
      default: null,
      doc:
        "drop special-token rows (BOS/EOS/PAD...): null = on for causal LMs, off for encoders; true, false, or a list of token ids",
    },
    seqpos_slice: {
      type: "json",
      default: null,
      doc:
        "[start, end] positions of each context kept (Python slice: null = open, negative = from the end); null = all",
    },
  },
  validate(p) {
    checkExclude(p.exclude_special_tokens);
    checkSlice(p.seqpos_slice);
  },
  async run(ctx) {
    const p = ctx.params;
    const modelDir = ctx.inputs.model, tokDir = ctx.inputs.pretokenize;
    const onnxPath = join(modelDir, "onnx", "model.onnx");
    let modelBytes: Uint8Array;
    try {
      modelBytes = await Deno.readFile(onnxPath);
    } catch (e) {
      ignoreMissing(e);
      throw new Error(`model directory ${modelDir} has no onnx/model.onnx: re-run the model stage`);
    }
    const modelJson = JSON.parse(await ifMissing(Deno.readTextFile(join(modelDir, "model.json")), "{}"));
    const hook = findHook(modelDir, modelBytes, p.hook);
    const meta: TokensMeta = JSON.parse(await Deno.readTextFile(join(tokDir, "meta.json")));
    const C = meta.context_size;
    if (typeof modelJson.max_positions === "number" && C > modelJson.max_positions) {
      throw new ParamError(
        `pretokenize.context_size ${C} is above the model's max positions ${modelJson.max_positions}; lower it`,
      );
    }
    const tokBytes = await Deno.readFile(join(tokDir, "tokens.bin"));
    const tokens = new Uint32Array(tokBytes.buffer, tokBytes.byteOffset, tokBytes.byteLength / 4);
    if (tokens.length !== meta.n_seq * C) {
      throw new Error(`tokens.bin holds ${tokens.length} tokens, meta.json says ${meta.n_seq} x ${C}`);
    }

    // Only the sequences needed for max_tokens real tokens (padding is the tail after n_tokens).
    const total = Math.min(meta.n_tokens, p.max_tokens ?? Infinity);
    const nSeq = Math.ceil(total / C);
    const session = await createSession(graphUpToHook(modelBytes, hook.tensor), {
      externalData: await readExternalData(modelDir),
    });
    const d = hook.dIn;
    const writers = {
      train: new ShardWriter(ctx.outDir, "train", d, p.shard_tokens),
      heldout: new ShardWriter(ctx.outDir, "heldout", d, p.shard_tokens),
    };
    const io = readModelIo(modelDir, modelBytes);
    const feeds = new BatchFeeds(p.batch_size, C, io);
    const filter = tokenFilter(
      p.exclude_special_tokens,
      p.seqpos_slice,
      io.kind === "causal_lm",
      C,
      () => specialTokenIds(modelDir, meta),
    );
    const keptActs = new Float32Array(C * d);
    const rowIdx = new Uint32Array(C);
    // The mask covers only true padding; rows past max_tokens are dropped after the pass, so a
    // capped sequence's activations equal the uncapped ones.
    const start = (first: number) => {
      const run = runForOutput(
        session,
        feeds.fill(tokens, first, Math.min(p.batch_size, nSeq - first), meta.n_tokens),
        hook.tensor,
      );
      run.catch(() => {}); // awaited later; do not count as unhandled while a write is in flight
      return run;
    };

    let done = 0;
    let pending = nSeq > 0 ? start(0) : null;
    for (let first = 0; first < nSeq; first += p.batch_size) {
      if (ctx.signal.aborted) throw new Error("extract interrupted");
      const acts = await pending!;
      const n = Math.min(p.batch_size, nSeq - first);
      // Queue the next forward pass before handling this batch. onnxruntime-node keeps the JS thread
      // busy while it computes, so the real overlap is ShardWriter's file writes on Deno's I/O threads.
      pending = first + n < nSeq ? start(first + n) : null;
      if (acts.length !== n * C * d) throw new Error(`hook ${hook.name}: got ${acts.length} values for ${n}x${C}x${d}`);
      for (let b = 0; b < n; b++) {
        const s = first + b;
        const real = Math.max(0, Math.min(C, total - s * C));
        const seqActs = acts.subarray(b * C * d, (b + 1) * C * d);
        const kept = keepRows(filter, tokens, s, C, real, d, seqActs, keptActs, rowIdx);
        const w = isHeldout(s, p.heldout_fraction) ? writers.heldout : writers.train;
        await w.append(keptActs.subarray(0, kept * d), rowIdx.subarray(0, kept));
        done += real;
      }
      ctx.progress(done, total, hook.name);
    }
    const train = await writers.train.finish();
    const heldout = await writers.heldout.finish();
    await session.release();

    const out: ActivationMeta = {
      model_name: modelJson.model_name ?? "model",
      hook_name: hook.name,
      hook_layer: hook.layer,
      d_in: d,
      dtype: "float32",
      context_size: C,
      prepend_bos: meta.prepend_bos ?? false,
      dataset_path: meta.corpus ?? "",
      mean_norm: train.mean_norm,
      splits: {
        train: { n_tokens: train.n_tokens, shards: train.shards },
        heldout: { n_tokens: heldout.n_tokens, shards: heldout.shards },
      },
      n_tokens: train.n_tokens + heldout.n_tokens,
      hook_tensor: hook.tensor,
      heldout_fraction: p.heldout_fraction,
      heldout_mean_norm: heldout.mean_norm,
      excluded_token_ids: [...filter.excluded],
      seqpos_slice: [filter.start, filter.end],
    };
    await Deno.writeTextFile(join(ctx.outDir, "meta.json"), JSON.stringify(out, null, 1));
    ctx.log(`${train.n_tokens} train + ${heldout.n_tokens} heldout rows of ${hook.name} (d_in ${d})`);
  },
});
