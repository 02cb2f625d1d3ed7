/**
 * Tied weights over a slab plan (./slab_plan.ts): slab j of W_enc ([d_in, w_j], its columns) is the
 * transpose of slab j of W_dec ([w_j, d_in], its rows), so each slab ties on its own with
 * kernels/optim/tie.wgsl at width w_j: gW_dec[j] += gW_enc[j]ᵀ before the optimizer, W_enc[j] = W_dec[j]ᵀ
 * after it (and after resampling). One slab is the whole-matrix tie.
 */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { createTie } from "../../kernels/optim/mod.ts";
import type { GradParts } from "./param_store.ts";
import type { StepContext } from "./step_context.ts";

export interface TieKernels {
  /** gW_dec += gW_encᵀ, every slab. */
  addTransposed: BoundKernel;
  /** W_enc = W_decᵀ, every slab. */
  transpose: BoundKernel;
}

export async function tieKernels(c: Pick<StepContext, "device" | "cfg" | "plan" | "store">, grads: GradParts) {
  const P = c.store.params;
  const parts = await Promise.all(
    c.plan.slabs.map(async (s, j) =>
      (await createTie(c.device, { D: c.cfg.d_in, S: s.size }))({
        gW_enc: grads.W_enc![j],
        gW_dec: grads.W_dec![j],
        W_dec: P.W_dec[j],
        W_enc: P.W_enc[j],
      })
    ),
  );
  const all = (label: string, pick: (t: (typeof parts)[number]) => BoundKernel): BoundKernel => ({
    label,
    encode: (e) => parts.forEach((t) => pick(t).encode(e)),
  });
  return {
    addTransposed: all("tie: gW_dec += gW_encᵀ", (t) => t.addTransposed),
    transpose: all("tie: W_enc = W_decᵀ", (t) => t.transpose),
  } satisfies TieKernels;
}
