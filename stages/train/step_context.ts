/**
 * The interface between GpuTrainer (./trainer.ts) and an architecture module that builds its training
 * step (e.g. ./arch_gated.ts): the trainer owns the parameters, Adam moments, the input batch, the
 * hyper/state slots (kernels/runtime/slots.ts) and the shared optimizer tail; the module allocates its
 * intermediates with `buf` and returns the kernels of a step and of a forward-only (validation) pass.
 */
import type { BoundKernel } from "../../kernels/runtime/mod.ts";
import type { Gemm, GemmBuffers } from "../../kernels/gemm/mod.ts";
import type { ParamName, TrainerConfig } from "./trainer.ts";

export type Grads = Partial<Record<ParamName, GPUBuffer>>;

export interface StepContext {
  device: GPUDevice;
  cfg: TrainerConfig;
  params: Record<ParamName, GPUBuffer>;
  /** The batch [batch, d_in]. */
  x: GPUBuffer;
  /** A transcoder's target [batch, d_out] (1 float otherwise). */
  y: GPUBuffer;
  hyper: GPUBuffer;
  /** Dead-latent clocks [d_sae] (u32 tokens since the last firing). */
  since: GPUBuffer;
  state: GPUBuffer;
  /** A trainer-owned buffer of n floats (destroyed with the trainer). */
  buf(n: number, label: string): GPUBuffer;
  /** xc = x − b_dec into `xc` and pre = xc·W_enc + b_enc into `pre`. */
  encoder(pre: GPUBuffer, xc: GPUBuffer): Promise<{ center: BoundKernel; encoder: BoundKernel }>;
  /**
   * Clip, Adam on every parameter in `grads`, decoder renormalisation and the metrics pass reading
   * rowstats [batch, 8] (slots in kernels/loss/metrics.wgsl); `val` is the forward-only metrics pass,
   * `project` the decoder-gradient projection to run before `out` (when the Adam kernel does not fuse it).
   */
  optimizer(
    grads: Grads,
    rowstats: GPUBuffer,
    o: { penalty: boolean; gateAux?: boolean },
  ): Promise<{ out: BoundKernel[]; project?: BoundKernel; val: BoundKernel }>;
}

/** The kernels of a training step and of a forward-only pass, and the gradient buffers (for tests). */
export interface BuiltStep {
  steps: BoundKernel[];
  forward: BoundKernel[];
  grads: Grads;
}

/** A GEMM (kernels/gemm) bound to fixed buffers as one step kernel. */
export function gemmKernel(g: Gemm, b: GemmBuffers, label: string): BoundKernel {
  return { label, encode: (e) => g.encode(e, b) };
}
