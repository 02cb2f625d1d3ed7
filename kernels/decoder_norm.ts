/**
 * Decoder-row kernels (kernels/decoder_norm.wgsl): row norms, removal of the gradient component
 * parallel to each row, unit-norm renormalisation, and the decoder side of the norm-scaled L1 penalty.
 */
import { compileKernel } from "./kernel.ts";

const URL_ = new URL("./decoder_norm.wgsl", import.meta.url);

export async function createDecoderNorm(device: GPUDevice, d: { D: number; S: number; B?: number }) {
  const c = { D: d.D, S: d.S, B: d.B ?? 1 };
  const [norms, project, normalize, l1] = await Promise.all(
    ["norms", "project", "normalize", "l1_grad"].map((e) => compileKernel(device, URL_, e, c)),
  );
  return (b: { W_dec: GPUBuffer; gW_dec?: GPUBuffer; wnorm?: GPUBuffer; zsum?: GPUBuffer; hyper?: GPUBuffer }) => ({
    norms: norms.bind([b.W_dec, b.gW_dec, b.wnorm], d.S),
    project: project.bind([b.W_dec, b.gW_dec], d.S),
    normalize: normalize.bind([b.W_dec, b.gW_dec], d.S),
    l1Grad: b.zsum ? l1.bind([b.W_dec, b.gW_dec, , b.zsum, b.hyper], d.S) : undefined,
  });
}
