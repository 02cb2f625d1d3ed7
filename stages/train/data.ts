/**
 * Training batches from the extract stage's shards: an endless stream over epochs (shard order
 * reshuffled per epoch) through a seeded mixing buffer of bounded size (SAELens-style: fill the
 * buffer, shuffle it, hand out half, keep half). The order depends only on (seed, position), so a
 * resumed run replays it by skipping batches. Rows are multiplied by `scale` (activation scaling).
 * Memory: one shard + `bufferRows` rows + one ready half. A `source` replaces the shard reader (a
 * transcoder's paired rows, ./paired_stream.ts: each row is x and y side by side, so both shuffle alike).
 */
import { type ActivationMeta, readShard } from "../io/activations.ts";

/** Rows of width `width` per shard index of the split (instead of the shard files of `meta.d_in`). */
export interface RowSource {
  width: number;
  read(shard: number): Promise<{ acts: Float32Array; n: number }>;
}
import { Rng } from "./rng.ts";

export class BatchStream {
  readonly dIn: number;
  #buf: Float32Array;
  #fill = 0;
  #ready = new Float32Array(0);
  #readyRows = 0;
  #readyPos = 0;
  #shard: Float32Array | null = null;
  #shardRows = 0;
  #shardPos = 0;
  #order: number[] = [];
  #orderPos = 0;
  #epoch = 0;
  #rng: Rng;

  constructor(
    readonly dir: string,
    readonly meta: ActivationMeta,
    readonly split: string,
    readonly batch: number,
    readonly bufferRows: number,
    readonly seed: number,
    readonly scale = 1,
    readonly source?: RowSource,
  ) {
    const info = meta.splits[split];
    if (!info || info.n_tokens === 0) throw new Error(`train: activations have no rows in split "${split}"`);
    this.dIn = source?.width ?? meta.d_in;
    this.bufferRows = Math.max(bufferRows, 2 * batch);
    this.#buf = new Float32Array(this.bufferRows * this.dIn);
    this.#rng = new Rng(seed, 1);
  }

  /** Next row source: the current shard, else the next shard of the (per-epoch shuffled) order. */
  async #nextShard(): Promise<void> {
    const shards = this.meta.splits[this.split].shards;
    if (this.#orderPos >= this.#order.length) {
      this.#order = new Rng(this.seed, 1000 + this.#epoch++).shuffle(shards.map((_, i) => i));
      this.#orderPos = 0;
    }
    const i = this.#order[this.#orderPos++];
    const s = this.source ? await this.source.read(i) : await readShard(this.dir, shards[i], this.dIn);
    this.#shard = s.acts;
    this.#shardRows = s.n;
    this.#shardPos = 0;
  }

  async #refill(): Promise<void> {
    const D = this.dIn;
    while (this.#fill < this.bufferRows) {
      if (!this.#shard || this.#shardPos >= this.#shardRows) await this.#nextShard();
      const take = Math.min(this.bufferRows - this.#fill, this.#shardRows - this.#shardPos);
      this.#buf.set(this.#shard!.subarray(this.#shardPos * D, (this.#shardPos + take) * D), this.#fill * D);
      this.#fill += take;
      this.#shardPos += take;
    }
    const perm = this.#rng.shuffle(Uint32Array.from({ length: this.#fill }, (_, i) => i));
    const half = Math.max(1, Math.floor(this.#fill / 2));
    if (this.#ready.length !== half * D) this.#ready = new Float32Array(half * D);
    for (let j = 0; j < half; j++) this.#ready.set(this.#buf.subarray(perm[j] * D, perm[j] * D + D), j * D);
    // Compact the kept rows into [0, fill − half): movers from the tail fill the freed low slots.
    const keep = this.#fill - half;
    const free = Array.from(perm.subarray(0, half)).filter((i) => i < keep).sort((a, b) => a - b);
    const movers = Array.from(perm.subarray(half)).filter((i) => i >= keep).sort((a, b) => a - b);
    for (let j = 0; j < free.length; j++) this.#buf.copyWithin(free[j] * D, movers[j] * D, movers[j] * D + D);
    this.#fill = keep;
    this.#readyRows = half;
    this.#readyPos = 0;
  }

  /** The next batch [batch, d_in] (scaled). */
  async next(): Promise<Float32Array> {
    const D = this.dIn;
    const out = new Float32Array(this.batch * D);
    let got = 0;
    while (got < this.batch) {
      if (this.#readyPos >= this.#readyRows) await this.#refill();
      const take = Math.min(this.batch - got, this.#readyRows - this.#readyPos);
      out.set(this.#ready.subarray(this.#readyPos * D, (this.#readyPos + take) * D), got * D);
      this.#readyPos += take;
      got += take;
    }
    if (this.scale !== 1) { for (let j = 0; j < out.length; j++) out[j] *= this.scale; }
    return out;
  }
}

/** The first `n` rows of a split in file order (for b_dec init and validation), scaled. */
export async function firstRows(dir: string, meta: ActivationMeta, split: string, n: number, scale = 1) {
  const info = meta.splits[split];
  if (!info) return new Float32Array(0);
  const take = Math.min(n, info.n_tokens);
  const out = new Float32Array(take * meta.d_in);
  let got = 0;
  for (const sh of info.shards) {
    if (got >= take) break;
    const s = await readShard(dir, sh, meta.d_in);
    const m = Math.min(take - got, s.n);
    out.set(s.acts.subarray(0, m * meta.d_in), got * meta.d_in);
    got += m;
  }
  if (scale !== 1) { for (let j = 0; j < out.length; j++) out[j] *= scale; }
  return out;
}
