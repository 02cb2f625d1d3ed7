/**
 * A TopK skip transcoder's linear path (sparsify's `skip_connection`, SAELens's SkipTranscoder), as two GEMMs
 * around the sparse step of ./sparse_path.ts:
 *   forward  ŷ += x·W_skip            (W_skip [d_in, d_out] on the device; saved transposed)
 *   backward gW_skip = xᵀ·dvec         (dvec's first B rows: the reconstruction gradient, AuxK does not reach it)
 * ŷ includes the skip path before the loss, so AuxK's residual y − ŷ does too (sparsify: e = y − sae_out).
 */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import { gemmKernel, type StepContext } from "./step_context.ts";

export function skipKernels(
  c: StepContext,
  yhat: GPUBuffer,
  dvec: GPUBuffer,
  gW_skip: GPUBuffer,
): { forward: BoundKernel; grad: BoundKernel } {
  const { batch: B, d_in: D } = c.cfg;
  const O = c.cfg.d_out!;
  const W_skip = c.store.params.W_skip[0];
  return {
    forward: gemmKernel(c, { M: B, K: D, N: O, accumulate: true }, { a: c.x, b: W_skip, out: yhat }, "skip"),
    grad: gemmKernel(c, { M: D, K: B, N: O, transA: true }, { a: c.x, b: dvec, out: gW_skip }, "gW_skip"),
  };
}
