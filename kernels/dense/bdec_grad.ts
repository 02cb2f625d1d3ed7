/**
 * gb_dec = Σ_t dvec[row0 + t] − W_enc·gb_enc (./bdec_grad.wgsl). Slab mode: W_enc holds latents [lo, lo + S);
 * `accumulate` subtracts that slab's part from gb_dec (the first slab's pass runs without it).
 */
import { compileKernel } from "../runtime/kernel.ts";

const URL_ = new URL("./bdec_grad.wgsl", import.meta.url);

export async function createBdecGrad(
  device: GPUDevice,
  d: { B: number; D: number; S: number; lo?: number; accumulate?: boolean; row0?: number },
) {
  if (d.D > device.limits.maxComputeWorkgroupsPerDimension) throw new Error(`bdec_grad: d_in ${d.D} too large`);
  const k = await compileKernel(device, URL_, "main", {
    B: d.B,
    D: d.D,
    S: d.S,
    LO: d.lo ?? 0,
    ACCUMULATE: !!d.accumulate,
    ROW0: d.row0 ?? 0,
  });
  return (b: { dvec: GPUBuffer; W_enc: GPUBuffer; gb_enc: GPUBuffer; gb_dec: GPUBuffer }) =>
    k.bind({ dvec: b.dvec, W_enc: b.W_enc, gb_enc: b.gb_enc, gb_dec: b.gb_dec }, [d.D, 1]);
}
