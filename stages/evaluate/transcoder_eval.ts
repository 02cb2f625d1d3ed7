/**
 * What evaluate does differently for a transcoder (an SAE that reads hook_name and reconstructs
 * hook_name_out, SAELens cfg fields): the reconstruction metrics compare ŷ = decode(encode(x)) (+ x·W_skipᵀ)
 * with the TARGET rows y (the extract object's `target/`, paired row by row with x), the downstream run
 * replaces the target hook, absorption reads the latents' encoder directions (the decoder writes the other
 * hook), and enc_dec_cosine is undefined (NaN: the two sides live in different spaces).
 */
import { join } from "node:path";
import { type ActivationMeta, readActivationMeta } from "../io/activations.ts";
import { isTranscoder, outputWidth, type SaeConfig } from "../train/sae_cpu.ts";
import type { WeightStats } from "./latent_stats.ts";

/** The target activations of a transcoder (null for a plain SAE), checked against its cfg. */
export async function openTargetActs(
  extractDir: string,
  acts: ActivationMeta,
  cfg: SaeConfig,
): Promise<{ dir: string; meta: ActivationMeta } | null> {
  if (!isTranscoder(cfg)) return null;
  if (typeof acts.target_dir !== "string") {
    throw new Error(
      `evaluate: the ${cfg.architecture} needs the extract object's target activations (train.target_hook)`,
    );
  }
  const dir = join(extractDir, acts.target_dir);
  const meta = await readActivationMeta(dir);
  if (meta.d_in !== outputWidth(cfg) || meta.hook_name !== cfg.hook_name_out) {
    throw new Error(
      `evaluate: the target activations are ${meta.hook_name} (d ${meta.d_in}); the ${cfg.architecture} writes ${cfg.hook_name_out} (d_out ${cfg.d_out})`,
    );
  }
  return { dir, meta };
}

/** decoder_norm of W_dec [d_sae, d_out] rows; enc_dec_cosine NaN (undefined across two hooks). */
export function transcoderWeightStats(wDec: ArrayLike<number>, dSae: number, dOut: number): WeightStats {
  const decoderNorm = new Float64Array(dSae);
  for (let l = 0; l < dSae; l++) {
    let s = 0;
    for (let o = 0; o < dOut; o++) s += wDec[l * dOut + o] ** 2;
    decoderNorm[l] = Math.sqrt(s);
  }
  return { decoderNorm, encDecCosine: new Float64Array(dSae).fill(NaN) };
}

/** The latents' encoder directions W_encᵀ [d_sae, d_in] (W_enc is [d_in, d_sae]). */
export function encoderDirections(wEnc: ArrayLike<number>, dIn: number, dSae: number): Float64Array {
  const out = new Float64Array(dSae * dIn);
  for (let d = 0; d < dIn; d++) for (let l = 0; l < dSae; l++) out[l * dIn + d] = wEnc[d * dSae + l];
  return out;
}
