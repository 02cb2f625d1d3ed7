/**
 * A transcoder's training batches: x from the input hook's shards, y from the target hook's (extract's
 * `target/`, the same rows in the same order: ../extract/target_hook.ts). Each shard's rows are joined side by
 * side, [x·s_in | y·s_out], and go through BatchStream (./data.ts) as one row, so both get the same shuffle.
 */
import { join } from "node:path";
import { type ActivationMeta, readShard } from "../io/activations.ts";
import { BatchStream, firstRows } from "./data.ts";

/** The target side of a paired extract object. */
export interface TargetActs {
  dir: string;
  meta: ActivationMeta;
  /** s_out: the target's training-time scale. */
  scale: number;
}

export interface PairedBatch {
  x: Float32Array;
  y?: Float32Array;
}

/** x and (for a transcoder) y batches: `next()` as BatchStream's, split into the two hooks. */
export class PairedStream {
  readonly #stream: BatchStream;
  readonly #D: number;
  readonly #O: number;

  constructor(
    dir: string,
    meta: ActivationMeta,
    readonly target: TargetActs | null,
    split: string,
    batch: number,
    bufferRows: number,
    seed: number,
    scale: number,
  ) {
    this.#D = meta.d_in;
    this.#O = target?.meta.d_in ?? 0;
    if (!target) {
      this.#stream = new BatchStream(dir, meta, split, batch, bufferRows, seed, scale);
      return;
    }
    const D = this.#D, O = this.#O, W = D + O;
    const xs = meta.splits[split]?.shards ?? [], ys = target.meta.splits[split]?.shards ?? [];
    const read = async (i: number) => {
      const [a, b] = [await readShard(dir, xs[i], D), await readShard(target.dir, ys[i], O)];
      if (a.n !== b.n) throw new Error(`train: ${split} shard ${i} has ${a.n} input rows but ${b.n} target rows`);
      const acts = new Float32Array(a.n * W);
      for (let t = 0; t < a.n; t++) {
        for (let d = 0; d < D; d++) acts[t * W + d] = a.acts[t * D + d] * scale;
        for (let o = 0; o < O; o++) acts[t * W + D + o] = b.acts[t * O + o] * target.scale;
      }
      return { acts, n: a.n };
    };
    this.#stream = new BatchStream(dir, meta, split, batch, bufferRows, seed, 1, { width: W, read });
  }

  async next(): Promise<PairedBatch> {
    const rows = await this.#stream.next();
    if (!this.target) return { x: rows };
    const D = this.#D, O = this.#O, W = D + O, n = rows.length / W;
    const x = new Float32Array(n * D), y = new Float32Array(n * O);
    for (let t = 0; t < n; t++) {
      x.set(rows.subarray(t * W, t * W + D), t * D);
      y.set(rows.subarray(t * W + D, (t + 1) * W), t * O);
    }
    return { x, y };
  }
}

/** The first `n` rows of a split (firstRows, ./data.ts) of both hooks, each with its own scale. */
export async function firstPairedRows(
  dir: string,
  meta: ActivationMeta,
  target: TargetActs | null,
  split: string,
  n: number,
  scale: number,
): Promise<PairedBatch> {
  const x = await firstRows(dir, meta, split, n, scale);
  return target ? { x, y: await firstRows(target.dir, target.meta, split, n, target.scale) } : { x };
}

/** The target of a paired extract object (its meta.json's `target_dir`), checked against the input. */
export async function openTarget(dir: string, meta: ActivationMeta, targetHook: string): Promise<TargetActs> {
  const sub = meta.target_dir;
  if (typeof sub !== "string") {
    throw new Error(`train: train.target_hook is "${targetHook}" but the extract object has no target activations`);
  }
  const tdir = join(dir, sub);
  const tmeta: ActivationMeta = JSON.parse(await Deno.readTextFile(join(tdir, "meta.json")));
  if (tmeta.hook_name !== targetHook) {
    throw new Error(`train: the extract object's target is ${tmeta.hook_name}, train.target_hook is ${targetHook}`);
  }
  for (const split of Object.keys(meta.splits)) {
    if (tmeta.splits[split]?.n_tokens !== meta.splits[split].n_tokens) {
      throw new Error(`train: ${split} rows of ${meta.hook_name} and ${targetHook} differ; re-run extract`);
    }
  }
  return { dir: tdir, meta: tmeta, scale: 1 };
}
