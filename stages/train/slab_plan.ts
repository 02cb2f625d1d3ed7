/**
 * How a training step is split so that no buffer exceeds one storage binding: d_sae is cut into latent
 * slabs (each slab's W_enc columns [d_in × w], W_dec rows [w × d_in], their Adam moments and gradients
 * are separate buffers, each ≤ the binding limit), and the encoder runs tile by tile, one tile =
 * (a chunk of batch rows) × (one slab), into one reused pre-activation tile of at most one binding.
 * The TopK family never holds `batch × d_sae`: each tile's TopK writes `cap` candidates per row and
 * kernels/select/slab_merge.ts merges the slabs. The dense architectures (standard, jumprelu, gated) run
 * every GEMM tile by tile (./dense_tiles.ts) over the same slabs and chunks, a tile of `stack` latent rows
 * per batch row (gated: 2) within one binding; transcoders still need one slab and one chunk.
 *
 * Also the device-memory budget of a configuration (weights + Adam + gradients + scratch), checked
 * before anything is allocated: see `checkMemory`.
 */

/** A half-open range [start, start + size). */
export interface Range {
  start: number;
  size: number;
}

export interface SlabPlanInput {
  d_in: number;
  d_sae: number;
  batch: number;
  /** TopK output slots per row (k, or BatchTopK's candidates). */
  cap: number;
  /** AuxK slots per row (0 without AuxK or dense). */
  auxCap: number;
  /** TopK family. */
  sparse: boolean;
  /**
   * Dense architectures that split: latent rows per batch row in a tile (standard, jumprelu 1; gated 2,
   * its f and gate-path rows). Unset for a dense step that must stay one piece (transcoders).
   */
  denseStack?: number;
  /** W_enc / W_dec gradients streamed into Adam through one slab-sized pair (stages/train/optimizer_path.ts). */
  streamedGrads?: boolean;
  /** Test-only: plan as if maxStorageBufferBindingSize were this many bytes (forces the split paths). */
  bindingLimit?: number;
}

/** Bytes by kind (see `memoryBudget`). */
export interface MemoryBudget {
  weights: number;
  adam: number;
  grads: number;
  scratch: number;
  total: number;
}

export interface SlabPlan {
  /** The per-binding byte limit planned with. */
  bindingBytes: number;
  /** Latent ranges, in order; all but the last have the same width. */
  slabs: Range[];
  /** Batch-row ranges of the encoder tiles, in order. */
  chunks: Range[];
  /** Tokens per chunk of the latent-list (CSC) builder, so that its counts fit one binding. */
  cscChunk: number;
  memory: MemoryBudget;
}

const MiB = 2 ** 20;
export const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

/** Narrowest slab worth making before chunking the batch instead (more passes cost more than chunks). */
const MIN_SLAB = 256;

/** Split a config for a device with `maxStorageBufferBindingSize` `deviceBinding` bytes; one-line errors. */
export function planSlabs(c: SlabPlanInput, deviceBinding: number): SlabPlan {
  const { d_in: D, d_sae: S, batch: B } = c;
  const bindingBytes = Math.min(deviceBinding, c.bindingLimit ?? Infinity);
  const L = Math.floor(bindingBytes / 4); // f32 per binding
  const stack = c.sparse ? 1 : c.denseStack ?? 1;
  // dvec holds the main and the AuxK gradient rows; gated's x̂ and dvec its f and gate-path rows
  const rowsD = (c.auxCap > 0 ? 2 : stack) * B * D;
  if (rowsD > L) {
    const why = c.auxCap > 0 ? " × 2 with AuxK" : stack > 1 ? ` × ${stack} (gated)` : "";
    throw new Error(
      `train: batch_size × d_in (${B} × ${D}${why} f32 = ${mib(rowsD * 4)}) exceeds maxStorageBufferBindingSize (${
        mib(bindingBytes)
      }); lower batch_size`,
    );
  }
  const wMax = Math.floor(L / Math.max(D, stack)); // a slab's W_enc / W_dec (and one row of a dense tile)
  let w = Math.min(S, wMax);
  if (!c.sparse && !c.denseStack) {
    if (w < S || B * S > L) {
      throw new Error(
        `train: the transcoder step keeps batch_size × d_sae and d_in × d_sae (${B} × ${S}, ${D} × ${S} f32 = ${
          mib(Math.max(B, D) * S * 4)
        }) in one binding of ${mib(bindingBytes)}; lower batch_size or d_sae`,
      );
    }
    return {
      bindingBytes,
      slabs: [{ start: 0, size: S }],
      chunks: [{ start: 0, size: B }],
      cscChunk: 32,
      memory: memoryBudget(c, S, B),
    };
  }
  if (!c.sparse) {
    // Dense tiles: whole-batch tiles (fewer, larger GEMMs) while slabs stay reasonably wide.
    if (stack * B * w > L && Math.floor(L / (stack * B)) >= Math.min(S, MIN_SLAB)) w = Math.floor(L / (stack * B));
    const slabs = evenRanges(S, w, 4);
    const chunks = evenRanges(B, Math.floor(L / (stack * slabs[0].size)), 1);
    return {
      bindingBytes,
      slabs,
      chunks,
      cscChunk: 32,
      memory: memoryBudget(c, slabs[0].size, chunks[0].size, slabs.length),
    };
  }
  // Prefer whole-batch tiles (fewer, larger GEMMs) while slabs stay reasonably wide.
  if (B * w > L && Math.floor(L / B) >= Math.min(S, MIN_SLAB)) w = Math.floor(L / B);
  const slabs = evenRanges(S, w, 4);
  const width = slabs[0].size;
  // A chunk's rows hold one pre tile and (several slabs) slabs × cap merge candidates per selection.
  const perRow = slabs.length > 1 ? slabs.length * Math.max(c.cap, c.auxCap) : 0;
  if (perRow > L) {
    throw new Error(
      `train: the TopK merge keeps ${slabs.length} slabs × ${
        Math.max(c.cap, c.auxCap)
      } candidates per row, over one binding (${mib(bindingBytes)}); lower k or aux_k`,
    );
  }
  const chunkRows = Math.min(B, Math.floor(L / width), perRow ? Math.floor(L / perRow) : B);
  const chunks = evenRanges(B, chunkRows, 1);
  // csc.ts keeps one count per (chunk of tokens, latent).
  const perS = Math.floor(L / S);
  if (perS < 1) throw new Error(`train: d_sae ${S} exceeds one binding of latent counts (${mib(bindingBytes)})`);
  const cscChunk = Math.max(32, Math.ceil(B / perS));
  return { bindingBytes, slabs, chunks, cscChunk, memory: memoryBudget(c, width, chunks[0].size, slabs.length) };
}

/**
 * [0, n) cut into the fewest ranges of at most `most` (rounded down to a multiple of `align` when
 * that leaves one), all as wide as possible and equal but the last.
 */
export function evenRanges(n: number, most: number, align: number): Range[] {
  if (n <= most) return [{ start: 0, size: n }]; // fits whole: one range, however n aligns
  const cap = most >= align ? most - (most % align) : most;
  const parts = Math.ceil(n / cap);
  let size = Math.ceil(n / parts);
  if (size % align && size + align - (size % align) <= cap) size += align - (size % align);
  const out: Range[] = [];
  for (let start = 0; start < n; start += size) out.push({ start, size: Math.min(size, n - start) });
  return out;
}

/**
 * Device bytes a configuration allocates (f32 = 4 bytes):
 *   weights = W_enc + W_dec + b_enc + b_dec + log_threshold = 2·D·S + 2·S + D
 *   adam    = 2 × weights (first and second moments)
 *   grads   = 2·D·S + 2·S + D (streamed: 2·D·w, one slab's W_enc / W_dec, + 2·S + D)
 *   scratch = batch rows (x, x̂, ê, dvec ×2, xc: 6·B·D) + the W_dec row texture (w·D) + the encoder
 *             GEMM's packed operands (tile rows·D + D·w) + the pre tile (rows·w, buffer or texture) +
 *             sparse entries (4 per slot) and a chunk's slab candidates (2·slabs·rows·(cap + aux cap));
 *             dense (stack q: 1, gated 2): the pre, z, dz tiles ((1 + 2q)·rows·w), the packed operands
 *             of its five GEMMs (each instance packs its A and B, the decode two instances when split:
 *             2·rows·D + 2q·rows·D + 4·D·w + 3q·rows·w + rows·w), chunk copies of xc, x̂, dvec
 *             ((1 + 2q)·rows·D, several chunks) and per-latent vectors (8·S: norms, sums, slab copies,
 *             gated's packed vectors).
 */
export function memoryBudget(c: SlabPlanInput, width: number, tileRows: number, nSlabs = 1): MemoryBudget {
  const { d_in: D, d_sae: S, batch: B } = c;
  const weights = 4 * (2 * D * S + 2 * S + D);
  const grads = 4 * (2 * D * (c.sparse && c.streamedGrads ? width : S) + 2 * S + D);
  const entries = B * (c.cap + c.auxCap);
  const sparse = width * D + tileRows * D + D * width + 2 * tileRows * width + 4 * entries +
    (nSlabs > 1 ? 2 * nSlabs * tileRows * (c.cap + c.auxCap) : 0);
  const q = c.denseStack ?? 1;
  const r = tileRows, w = width;
  const packed = 2 * r * D + 2 * q * r * D + 4 * D * w + 3 * q * r * w + r * w;
  const dense = (1 + 2 * q) * r * w + packed + (r < B ? (1 + 2 * q) * r * D : 0) + 8 * S;
  const scratch = 4 * (6 * B * D + (c.sparse ? sparse : dense));
  return { weights, adam: 2 * weights, grads, scratch, total: 3 * weights + grads + scratch };
}

/**
 * Fail early, with what to lower, when the budget cannot fit: a CPU (fallback) adapter's memory is the
 * host's, so its available memory is the bound; on other adapters WebGPU does not say how much there
 * is, and an allocation failure is reported by the trainer with the same numbers.
 */
export function checkMemory(m: MemoryBudget, fallbackAdapter: boolean): void {
  if (!fallbackAdapter) return;
  const available = Deno.systemMemoryInfo().available;
  if (m.total > available) {
    throw new Error(
      `train: ${describeNeed(m)}, the device (host memory) has ${mib(available)} available; lower d_sae or batch_size`,
    );
  }
}

/** "needs N MiB (weights …, Adam …, gradients …, scratch …)". */
export function describeNeed(m: MemoryBudget): string {
  return `needs ${mib(m.total)} of device memory (weights ${mib(m.weights)}, Adam ${mib(m.adam)}, gradients ${
    mib(m.grads)
  }, scratch ${mib(m.scratch)})`;
}
