/** Latents active on at least one row of a batch (float64), per the architecture's training rule. */
import { referenceActivations } from "../../stages/train/reference.ts";
import type { Architecture, SaeParams } from "../../stages/train/trainer.ts";

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
