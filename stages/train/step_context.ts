/**
 * What the step builders (./sparse_step.ts, ./dense_step.ts, ./optimizer_step.ts) share: the trainer's
 * long-lived buffers and allocators (`StepContext`), what a builder returns (`BuiltStep`), and the two
 * ways to run the encoder.
 */
import { createEncoderGemm, gemmPath } from "../../kernels/gemm/mod.ts";
import {
  type BoundKernel,
  createRowTexture,
  type RowTexture,
  rowTexturesAvailable,
} from "../../kernels/runtime/mod.ts";
import { createCenter } from "../../kernels/dense/mod.ts";
import type { ParamName, TrainerConfig } from "./trainer_config.ts";

/** The trainer's state a step builder reads, and allocators whose results the trainer frees. */
export interface StepContext {
  readonly device: GPUDevice;
  readonly cfg: TrainerConfig;
  /** TopK slots per row (k, or BatchTopK's candidate cap). */
  readonly cap: number;
  /** AuxK slots per row (0 without AuxK). */
  readonly auxCap: number;
  readonly x: GPUBuffer;
  readonly hyper: GPUBuffer;
  readonly state: GPUBuffer;
  readonly since: GPUBuffer;
  readonly metrics: GPUBuffer;
  readonly valMetrics: GPUBuffer;
  readonly params: Record<ParamName, GPUBuffer>;
  readonly m: Record<ParamName, GPUBuffer>;
  readonly v: Record<ParamName, GPUBuffer>;
  /** A zeroed f32 buffer of `n` values, freed with the trainer. */
  buf(n: number, label: string): GPUBuffer;
  /** A row texture mirroring `src` and the step's kernel that refreshes it. */
  rowTexture(rows: number, cols: number, label: string, src: GPUBuffer): { texture: RowTexture; copy: BoundKernel };
  /** Free `t` with the trainer. */
  keepTexture(t: RowTexture): void;
}

/** The kernels of one training step and of a forward-only (validation) pass, and the gradient buffers. */
export interface BuiltStep {
  steps: BoundKernel[];
  forward: BoundKernel[];
  grads: Partial<Record<ParamName, GPUBuffer>>;
}

/** x − b_dec as its own kernel, then the encoder GEMM pre = xc·W_enc + b_enc. */
export async function plainEncoder(c: StepContext, pre: GPUBuffer, xc: GPUBuffer) {
  const { device, cfg } = c;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  const center = (await createCenter(device, { B, D }))({ x: c.x, b_dec: c.params.b_dec, xc });
  const enc = createEncoderGemm(device, { M: B, K: D, N: S });
  const encoder: BoundKernel = {
    encode: (e) => enc.encode(e, { x: xc, W: c.params.W_enc, bias: c.params.b_enc, out: pre }),
  };
  return { center, encoder };
}

/**
 * The encoder GEMM with x − b_dec packed by the GEMM (its A texture = xc rows) and pre written into a
 * row texture; undefined unless the GEMM takes the texture path and both row textures exist.
 */
export function fusedEncoder(
  c: StepContext,
): { center: undefined; encoder: BoundKernel; xcTex: RowTexture; preTex: RowTexture } | undefined {
  const { device, cfg } = c;
  const { batch: B, d_in: D, d_sae: S } = cfg;
  if (!rowTexturesAvailable(device, D) || !rowTexturesAvailable(device, S)) return undefined;
  const dims = { M: B, K: D, N: S };
  if (gemmPath(device, { ...dims, bias: true, subtractInput: true }) !== "texture") return undefined;
  const preTex = createRowTexture(device, B, S, "pre rows");
  const enc = createEncoderGemm(device, dims, { subtractInput: true, outTexture: preTex });
  if (!enc.packedA) {
    enc.destroy();
    preTex.destroy();
    return undefined;
  }
  c.keepTexture(preTex);
  const encoder: BoundKernel = {
    label: "encoder gemm (fused center, pre rows)",
    encode: (e) => enc.encode(e, { x: c.x, W: c.params.W_enc, bias: c.params.b_enc, sub: c.params.b_dec }),
  };
  return { center: undefined, encoder, xcTex: enc.packedA, preTex };
}
