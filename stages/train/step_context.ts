/** What the step builders (./sparse_path.ts, ./dense_path.ts, ./optimizer_path.ts) share with the trainer. */
import type { BoundKernel, RowTexture } from "../../kernels/runtime/mod.ts";
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
  /** The TopK family's entries (main B × cap, then AuxK B × auxCap), for tests. */
  entries?: { idx: GPUBuffer; val: GPUBuffer };
}
