/**
 * Loss kernels: the reconstruction (and AuxK) loss with its gradient per row, and the per-step metrics
 * reduction. Float64 references: ./reference.ts.
 */
export { createReconLoss } from "./recon_loss.ts";
export { createMetrics, METRIC_NAMES } from "./metrics.ts";
export * from "./reference.ts";
