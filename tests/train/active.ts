/** Latents active on at least one row of a batch (float64), per the architecture's training rule. */
import { referenceActivations, referenceStep } from "../../stages/train/reference.ts";
import { type Architecture, GpuTrainer, type SaeParams, type TrainerConfig } from "../../stages/train/trainer.ts";
import { getDevice } from "../../kernels/runtime/device.ts";

export function activeLatents(
  p: SaeParams,
  x: Float32Array,
  c: { architecture: Architecture; d_in: number; d_sae: number; k: number; batch: number; batchTopkCap: number },
): boolean[] {
  const z = referenceActivations(p, x, c);
  const out = new Array(c.d_sae).fill(false);
  for (let j = 0; j < z.length; j++) if (z[j] > 0) out[j % c.d_sae] = true;
  return out;
}

/**
 * Two GPU steps with lr 0 (x, then x2): the second step's metrics, gradients and plan, and its float64
 * reference, in which the latents silent on x are dead (with a dead window of one batch AuxK runs).
 */
export async function secondStepWithReference(
  cfg: TrainerConfig,
  init: SaeParams,
  x: Float32Array,
  x2: Float32Array,
  coef: { sparsityCoef: number; auxCoef: number },
) {
  const t = await GpuTrainer.create(await getDevice(), cfg, init);
  try {
    const h = { lr: 0, t: 1, ...coef };
    t.step(x, h);
    t.step(x2, h);
    const m = await t.metrics();
    const g = await t.gradients();
    const dead = activeLatents(init, x, cfg).map((a) => !a);
    return { m, g, plan: t.plan, ref: referenceStep(init, x2, { ...cfg, dead, ...coef }) };
  } finally {
    t.destroy();
  }
}
