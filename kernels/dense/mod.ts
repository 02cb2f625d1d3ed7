/**
 * Dense kernels: centering (x − b_dec), the dense ReLU / JumpReLU activation with its statistics and
 * backward (standard and jumprelu SAEs), the gated SAE's gate and magnitude paths, and the b_dec gradient. Float64 references: ./reference.ts.
 */
export { createCenter } from "./center.ts";
export { createDenseAct, type DenseTile } from "./dense_act.ts";
export { createGatedAct, type GatedActBuffers } from "./gated_act.ts";
export { createBdecGrad } from "./bdec_grad.ts";
export * from "./reference.ts";
