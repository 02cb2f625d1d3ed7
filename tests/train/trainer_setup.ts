/** Shared by the trainer tests and the train bench: a trainer config with the usual optimiser settings, and relative error. */
import type { Architecture, TrainerConfig } from "../../stages/train/trainer.ts";

/** A TrainerConfig with Adam (0.9, 0.999, 1e-8), no clipping and the SAELens-like defaults; `over` wins. */
export function trainerConfig(
  architecture: Architecture,
  dims: { d_in: number; d_sae: number; k: number; batch: number },
  over: Partial<TrainerConfig> = {},
): TrainerConfig {
  return {
    architecture,
    ...dims,
    beta1: 0.9,
    beta2: 0.999,
    eps: 1e-8,
    clipGradNorm: 0,
    normalizeDecoder: true,
    deadWindow: 200000,
    auxK: dims.d_in / 2,
    bandwidth: 0.05,
    batchTopkCap: 4,
    thresholdDecay: 0.99,
    ...over,
  };
}

/** ‖a − b‖ / ‖b‖ (b's norm floored at 1e-15). */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let j = 0; j < b.length; j++) {
    num += (a[j] - b[j]) ** 2;
    den += b[j] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-30));
}
