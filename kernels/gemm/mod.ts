/**
 * Dense f32 GEMMs on WebGPU for the SAE trainer (row-major storage buffers):
 *
 *   C[M,N] = (accumulate ? C : 0) + alpha · opA[M,K] · opB[K,N] + bias[N]
 *
 * opA = A stored [M,K], or Aᵀ with `transA` (A stored [K,M]); opB = B stored [K,N], or Bᵀ with
 * `transB` (B stored [N,K]). `subtractInput` uses opA[m,k] - sub[k] (SAELens apply_b_dec_to_input).
 * Trainer uses: encoder x·W_enc + b_enc (plain), dense decode z·W_dec, dz = dx̂·W_decᵀ (transB),
 * dW_dec = zᵀ·dx̂ and dW_enc = xᵀ·dpre (transA).
 *
 * Two paths, same results (within f32 rounding):
 * - texture (default): each call packs A and B into zero-padded rgba32float textures (a buffer copy when
 *   the buffer has COPY_SRC usage and rows are 256-byte multiples, else pack_tex.wgsl) and runs
 *   gemm_tex.wgsl. Needs the WGSL feature readonly_and_readwrite_storage_textures and texture sides ≤
 *   device.limits.maxTextureDimension2D (8192 by default: e.g. M ≤ 8192 rows for a plain A; request a
 *   higher limit on the device for more).
 *   Each instance owns its two padded textures (memory ≈ size of A + B): create one per shape and
 *   reuse it every step. Give operand buffers COPY_SRC usage so aligned ones are copied, not packed.
 * - buffer: gemm_buffer.wgsl reads the buffers directly; ~20x slower on lavapipe, used when the
 *   texture path is unavailable or does not fit.
 *
 * Limit on both: every operand binding must fit `device.limits.maxStorageBufferBindingSize` (128 MiB
 * on lavapipe and the WebGPU default: 4096×8192 f32 fits exactly); larger operands throw at creation.
 */
import { checkBinding } from "../runtime/bindings.ts";
import type { RowTexture } from "../runtime/row_texture.ts";
import { bufferGemm } from "./buffer_path.ts";
import { textureFits, textureGemm } from "./texture_path.ts";
import { checkDim, type Gemm, type GemmDims, type GemmSpec, type Owned } from "./spec.ts";

export type { Gemm, GemmBuffers, GemmDims, GemmSpec } from "./spec.ts";
export { CPU_TILE, type GemmTile, gemmTile, GPU_TILE } from "./tile.ts";

/** The general GEMM (see the module doc). Pipelines are cached per layout; reuse the result across steps. */
export function createGemm(device: GPUDevice, spec: GemmSpec): Gemm {
  const { M, K, N } = spec;
  checkDim("M", M);
  checkDim("K", K);
  checkDim("N", N);
  for (const [name, floats] of [["A", M * K], ["B", K * N], ["C", M * N]] as const) {
    checkBinding(device, floats * 4, `gemm: ${name}`, "split the operation");
  }
  const useTexture = gemmPath(device, spec) === "texture";
  const t = spec.outTexture;
  if (t && (!useTexture || N % 4 !== 0 || spec.accumulate || t.rows !== M || t.cols !== N)) {
    throw new Error(
      `gemm: outTexture needs the texture path, N % 4 == 0, no accumulate and a ${M} × ${N} texture (got ${t.rows} × ${t.cols})`,
    );
  }
  const owned: Owned = [];
  if (!useTexture) {
    return {
      flops: 2 * M * K * N,
      path: "buffer",
      encode: bufferGemm(device, spec, owned),
      destroy: () => owned.forEach((o) => o.destroy()),
    };
  }
  const { encode, packedA, tile } = textureGemm(device, spec, owned);
  return {
    flops: 2 * M * K * N,
    path: "texture",
    tile,
    encode,
    packedA,
    destroy: () => owned.forEach((o) => o.destroy()),
  };
}

/** The encoder's buffers: out[M,N] = x[M,K]·W[K,N] + bias[N] (x - sub[K] first with subtractInput). */
export interface EncoderGemmBuffers {
  x: GPUBuffer;
  W: GPUBuffer;
  bias: GPUBuffer;
  /** Unused (may be omitted) with `outTexture`. */
  out?: GPUBuffer;
  sub?: GPUBuffer;
}

export interface EncoderGemm extends Omit<Gemm, "encode"> {
  /** Record the work (its own compute passes) into a command encoder. Buffers: storage, f32 row-major. */
  encode(enc: GPUCommandEncoder, b: EncoderGemmBuffers): void;
}

/** The SAE encoder pre-activation: out = (x - sub)·W + bias; M = tokens, K = d_in, N = d_sae. */
export function createEncoderGemm(
  device: GPUDevice,
  dims: GemmDims,
  opts?: { subtractInput?: boolean; path?: GemmSpec["path"]; outTexture?: RowTexture },
): EncoderGemm {
  const gemm = createGemm(device, { ...dims, bias: true, ...opts });
  return {
    flops: gemm.flops,
    path: gemm.path,
    packedA: gemm.packedA,
    destroy: gemm.destroy,
    encode(enc, b) {
      gemm.encode(enc, { a: b.x, b: b.W, bias: b.bias, sub: b.sub, out: b.out });
    },
  };
}

/** The path `createGemm(device, spec)` takes (throws, as createGemm does, when a forced path cannot run). */
export function gemmPath(device: GPUDevice, spec: GemmSpec): "texture" | "buffer" {
  const fits = textureFits(device, spec);
  const want = spec.path ?? "auto";
  if (want === "texture" && !fits) {
    throw new Error(
      `gemm: texture path unavailable for ${spec.M}×${spec.K}×${spec.N} (needs readonly_and_readwrite_storage_textures and sides ≤ maxTextureDimension2D ${device.limits.maxTextureDimension2D})`,
    );
  }
  return want === "texture" || (want === "auto" && fits) ? "texture" : "buffer";
}
