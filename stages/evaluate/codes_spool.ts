/**
 * Spools the sparse codes of every held-out token to two scratch files (latent indices u32, values f32)
 * while the main pass runs, keeping only the row offsets in memory (4 bytes per token). Afterwards,
 * `lookup` answers "activation of latent l at held-out row r" for many (r, l) requests by streaming the
 * files once in row chunks: what the example windows need, since their tokens are only known at the end.
 */
import { join } from "node:path";
import type { SparseCodes } from "./sparse_codes.ts";
import { ignoreMissing } from "../../pipeline/missing.ts";

export class CodesSpool {
  #idxFile: Deno.FsFile;
  #valFile: Deno.FsFile;
  #offsets: number[] | Uint32Array = [0];
  #rows = 0;
  #entries = 0;

  private constructor(readonly dir: string, idx: Deno.FsFile, val: Deno.FsFile) {
    this.#idxFile = idx;
    this.#valFile = val;
  }

  static async create(dir: string): Promise<CodesSpool> {
    await Deno.mkdir(dir, { recursive: true });
    const opts = { read: true, write: true, create: true, truncate: true };
    return new CodesSpool(
      dir,
      await Deno.open(join(dir, "codes-idx.bin"), opts),
      await Deno.open(join(dir, "codes-val.bin"), opts),
    );
  }

  get rows(): number {
    return this.#rows;
  }

  /** Append the codes of the next `codes.n` rows (rows are numbered in append order). */
  async append(codes: SparseCodes): Promise<void> {
    const a = codes.offsets[0], b = codes.offsets[codes.n];
    if (this.#offsets instanceof Uint32Array) throw new Error("codes spool: append after lookup");
    const offs = this.#offsets;
    for (let t = 1; t <= codes.n; t++) offs.push(this.#entries + codes.offsets[t] - a);
    if (this.#entries + (b - a) > 0xffffffff) throw new Error("codes spool: more than 2^32 sparse entries");
    const idx = codes.idx.subarray(a, b), val = codes.val.subarray(a, b);
    await writeAll(this.#idxFile, new Uint8Array(idx.buffer, idx.byteOffset, idx.byteLength));
    await writeAll(this.#valFile, new Uint8Array(val.buffer, val.byteOffset, val.byteLength));
    this.#entries += b - a;
    this.#rows += codes.n;
  }

  /**
   * For each request i (row `rows[i]`, latent `latents[i]`), the latent's activation at that row (0 when it
   * is not among the row's codes). Streams the spool in chunks of `chunkRows` rows: O(requests × k + entries).
   */
  async lookup(rows: Uint32Array, latents: Uint32Array, chunkRows = 65536): Promise<Float32Array> {
    const offsets = this.#offsetsArray();
    const out = new Float32Array(rows.length);
    const nChunks = Math.ceil(this.#rows / chunkRows);
    // Bucket the requests by chunk (counting sort) so each chunk is read once.
    const start = new Uint32Array(nChunks + 1);
    for (const r of rows) {
      if (r >= this.#rows) throw new Error(`codes spool: row ${r} out of range (${this.#rows} rows)`);
      start[Math.floor(r / chunkRows) + 1]++;
    }
    for (let c = 0; c < nChunks; c++) start[c + 1] += start[c];
    const order = new Uint32Array(rows.length), fill = start.slice(0, nChunks);
    for (let i = 0; i < rows.length; i++) order[fill[Math.floor(rows[i] / chunkRows)]++] = i;
    for (let c = 0; c < nChunks; c++) {
      if (start[c] === start[c + 1]) continue;
      const r0 = c * chunkRows, r1 = Math.min(this.#rows, r0 + chunkRows);
      const e0 = offsets[r0], e1 = offsets[r1];
      const idx = new Uint32Array(e1 - e0), val = new Float32Array(e1 - e0);
      await readAt(this.#idxFile, e0 * 4, new Uint8Array(idx.buffer));
      await readAt(this.#valFile, e0 * 4, new Uint8Array(val.buffer));
      for (let q = start[c]; q < start[c + 1]; q++) {
        const i = order[q], r = rows[i], l = latents[i];
        for (let e = offsets[r] - e0; e < offsets[r + 1] - e0; e++) {
          if (idx[e] === l) {
            out[i] = val[e];
            break;
          }
        }
      }
    }
    return out;
  }

  #offsetsArray(): Uint32Array {
    if (!(this.#offsets instanceof Uint32Array)) this.#offsets = Uint32Array.from(this.#offsets);
    return this.#offsets;
  }

  /** Close and delete the spool files. */
  async dispose(): Promise<void> {
    this.#idxFile.close();
    this.#valFile.close();
    await Deno.remove(join(this.dir, "codes-idx.bin")).catch(ignoreMissing);
    await Deno.remove(join(this.dir, "codes-val.bin")).catch(ignoreMissing);
  }
}

async function writeAll(f: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let p = 0;
  while (p < bytes.length) p += await f.write(bytes.subarray(p));
}

async function readAt(f: Deno.FsFile, pos: number, into: Uint8Array): Promise<void> {
  await f.seek(pos, Deno.SeekMode.Start);
  let p = 0;
  while (p < into.length) {
    const n = await f.read(into.subarray(p));
    if (n === null) throw new Error("codes spool: unexpected end of file");
    p += n;
  }
}
