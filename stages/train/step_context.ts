/**
 * What the step builders (./sparse_path.ts, ./dense_path.ts, ./arch_gated.ts, ./arch_transcoder.ts,
 * ./optimizer_path.ts) share with the trainer: it owns the parameters and Adam moments (./param_store.ts),
 * the input batch, the hyper/state slots (kernels/runtime/slots.ts); a builder allocates its intermediates
 * with `buf` and returns the kernels of a step and of a forward-only (validation) pass.
 */
import type { BoundKernel, RowTexture } from "../../kernels/runtime/mod.ts";
import { createGemm, type GemmBuffers } from "../../kernels/gemm/mod.ts";
import type { GradParts, ParamStore } from "./param_store.ts";
import type { SlabPlan } from "./slab_plan.ts";
import type { TrainerConfig } from "./trainer_types.ts";

export interface StepContext {
  device: GPUDevice;
  cfg: TrainerConfig;
  plan: SlabPlan;
  store: ParamStore;
  /** Batch [B, D], hyper-parameters, GPU state slots, dead-latent clocks [S], the two metric outputs. */
  x: GPUBuffer;
  /** A transcoder's target [batch, d_out] (1 float otherwise). */
  y: GPUBuffer;
  hyper: GPUBuffer;
  state: GPUBuffer;
  since: GPUBuffer;
  metrics: GPUBuffer;
  valMetrics: GPUBuffer;
  /** A tracked buffer of `floats` f32 (freed with the trainer). */
  buf(floats: number, label: string): GPUBuffer;
  /** A tracked row texture mirroring `src` and the kernel that refreshes it. */
  tex(rows: number, cols: number, label: string, src: GPUBuffer): { texture: RowTexture; copy: BoundKernel };
  /** Free `o` with the trainer. */
  own(o: { destroy(): void }): void;
}

/** A built step: the training kernels, the forward-only kernels (evaluate) and the gradient buffers. */
export interface StepKernels {
  step: BoundKernel[];
  forward: BoundKernel[];
  grads: GradParts;
  /** The step's per-row losses [batch, 8] (resampling draws rows by them). */
  rowstats: GPUBuffer;
  /** The TopK family's entries (main B × cap, then AuxK B × auxCap), for tests. */
  entries?: { idx: GPUBuffer; val: GPUBuffer };
  /** Tied weights: rewrites W_enc as W_decᵀ (after resampling changed W_dec). */
  retie?: BoundKernel;
}

/** A GEMM (kernels/gemm, freed with the trainer) bound to fixed buffers as one step kernel. */
export function gemmKernel(
  c: Pick<StepContext, "device" | "own">,
  spec: Parameters<typeof createGemm>[1],
  b: GemmBuffers,
  label: string,
): BoundKernel {
  const g = createGemm(c.device, spec);
  c.own(g);
  return { label, encode: (e) => g.encode(e, b) };
}

/** Single-buffer gradients as the store's part lists (the one-slab builders). */
export function asParts(grads: Partial<Record<string, GPUBuffer>>): GradParts {
  return Object.fromEntries(Object.entries(grads).map(([n, b]) => [n, [b!]])) as GradParts;
}
