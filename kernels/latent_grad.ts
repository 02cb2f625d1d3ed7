/**
 * Per-latent sparse gradients (kernels/latent_grad.wgsl): gW_dec rows, transposed gW_enc columns,
 * gb_enc and the dead-latent clock, each latent reading only the tokens where it is active.
 */
import { compileKernel } from "./kernel.ts";

const URL_ = new URL("./latent_grad.wgsl", import.meta.url);

export async function createLatentGrad(
  device: GPUDevice,
  d: { B: number; D: number; S: number; cap: number; auxCap: number },
) {
  if (d.D > 4096) throw new Error(`latent_grad: d_in ${d.D} above 4096 (32 KiB workgroup storage)`);
  const k = await compileKernel(device, URL_, "main", { B: d.B, D: d.D, S: d.S, CAP: d.cap, AUXCAP: d.auxCap });
  return (b: {
    list: GPUBuffer;
    start: GPUBuffer;
    val: GPUBuffer;
    g: GPUBuffer;
    dvec: GPUBuffer;
    xc: GPUBuffer;
    gW_dec: GPUBuffer;
    gW_encT: GPUBuffer;
    gb_enc: GPUBuffer;
    since: GPUBuffer;
  }) => k.bind([b.list, b.start, b.val, b.g, b.dvec, b.xc, b.gW_dec, b.gW_encT, b.gb_enc, b.since], d.S);
}
