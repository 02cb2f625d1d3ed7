/**
 * The trainer's config checks: against itself, the device's limits and the slab plan (./slab_plan.ts);
 * every refusal is one line naming the setting to change.
 */
import { isFallbackDevice } from "../../kernels/runtime/mod.ts";
import { checkMemory, planSlabs, type SlabPlan } from "./slab_plan.ts";
import { selectionCaps } from "./sparse_path.ts";
import { streamsGradients } from "./optimizer_path.ts";
import { checkTranscoder } from "./arch_transcoder.ts";
import { checkMatryoshkaRows, checkMatryoshkaWidths } from "./arch_matryoshka.ts";
import { isSparse, type TrainerConfig } from "./trainer_types.ts";

/** Check a config against itself and the device and plan its slabs; one-line errors. */
export function checkConfig(c: TrainerConfig, device: GPUDevice): SlabPlan {
  if (c.d_out !== undefined) checkTranscoder(c);
  if (c.tiedWeights && c.architecture === "gated") {
    throw new Error(
      "train: tied_weights is not supported for gated (W_enc also feeds the magnitude path via r_mag; tying it to the decoder is not the gated SAE)",
    );
  }
  if (c.architecture === "matryoshka_batchtopk") checkMatryoshkaWidths(c.matryoshkaWidths ?? [c.d_sae], c.k, c.d_sae);
  if (c.k < 1 || c.k > c.d_sae) throw new Error(`train: k = ${c.k} must be between 1 and d_sae (${c.d_sae})`);
  if (c.batch < 1 || c.batch > device.limits.maxComputeWorkgroupsPerDimension) {
    throw new Error(`train: batch_size ${c.batch} must be in 1..${device.limits.maxComputeWorkgroupsPerDimension}`);
  }
  if (c.d_in > device.limits.maxComputeWorkgroupsPerDimension) throw new Error(`train: d_in ${c.d_in} is too large`);
  const sparse = isSparse(c.architecture);
  const { cap, auxCap } = sparse ? selectionCaps(c) : { cap: 0, auxCap: 0 };
  // dense tiles: gated stacks two latent rows per batch row; transcoders stay one piece
  const denseStack = sparse || c.d_out !== undefined ? undefined : c.architecture === "gated" ? 2 : 1;
  const plan = planSlabs(
    {
      d_in: c.d_in,
      d_out: c.d_out,
      d_sae: c.d_sae,
      batch: c.batch,
      cap,
      auxCap,
      sparse,
      denseStack,
      streamedGrads: streamsGradients(c),
      bindingLimit: c.bindingLimit,
    },
    device.limits.maxStorageBufferBindingSize,
  );
  checkMatryoshkaRows(c, auxCap, plan.bindingBytes);
  checkMemory(plan.memory, isFallbackDevice(device));
  return plan;
}
