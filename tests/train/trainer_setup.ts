/** Shared by the trainer tests and the train bench: a trainer config with the usual optimiser settings, and relative error. */
import { assert } from "../assert.ts";
import {
  type Architecture,
  GpuTrainer,
  type Metrics,
  type ParamName,
  type SaeParams,
  type TrainerConfig,
} from "../../stages/train/trainer.ts";
import { referenceStep, type RefResult } from "../../stages/train/reference.ts";
import { getDevice } from "../../kernels/runtime/device.ts";
import { initParams } from "../../stages/train/init.ts";
import type { Rng } from "../../stages/train/rng.ts";

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

/** The GPU step's mse and loss (relative 1e-4), L0 (1e-3) and each named gradient (relative 1e-4, non-zero) against float64. */
export function assertStepMatches(
  m: Metrics,
  g: Partial<Record<ParamName, Float32Array>>,
  ref: RefResult,
  names: ParamName[],
): void {
  assert(Math.abs(m.mse - ref.mse) <= 1e-4 * ref.mse, `mse ${m.mse} vs ${ref.mse}`);
  assert(Math.abs(m.loss - ref.loss) <= 1e-4 * ref.loss, `loss ${m.loss} vs ${ref.loss}`);
  assert(Math.abs(m.l0 - ref.l0) < 1e-3, `l0 ${m.l0} vs ${ref.l0}`);
  for (const n of names) {
    const want = ref.grads[n]!;
    assert(want.some((v) => v !== 0), `${n}: reference gradient is all zero`);
    const e = relErr(g[n]!.subarray(0, want.length), want);
    assert(e < 1e-4, `${n} gradient relative error ${e}`);
  }
}

/** initParams (seed 3, decoder rows of `decoderNorm`) with random b_dec and b_enc (0.1·N(0, 1)): no zero inputs. */
export function initWithBiases(D: number, S: number, decoderNorm: number, rng: Rng, initThreshold = 0.1) {
  const init = initParams({ d_in: D, d_sae: S, seed: 3, decoderNorm, initThreshold }, new Float32Array(D));
  for (let j = 0; j < D; j++) init.b_dec[j] = 0.1 * rng.normal();
  for (let j = 0; j < S; j++) init.b_enc[j] = 0.1 * rng.normal();
  return init;
}

/** One GPU step with lr 0 on batch x: its metrics and gradients, and the float64 reference of the same step. */
export async function stepWithReference(
  cfg: TrainerConfig,
  init: SaeParams,
  x: Float32Array,
  coef: { sparsityCoef: number; auxCoef: number },
) {
  const t = await GpuTrainer.create(await getDevice(), cfg, init);
  try {
    t.step(x, { lr: 0, t: 1, ...coef });
    const m = await t.metrics();
    const g = await t.gradients();
    return { m, g, ref: referenceStep(init, x, { ...cfg, ...coef }) };
  } finally {
    t.destroy();
  }
}
