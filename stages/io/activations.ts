/**
 * Activation shards as the extract stage writes them (see stages/CONTRACTS.md): per split, files
 * `acts-NNNNN.bin` (f32 LE, [n, d_in]) and `rows-NNNNN.bin` (u32, the flat token index of each row).
 * The writer streams to disk with bounded memory (two shard buffers: one filling, one being written);
 * the reader yields one shard at a time.
 */
import { join } from "node:path";

export interface ShardInfo {
  acts: string;
  rows: string;
  n: number;
}

export interface SplitInfo {
  n_tokens: number;
  shards: ShardInfo[];
}

export interface ActivationMeta {
  model_name: string;
  hook_name: string;
  hook_layer: number;
  d_in: number;
  dtype: "float32";
  context_size: number;
  prepend_bos: boolean;
  dataset_path: string;
  mean_norm: number;
  splits: Record<string, SplitInfo>;
  [extra: string]: unknown;
}

const pad5 = (i: number) => String(i).padStart(5, "0");

/** Σ over `n` rows of ‖row‖₂ (four accumulators: this loop runs over every extracted value). */
function sumRowNorms(x: Float32Array, n: number, d: number): number {
  let total = 0;
  const d4 = d - (d % 4);
  for (let r = 0, o = 0; r < n; r++, o += d) {
    let a = 0, b = 0, c = 0, e = 0;
    for (let j = o; j < o + d4; j += 4) {
      const x0 = x[j], x1 = x[j + 1], x2 = x[j + 2], x3 = x[j + 3];
      a += x0 * x0;
      b += x1 * x1;
      c += x2 * x2;
      e += x3 * x3;
    }
    for (let j = o + d4; j < o + d; j++) a += x[j] * x[j];
    total += Math.sqrt(a + b + c + e);
  }
  return total;
}

/** Streams rows of one split into fixed-size shards under `<dir>/<split>/`. */
export class ShardWriter {
  #buf: Float32Array;
  #rows: Uint32Array;
  #fill = 0;
  #shards: ShardInfo[] = [];
  #total = 0;
  #normSum = 0;
  #spare: { buf: Float32Array; rows: Uint32Array } | null = null;
  #writing: Promise<void> = Promise.resolve();

  constructor(readonly dir: string, readonly split: string, readonly dIn: number, readonly shardRows = 65536) {
    Deno.mkdirSync(join(dir, split), { recursive: true });
    this.#buf = new Float32Array(shardRows * dIn);
    this.#rows = new Uint32Array(shardRows);
  }

  /** Append `rows.length` activation rows (`acts` holds rows.length × d_in values). */
  async append(acts: Float32Array, rows: Uint32Array): Promise<void> {
    if (acts.length !== rows.length * this.dIn) {
      throw new Error(`ShardWriter: ${acts.length} values for ${rows.length} rows of d_in ${this.dIn}`);
    }
    let i = 0;
    while (i < rows.length) {
      const take = Math.min(rows.length - i, this.shardRows - this.#fill);
      const src = acts.subarray(i * this.dIn, (i + take) * this.dIn);
      this.#buf.set(src, this.#fill * this.dIn);
      this.#rows.set(rows.subarray(i, i + take), this.#fill);
      this.#normSum += sumRowNorms(src, take, this.dIn);
      this.#fill += take;
      i += take;
      if (this.#fill === this.shardRows) await this.#flush();
    }
  }

  async #flush(): Promise<void> {
    if (this.#fill === 0) return;
    // One shard in flight: wait for the previous write, whose buffers then become the spare.
    await this.#writing;
    const k = this.#shards.length;
    const acts = `${this.split}/acts-${pad5(k)}.bin`;
    const rows = `${this.split}/rows-${pad5(k)}.bin`;
    const a = this.#buf.subarray(0, this.#fill * this.dIn);
    const r = this.#rows.subarray(0, this.#fill);
    // Not awaited: the write proceeds on Deno's I/O threads while the caller computes the next rows.
    this.#writing = Promise.all([
      Deno.writeFile(join(this.dir, acts), new Uint8Array(a.buffer, a.byteOffset, a.byteLength)),
      Deno.writeFile(join(this.dir, rows), new Uint8Array(r.buffer, r.byteOffset, r.byteLength)),
    ]).then(() => {});
    this.#writing.catch(() => {}); // surfaced by the next flush or finish(), not as an unhandled rejection
    const spare = this.#spare ?? { buf: new Float32Array(this.#buf.length), rows: new Uint32Array(this.#rows.length) };
    this.#spare = { buf: this.#buf, rows: this.#rows };
    this.#buf = spare.buf;
    this.#rows = spare.rows;
    this.#shards.push({ acts, rows, n: this.#fill });
    this.#total += this.#fill;
    this.#fill = 0;
  }

  /** Flush the last shard; returns the split's entry for meta.json and the mean row L2 norm. */
  async finish(): Promise<SplitInfo & { mean_norm: number }> {
    await this.#flush();
    await this.#writing;
    return { n_tokens: this.#total, shards: this.#shards, mean_norm: this.#total ? this.#normSum / this.#total : 0 };
  }
}

export async function readActivationMeta(dir: string): Promise<ActivationMeta> {
  return JSON.parse(await Deno.readTextFile(join(dir, "meta.json")));
}

function asF32(bytes: Uint8Array): Float32Array {
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** Read one shard: its activations and row indices. */
export async function readShard(dir: string, shard: ShardInfo, dIn: number) {
  const acts = asF32(await Deno.readFile(join(dir, shard.acts)));
  const rows = new Uint32Array((await Deno.readFile(join(dir, shard.rows))).buffer);
  if (acts.length !== shard.n * dIn || rows.length !== shard.n) {
    throw new Error(`activation shard ${shard.acts}: expected ${shard.n} rows of d_in ${dIn}`);
  }
  return { acts, rows, n: shard.n };
}

/** Yield the shards of a split in order, one at a time (bounded memory). */
export async function* iterateSplit(dir: string, split: string) {
  const meta = await readActivationMeta(dir);
  const info = meta.splits[split];
  if (!info) throw new Error(`activations have no "${split}" split (have: ${Object.keys(meta.splits).join(", ")})`);
  for (const shard of info.shards) yield await readShard(dir, shard, meta.d_in);
}
