/**
 * Adam on W_dec fused with the decoder-row projection and renormalisation (kernels/decoder_adam.wgsl):
 * one pass over the decoder per step instead of project → Adam → normalize (decoder_norm.ts, adam.ts;
 * references: decoderNormReference, adamReference).
 */
import { bindModule, compileTemplate } from "./row_texture.ts";

const URL_ = new URL("./decoder_adam.wgsl", import.meta.url);

export async function createDecoderAdam(
  device: GPUDevice,
  d: { D: number; S: number; project: boolean; normalize: boolean; wg?: number },
) {
  const w = d.D % 4 === 0 ? 4 : 1; // floats per element
  const module = await compileTemplate(device, URL_, { V4: w === 4 ? 1 : 0 });
  const consts = { D: d.D / w, S: d.S, PROJECT: d.project, NORMALIZE: d.normalize, WG: d.wg ?? 8 };
  return (b: { gW_dec: GPUBuffer; hyper: GPUBuffer; state: GPUBuffer; W_dec: GPUBuffer; m: GPUBuffer; v: GPUBuffer }) =>
    bindModule(device, module, "main", consts, [b.gW_dec, b.hyper, b.state, b.W_dec, b.m, b.v], d.S);
}
