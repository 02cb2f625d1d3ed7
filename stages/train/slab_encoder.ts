/**
 * The TopK family's encoder and selection over a slab plan (./slab_plan.ts), shared by the trainer and
 * evaluate's GPU runner: for each tile (batch chunk c × latent slab s)
 *   pre_tile = (x[c] − b_dec)·W_enc[s] + b_enc[s]   (GEMM into one reused tile: texture when it fits)
 *   each selection's TopK over the tile → `cap` candidates per row and slab,
 * then (more than one slab), after a chunk's last slab, kernels/select/slab_merge.ts picks each row's
 * top `cap` of its candidates.
 * `batch × d_sae` never exists; the selections end as (idx, val) entries, as the single-binding TopK
 * writes them. With one slab the tile TopK writes the entries directly.
 */
import { createEncoderGemm, type EncoderGemm } from "../../kernels/gemm/mod.ts";
import {
  type BoundKernel,
  createBuffer,
  createRowTexture,
  type RowTexture,
  rowTexturesAvailable,
} from "../../kernels/runtime/mod.ts";
import { createSlabMerge, createTopk } from "../../kernels/select/mod.ts";
import type { Range } from "./slab_plan.ts";

/** One selection over all latents: per row the top `k` (of dead latents with `aux`) into `cap` slots. */
export interface Selection {
  k: number;
  cap: number;
  /** First output entry in idx/val. */
  outBase: number;
  aux?: boolean;
  window?: number;
}

export interface SlabEncoderInput {
  slabs: Range[];
  chunks: Range[];
  D: number;
  /** [B, D] inputs; b_dec [D] is subtracted first when `subtract`. */
  x: GPUBuffer;
  b_dec: GPUBuffer;
  subtract: boolean;
  /** One [D, w] buffer per slab. */
  W_enc: GPUBuffer[];
  /** [S], all latents (each slab's part is copied to its own bias buffer per encode). */
  b_enc: GPUBuffer;
  since: GPUBuffer;
  state: GPUBuffer;
  idx: GPUBuffer;
  val: GPUBuffer;
  selections: Selection[];
}

export interface SlabEncoder {
  /** The step's kernels: bias copies, tiles (GEMM + TopKs), merges. */
  kernels: BoundKernel[];
  /** The same without the `aux` selections (a forward-only pass). */
  mainKernels: BoundKernel[];
  /** x − b_dec as the GEMM packed it (a [B, D] row texture), when one chunk holds the whole batch. */
  xcTexture?: RowTexture;
  destroy(): void;
}

export async function createSlabEncoder(device: GPUDevice, p: SlabEncoderInput): Promise<SlabEncoder> {
  const { slabs, chunks, D } = p;
  const owned: { destroy(): void }[] = [];
  const buf = (floats: number, label: string) => {
    const b = createBuffer(device, floats * 4, label);
    owned.push(b);
    return b;
  };
  const split = slabs.length > 1;
  const kernels: BoundKernel[] = [];
  const auxOnly = new Set<BoundKernel>();
  const push = (k: BoundKernel, aux = false) => {
    kernels.push(k);
    if (aux) auxOnly.add(k);
  };
  // Each slab's bias, copied from b_enc (the GEMM reads a bias from offset 0).
  const bias = split ? slabs.map((s, j) => buf(s.size, `b_enc slab ${j}`)) : [p.b_enc];
  if (split) {
    kernels.push({
      label: "b_enc slab copies",
      encode: (e) => slabs.forEach((s, j) => e.copyBufferToBuffer(p.b_enc, s.start * 4, bias[j], 0, s.size * 4)),
    });
  }
  // Candidate rows of one chunk per selection (slab-major: candidate order = latent order), merged
  // after the chunk's last slab, so they hold chunk rows × slabs × cap (./slab_plan.ts sizes chunks so).
  const maxRows = chunks[0].size;
  const cands = p.selections.map((sel, i) => {
    if (!split) return undefined;
    const n = maxRows * slabs.length * sel.cap;
    return { idx: buf(n, `cand idx ${i}`), val: buf(n, `cand val ${i}`) };
  });
  const xTile = chunks.length > 1 ? buf(maxRows * D, "x tile") : p.x;
  const texOk = rowTexturesAvailable(device, slabs[0].size) && rowTexturesAvailable(device, slabs.at(-1)!.size);
  // The buffer tile, only for shapes whose GEMM cannot write a texture tile.
  let preBuf: GPUBuffer | undefined;
  const preBuffer = () => preBuf ??= buf(maxRows * slabs[0].size, "pre tile");
  // GEMM instances and pre tiles per distinct tile shape (at most 4: ragged last chunk and slab).
  const shapes = new Map<string, { gemm: EncoderGemm; tex?: RowTexture; pre?: GPUBuffer }>();
  const shapeOf = (rows: number, w: number) => {
    const key = `${rows}x${w}`;
    let s = shapes.get(key);
    if (!s) {
      const dims = { M: rows, K: D, N: w };
      let tex: RowTexture | undefined = texOk ? createRowTexture(device, rows, w, `pre tile ${key}`) : undefined;
      let gemm: EncoderGemm | undefined;
      if (tex) {
        try {
          gemm = createEncoderGemm(device, dims, { subtractInput: p.subtract, outTexture: tex });
        } catch (e) {
          if (!(e instanceof Error && e.message.startsWith("gemm:"))) throw e;
          tex.destroy(); // the GEMM's texture path does not fit this shape (its one-line "gemm:" error): buffer output
          tex = undefined;
        }
      }
      gemm ??= createEncoderGemm(device, dims, { subtractInput: p.subtract });
      owned.push(gemm);
      if (tex) owned.push(tex);
      s = { gemm, tex, pre: tex ? undefined : preBuffer() };
      shapes.set(key, s);
    }
    return s;
  };
  let lastGemm: EncoderGemm | undefined;
  for (const c of chunks) {
    if (chunks.length > 1) {
      kernels.push({
        label: "x tile copy",
        encode: (e) => e.copyBufferToBuffer(p.x, c.start * D * 4, xTile, 0, c.size * D * 4),
      });
    }
    // AuxK tiles write only min(k, n_dead) slots (none when nothing is dead): the rest must read as 0.
    for (const [i, sel] of p.selections.entries()) {
      const cand = cands[i];
      if (sel.aux && cand) push({ label: "clear aux candidates", encode: (e) => e.clearBuffer(cand.val) }, true);
    }
    for (const [j, s] of slabs.entries()) {
      const { gemm, tex, pre } = shapeOf(c.size, s.size);
      lastGemm = gemm;
      kernels.push({
        label: "encoder gemm (tile)",
        encode: (e) => gemm.encode(e, { x: xTile, W: p.W_enc[j], bias: bias[j], sub: p.b_dec, out: pre }),
      });
      for (const [i, sel] of p.selections.entries()) {
        const stride = split ? slabs.length * sel.cap : sel.cap;
        const topk = await createTopk(device, {
          rows: c.size,
          S: s.size,
          k: Math.min(sel.k, s.size),
          cap: sel.cap,
          outBase: split ? j * sel.cap : sel.outBase + c.start * sel.cap,
          rowStride: stride,
          idxBase: s.start,
          sinceBase: s.start,
          aux: sel.aux,
          window: sel.window,
          path: tex ? "texture" : "buffer",
        });
        const out = cands[i] ?? { idx: p.idx, val: p.val };
        // (pre is not read on the texture path)
        push(
          topk({ pre: pre ?? p.x, since: p.since, state: p.state, idx: out.idx, val: out.val, preTex: tex }),
          sel.aux,
        );
      }
    }
    for (const [i, sel] of p.selections.entries()) {
      const cand = cands[i];
      if (!cand) continue;
      const merge = await createSlabMerge(device, {
        rows: c.size,
        candidates: slabs.length * sel.cap,
        cap: sel.cap,
        outBase: sel.outBase + c.start * sel.cap,
        aux: sel.aux,
      });
      push(merge({ candIdx: cand.idx, candVal: cand.val, idx: p.idx, val: p.val, state: p.state }), sel.aux);
    }
  }
  const xcTexture = chunks.length === 1 ? lastGemm?.packedA : undefined;
  const mainKernels = kernels.filter((k) => !auxOnly.has(k));
  return { kernels, mainKernels, xcTexture, destroy: () => owned.forEach((o) => o.destroy()) };
}
