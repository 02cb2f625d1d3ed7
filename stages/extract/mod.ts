/**
 * extract: run the model over the packed sequences with the hook tensor exposed as a graph output,
 * and stream its per-token rows (padding dropped) into f32 activation shards, split by sequence into
 * train and heldout (layout in stages/CONTRACTS.md). The graph is cut at the hook, so layers
 * after it cost nothing; shard files are written while the next batches are computed.
 */
import { join } from "node:path";
import { defineStage } from "../../pipeline/stage.ts";
import { jsonParam, ParamError, type ParamSchema, type ParamsOf } from "../../pipeline/params.ts";
import { readExternalData } from "../model/external_data.ts";
import { readModelIo } from "../model/model_io.ts";
import { findHook } from "./hook.ts";
import { HookOutput } from "./hook_outputs.ts";
import {
  checkExclude,
  checkSlice,
  type ExcludeSpec,
  gatherRows,
  keptPositions,
  type SliceSpec,
  type SpecialMeta,
  specialTokenIds,
  tokenFilter,
} from "./token_filter.ts";
import { mergeParts, PartOutput, partRange } from "./parts.ts";
import { BatchFeeds, createSession, runForOutputs } from "./session.ts";
import { isHeldout } from "./split.ts";
import { graphUpToHooks } from "./truncate.ts";
import { checkTargetHook, deriveTargetHook, TARGET_DIR, targetSiblings } from "./target_hook.ts";
import { ifMissing, ignoreMissing } from "../../pipeline/missing.ts";

/** The "extract" config section. */
const extractParams = {
  hook: { type: "string", default: "blocks.0.hook_resid_post", doc: "hook point (TransformerLens name)" },
  hooks: {
    type: "string[]",
    default: [],
    doc:
      "hooks to extract in one forward pass (include extract.hook), each stored as its own object; sweep extract.hook over them",
  },
  shards: {
    type: "int",
    default: 1,
    min: 1,
    doc:
      "run the forward pass as N parts over sequence ranges (N jobs with --jobs or --executor slurm), merged into the same bytes as one pass",
  },
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
  exclude_special_tokens: jsonParam<ExcludeSpec>({
    default: null,
    doc:
      "drop special-token rows (BOS/EOS/PAD...): null = on for causal LMs, off for encoders; true, false, or a list of token ids",
  }),
  seqpos_slice: jsonParam<SliceSpec>({
    default: null,
    doc: "[start, end] positions of each context kept (Python slice: null = open, negative = from the end); null = all",
  }),
} as const satisfies ParamSchema;

/** The section's params, plus `target_hook` derived from train.target_hook (./target_hook.ts). */
export type ExtractParams = ParamsOf<typeof extractParams> & { target_hook?: string };

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
  // every hook of `hooks` comes from the one forward pass, each into its own object: the one a run with that
  // hook (and the same `hooks`) writes, so a sweep over extract.hook runs the pass once
  // (a transcoder's paired run: the plain objects of its two hooks, ./target_hook.ts)
  siblings: (p) =>
    p.target_hook !== undefined
      ? targetSiblings(p)
      : p.hooks.filter((h) => h !== p.hook).map((hook) => ({ ...p, hook })),
  derive: deriveTargetHook,
  // the forward pass as `shards` parts over sequence ranges (jobs under --jobs/--executor slurm), merged into
  // exactly what one pass writes
  parts: (p) => p.shards,
  validate(p) {
    checkExclude(p.exclude_special_tokens);
    checkSlice(p.seqpos_slice);
    checkTargetHook(p);
    if (p.hooks.length > 0 && !p.hooks.includes(p.hook)) {
      throw new ParamError(`extract.hook "${p.hook}" is not in extract.hooks (${p.hooks.join(", ")}); add it there`);
    }
    if (p.shards > 1 && p.hooks.length > 1) {
      throw new ParamError(
        `extract.shards ${p.shards} with several extract.hooks is not supported: use one or the other`,
      );
    }
  },
  params: extractParams,
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
    const targets = [
      { hook: p.hook, outDir: ctx.outDir },
      ...(p.target_hook !== undefined ? [{ hook: p.target_hook, outDir: join(ctx.outDir, TARGET_DIR) }] : []),
      ...(ctx.siblings ?? []).map((x) => ({ ...x, hook: x.params.hook })),
    ].map((o) => ({ hook: findTarget(modelDir, modelBytes, o.hook, p.target_hook), outDir: o.outDir }));
    // the graph's outputs in one canonical order, whichever hook this run is for (same graph, same bytes)
    const graphTensors = [...new Set(targets.map((o) => o.hook.tensor))].sort();
    const tensors = targets.map((o) => o.hook.tensor);
    const runTensors = [...new Set(tensors)]; // a paired run's siblings repeat its two hooks
    const names = targets.map((o) => o.hook.name).join(", ");
    // a part (extract.shards) writes raw streams of its sequence range; the merge feeds them to the outputs
    const part = ctx.part ? new PartOutput(ctx.part.dir, targets[0].hook.dIn) : null;
    const outs = part ? [] : targets.map((o) => new HookOutput(o.hook, o.outDir, p.shard_tokens));
    const sinks = part ? [part] : outs;
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
    const [lo, hi] = ctx.parts ? [0, 0] : ctx.part ? partRange(nSeq, p.batch_size, ctx.part.index, ctx.part.count) : [
      0,
      nSeq,
    ];
    if (ctx.parts) await mergeParts(outs[0], ctx.parts, C);
    const session = await createSession(graphUpToHooks(modelBytes, graphTensors), {
      externalData: await readExternalData(modelDir),
    });
    const io = readModelIo(modelDir, modelBytes);
    const feeds = new BatchFeeds(p.batch_size, C, io);
    // the same token positions are kept for every hook (special tokens, seqpos_slice: token_filter.ts)
    const filter = tokenFilter(
      p.exclude_special_tokens,
      p.seqpos_slice,
      io.kind === "causal_lm",
      C,
      () => specialTokenIds(modelDir, meta),
    );
    const dims = part ? [targets[0].hook.dIn] : targets.map((o) => o.hook.dIn);
    const keptActs = dims.map((d) => new Float32Array(C * d));
    const keptPos = new Uint32Array(C);
    const rowIdx = new Uint32Array(C);
    // The mask covers only true padding; rows past max_tokens are dropped after the pass, so a
    // capped sequence's activations equal the uncapped ones.
    const start = (first: number) => {
      const run = runForOutputs(
        session,
        feeds.fill(tokens, first, Math.min(p.batch_size, hi - first), meta.n_tokens),
        runTensors,
      ).then((a) => tensors.map((t) => a[runTensors.indexOf(t)]));
      run.catch(() => {}); // awaited later; do not count as unhandled while a write is in flight
      return run;
    };

    let done = 0;
    let pending = hi > lo ? start(lo) : null;
    for (let first = lo; first < hi; first += p.batch_size) {
      if (ctx.signal.aborted) throw new Error("extract interrupted");
      const acts = await pending!;
      const n = Math.min(p.batch_size, hi - first);
      // Queue the next forward pass before handling this batch. onnxruntime-node keeps the JS thread
      // busy while it computes, so the real overlap is ShardWriter's file writes on Deno's I/O threads.
      pending = first + n < hi ? start(first + n) : null;
      targets.forEach(({ hook: { name, dIn: d } }, i) => {
        if (acts[i].length !== n * C * d) {
          throw new Error(`hook ${name}: got ${acts[i].length} values for ${n}x${C}x${d}`);
        }
      });
      for (let b = 0; b < n; b++) {
        const s = first + b;
        const real = Math.max(0, Math.min(C, total - s * C));
        const kept = keptPositions(filter, tokens, s, C, real, keptPos, rowIdx);
        const split = isHeldout(s, p.heldout_fraction) ? "heldout" : "train";
        for (const [i, o] of sinks.entries()) {
          gatherRows(acts[i], b * C, keptPos, kept, dims[i], keptActs[i]);
          await o.append(split, keptActs[i], 0, rowIdx.subarray(0, kept));
        }
        done += real;
      }
      ctx.progress(done, Math.min(total, hi * C) - lo * C, names);
    }
    part?.close();
    const run = {
      model_name: modelJson.model_name ?? "model",
      context_size: C,
      prepend_bos: meta.prepend_bos ?? false,
      dataset_path: meta.corpus ?? "",
      heldout_fraction: p.heldout_fraction,
      excluded_token_ids: [...filter.excluded],
      seqpos_slice: [filter.start, filter.end] as [number, number],
    };
    for (const o of outs) {
      const m = await o.finish(run);
      const n = m.splits.train.n_tokens, h = m.splits.heldout.n_tokens;
      ctx.log(`${n} train + ${h} heldout rows of ${o.hook.name} (d_in ${o.hook.dIn})`);
    }
    if (p.target_hook !== undefined) {
      // the paired object's meta.json says where its target is (the plain siblings' do not)
      const path = join(ctx.outDir, "meta.json");
      const own = JSON.parse(await Deno.readTextFile(path));
      await Deno.writeTextFile(path, JSON.stringify({ ...own, target_dir: TARGET_DIR }, null, 1));
    }
    await session.release();
  },
});

/** findHook, with an unknown train.target_hook named as that key. */
function findTarget(modelDir: string, modelBytes: Uint8Array, name: string, target?: string) {
  try {
    return findHook(modelDir, modelBytes, name);
  } catch (e) {
    if (name !== target) throw e;
    throw new ParamError(`config key "train.target_hook": ${(e as Error).message}`);
  }
}
