/**
 * The merge of per-slab TopK candidates (stages/train/slab_plan.ts): when d_sae is split into slabs,
 * each slab's TopK (./topk.ts with `rowStride`, `idxBase`) writes its own top `cap` per row into a
 * candidate row [slabs × cap] (slab-major, so candidate order = latent order). The row's top `cap` over
 * all latents is the top `cap` of those candidates: a TopK over the candidate values (val = ReLU(pre),
 * 0 for INVALID or unwritten slots) then maps each chosen position back to its latent (gather_idx.wgsl).
 * Ties keep the lower latent index, as the single-slab TopK does. The main form writes every slot
 * (INVALID beyond the positives). The `aux` form takes min(cap, state.n_dead) (nothing and no work when
 * no latent is dead) and writes only those slots, as the single-slab AuxK TopK does, so AuxK consumers
 * keep their `auxBound` slot range.
 */
import { createBuffer } from "../runtime/device.ts";
import { type BoundKernel, compileKernel, groupsFor } from "../runtime/kernel.ts";
import { createTopk } from "./topk.ts";

const URL_ = new URL("./gather_idx.wgsl", import.meta.url);

export interface SlabMergeDims {
  rows: number;
  /** Candidate slots per row (slabs × cap). */
  candidates: number;
  /** Entries chosen per row. */
  cap: number;
  /** First output entry. */
  outBase?: number;
  /** AuxK: select min(cap, n_dead) (the candidates are dead latents already). */
  aux?: boolean;
}

export interface SlabMergeBuffers {
  candIdx: GPUBuffer;
  candVal: GPUBuffer;
  idx: GPUBuffer;
  val: GPUBuffer;
  /** GPU state slots (n_dead for the aux form). */
  state: GPUBuffer;
}

export async function createSlabMerge(device: GPUDevice, d: SlabMergeDims) {
  const outBase = d.outBase ?? 0;
  const k = Math.min(d.cap, d.candidates);
  // AuxK: AUX mode with window 0 takes every candidate and bounds the selection by n_dead.
  const aux = d.aux ? { aux: true, window: 0 } : {};
  const select = await createTopk(device, { rows: d.rows, S: d.candidates, k, cap: d.cap, outBase, ...aux });
  const anyCandidate = createBuffer(device, d.candidates * 4, "slab merge since (unused: window 0)");
  const gather = await compileKernel(device, URL_, "main", {
    ROWS: d.rows,
    CAP: d.cap,
    C: d.candidates,
    OUT_BASE: outBase,
    AUX_BOUND: !!d.aux,
  });
  return (b: SlabMergeBuffers): BoundKernel => {
    const sel = select({ pre: b.candVal, since: anyCandidate, state: b.state, idx: b.idx, val: b.val });
    const g = gather.bind({ cand_idx: b.candIdx, idx: b.idx, state: b.state }, groupsFor(d.rows * d.cap, 64));
    return {
      label: "slab merge",
      encode(enc) {
        sel.encode(enc);
        g.encode(enc);
      },
    };
  };
}
