/**
 * Selection kernels: per-row TopK (and the AuxK TopK over dead latents), BatchTopK over the batch, and
 * the token-major → latent-major lists (CSC) the sparse gradients walk. Float64 references: ./reference.ts.
 * Shared WGSL: float_key.wgsl, radix_boundary.wgsl, topk_select.wgsl, workgroup_scan.wgsl.
 */
export { createTopk, type TopkBuffers, type TopkDims } from "./topk.ts";
export { createBatchTopk } from "./batchtopk.ts";
export { createCsc, type CscDims } from "./csc.ts";
export * from "./reference.ts";
export { createSlabMerge, type SlabMergeBuffers, type SlabMergeDims } from "./slab_merge.ts";
