/**
 * Optimizer kernels: global gradient-norm clipping, Adam, the decoder-row kernels (norms, projection,
 * renormalisation, L1 penalty gradient), Adam fused with them for W_dec, dead-latent resampling and tied weights. Float64 references:
 * ./reference.ts. Shared WGSL: adam_update.wgsl.
 */
export { createGradNorm } from "./grad_norm.ts";
export { createAdam } from "./adam.ts";
export { createDecoderNorm } from "./decoder_norm.ts";
export { createDecoderAdam } from "./decoder_adam.ts";
export { createResample, type ResampleBuffers } from "./resample.ts";
export { createTie } from "./tie.ts";
export * from "./reference.ts";
