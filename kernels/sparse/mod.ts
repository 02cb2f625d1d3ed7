/**
 * Sparse kernels (TopK family): the decode from (idx, val) entries, the per-entry pre-activation
 * gradient and the per-latent weight gradients, each with a texture and a buffer path; Matryoshka
 * levels (./levels.ts) route each latent's gradient to its prefix group's rows.
 * Float64 references: ./reference.ts.
 */
export {
  createSparseDecode,
  type SparseDecodeBuffers,
  type SparseDecodeDims,
  sparseDecodePath,
} from "./sparse_decode.ts";
export { createSparseGrad, type SparseGradBuffers, type SparseGradDims } from "./sparse_grad.ts";
export { createLatentGrad, type LatentGradBuffers, type LatentGradDims } from "./latent_grad.ts";
export { blockOf, dvecRows, type LevelRows, MAX_INNER_LEVELS } from "./levels.ts";
export * from "./reference.ts";
