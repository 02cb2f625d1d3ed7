/**
 * One hook's output of an extract run: its train/heldout shard writers and its `meta.json`. A run over
 * several hooks (`extract.hooks`) has one per hook, each in its own output directory (its own store object),
 * fed from the same forward pass; a single-hook run has one, and writes exactly what it always did.
 */
import { join } from "node:path";
import { type ActivationMeta, ShardWriter } from "../io/activations.ts";
import type { ResolvedHook } from "./hook.ts";

/** The meta.json fields every hook of one run shares. */
export interface RunMeta {
  model_name: string;
  context_size: number;
  prepend_bos: boolean;
  dataset_path: string;
  heldout_fraction: number;
  /** Token ids whose rows were dropped (extract.exclude_special_tokens). */
  excluded_token_ids: number[];
  /** The [start, end) positions of each context that were kept (extract.seqpos_slice, resolved). */
  seqpos_slice: [number, number];
}

export class HookOutput {
  readonly writers: { train: ShardWriter; heldout: ShardWriter };

  constructor(readonly hook: ResolvedHook, readonly outDir: string, shardTokens: number) {
    this.writers = {
      train: new ShardWriter(outDir, "train", hook.dIn, shardTokens),
      heldout: new ShardWriter(outDir, "heldout", hook.dIn, shardTokens),
    };
  }

  /** Append rows `[from, from + rows.length)` of a batch's hook output (flat [n, C, d_in]). */
  append(split: "train" | "heldout", acts: Float32Array, from: number, rows: Uint32Array): Promise<void> {
    const d = this.hook.dIn;
    return this.writers[split].append(acts.subarray(from * d, (from + rows.length) * d), rows);
  }

  /** Flush the shards and write meta.json (layout in stages/CONTRACTS.md). */
  async finish(run: RunMeta): Promise<ActivationMeta> {
    const train = await this.writers.train.finish();
    const heldout = await this.writers.heldout.finish();
    const out: ActivationMeta = {
      model_name: run.model_name,
      hook_name: this.hook.name,
      hook_layer: this.hook.layer,
      d_in: this.hook.dIn,
      dtype: "float32",
      context_size: run.context_size,
      prepend_bos: run.prepend_bos,
      dataset_path: run.dataset_path,
      mean_norm: train.mean_norm,
      splits: {
        train: { n_tokens: train.n_tokens, shards: train.shards },
        heldout: { n_tokens: heldout.n_tokens, shards: heldout.shards },
      },
      n_tokens: train.n_tokens + heldout.n_tokens,
      hook_tensor: this.hook.tensor,
      heldout_fraction: run.heldout_fraction,
      heldout_mean_norm: heldout.mean_norm,
      excluded_token_ids: run.excluded_token_ids,
      seqpos_slice: run.seqpos_slice,
    };
    await Deno.writeTextFile(join(this.outDir, "meta.json"), JSON.stringify(out, null, 1));
    return out;
  }
}
