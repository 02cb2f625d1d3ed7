/**
 * Adam on W_dec fused with the decoder-row projection and renormalisation (./decoder_adam.wgsl):
 * one pass over the decoder per step instead of project → Adam → normalize (decoder_norm.ts, adam.ts;
 * references: decoderNormReference, adamReference).
 */
import { compileKernel } from "../runtime/kernel.ts";

const URL_ = new URL("./decoder_adam.wgsl", import.meta.url);

export async function createDecoderAdam(
  device: GPUDevice,
  d: { D: number; S: number; project: boolean; normalize: boolean; wg?: number },
) {
  const w = d.D % 4 === 0 ? 4 : 1; // floats per element
  const consts = { D: d.D / w, S: d.S, PROJECT: d.project, NORMALIZE: d.normalize, WG: d.wg ?? 8 };
  const k = await compileKernel(device, URL_, "main", consts, { V4: w === 4 ? 1 : 0 });
  return (b: { gW_dec: GPUBuffer; hyper: GPUBuffer; state: GPUBuffer; W_dec: GPUBuffer; m: GPUBuffer; v: GPUBuffer }) =>
    k.bind({ gW_dec: b.gW_dec, hyper: b.hyper, state: b.state, W_dec: b.W_dec, m: b.m, v: b.v }, d.S);
}
