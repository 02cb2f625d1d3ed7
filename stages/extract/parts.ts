/**
 * `extract.shards N`: the forward pass as N parts over sequence ranges, each written as raw per-split streams
 * (`<split>.acts.bin` f32 [n, d_in], `<split>.rows.bin` u32 flat token index, rows in sequence order), then
 * merged by feeding every sequence's rows, in order, through the same shard writer a single pass uses, so the
 * output (shard files, mean norms, meta.json) is byte-identical to it. Part boundaries are multiples of
 * `batch_size`, so every forward batch holds the same sequences as in a single pass.
 */
import { join } from "node:path";
import type { HookOutput } from "./hook_outputs.ts";

const SPLITS = ["train", "heldout"] as const;

/** Sequences [lo, hi) of part `index` of `count` over `nSeq` sequences, cut at multiples of `batch`. */
export function partRange(nSeq: number, batch: number, index: number, count: number): [number, number] {
  const batches = Math.ceil(nSeq / batch);
  const cut = (i: number) => Math.min(nSeq, Math.floor((i * batches) / count) * batch);
  return [cut(index), cut(index + 1)];
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
}

async function readExactly(file: Deno.FsFile, buf: Uint8Array): Promise<void> {
  for (let off = 0; off < buf.length;) {
    const n = await file.read(buf.subarray(off));
    if (n === null) throw new Error("extract part: activation stream ends early");
    off += n;
  }
}

/** A part's output: the same `append` as HookOutput, into raw per-split streams. */
export class PartOutput {
  #files = new Map<string, { acts: Deno.FsFile; rows: Deno.FsFile }>();
  constructor(readonly dir: string, readonly dIn: number) {}

  async append(split: "train" | "heldout", acts: Float32Array, from: number, rows: Uint32Array): Promise<void> {
    let f = this.#files.get(split);
    if (!f) {
      const open = (name: string) => Deno.open(join(this.dir, name), { write: true, create: true, truncate: true });
      f = { acts: await open(`${split}.acts.bin`), rows: await open(`${split}.rows.bin`) };
      this.#files.set(split, f);
    }
    const a = acts.subarray(from * this.dIn, (from + rows.length) * this.dIn);
    await writeAll(f.acts, new Uint8Array(a.buffer, a.byteOffset, a.byteLength));
    await writeAll(f.rows, new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength));
  }

  close(): void {
    for (const f of this.#files.values()) f.acts.close(), f.rows.close();
  }
}

/** Feed the parts' rows into `out`, one sequence at a time and in order, as the single pass appends them. */
export async function mergeParts(out: HookOutput, partDirs: string[], contextSize: number): Promise<void> {
  const d = out.hook.dIn;
  for (const split of SPLITS) {
    for (const dir of partDirs) {
      let rows: Uint32Array;
      try {
        const bytes = await Deno.readFile(join(dir, `${split}.rows.bin`));
        rows = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
      } catch (e) {
        if (e instanceof Deno.errors.NotFound) continue; // this part has no rows of the split
        throw e;
      }
      const file = await Deno.open(join(dir, `${split}.acts.bin`), { read: true });
      try {
        for (let i = 0; i < rows.length;) {
          const seq = Math.floor(rows[i] / contextSize);
          let j = i + 1;
          while (j < rows.length && Math.floor(rows[j] / contextSize) === seq) j++;
          const acts = new Float32Array((j - i) * d);
          await readExactly(file, new Uint8Array(acts.buffer));
          await out.append(split, acts, 0, rows.subarray(i, j));
          i = j;
        }
      } finally {
        file.close();
      }
    }
  }
}
