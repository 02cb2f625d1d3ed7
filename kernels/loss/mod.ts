/**
 * Loss kernels: the reconstruction (and AuxK) loss with its gradient per row, the Matryoshka inner levels' losses, and the per-step metrics
 * reduction. Float64 references: ./reference.ts.
 */
export { createReconLoss } from "./recon_loss.ts";
export { createMetrics, METRIC_NAMES, type MetricsDims } from "./metrics.ts";
export { createMatryoshkaLoss } from "./matryoshka_loss.ts";
export * from "./reference.ts";
